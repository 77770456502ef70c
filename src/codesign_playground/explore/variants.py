"""Model variants: the network for one setting of the model knobs.

* ``width``, ``resolution``, ``seq_len``: the zoo's own knobs (or the digits CNN's width);
* ``bits`` / ``weight_bits`` / ``act_bits`` and per-group bits: per-op precision
  (4 -> int4, 8 -> int8, 16 -> int16, 32 -> fp32); bytes follow, MACs do not change;
* ``prune``: structured channel pruning with one ratio ``p`` for every layer but the
  classifier (:func:`prune_channels`): each pruned layer keeps ``ceil((1 - p) C)`` of its output
  channels, so a GEMM loses filters (``N``) *and* the next layer loses input channels (``K``)
  and MACs fall roughly as ``(1 - p)^2`` — not linearly.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from codesign_playground.errors import InputError, UnsupportedError
from codesign_playground.explore.space import ModelSpace, Scalar, bits_to_precision
from codesign_playground.workload import ops
from codesign_playground.workload.ir import Gemm, Network, Op, Precision, TensorSpec
from codesign_playground.workload.load import load_workload

__all__ = [
    "DIGITS_CNN",
    "build_variant",
    "digits_cnn_channels",
    "digits_cnn_network",
    "prune_channels",
]

DIGITS_CNN = "digits_cnn"


def digits_cnn_channels(width: float) -> tuple[int, int]:
    """Channels of the digits CNN's two conv layers at width multiplier ``width``."""
    return max(1, round(8 * width)), max(1, round(16 * width))


def digits_cnn_network(
    width: float = 1.0, *, batch: int = 1, precision: Precision = "fp32"
) -> Network:
    """The digits CNN (8x8 grey images, 10 classes) built from the op constructors.

    conv3x3(1->c1)+ReLU, conv3x3(c1->c2)+ReLU, maxpool 2x2, flatten, dense(c2*16 -> 10): the
    same network as :func:`codesign_playground.explore.digits.DigitsCNN`.
    """
    c1, c2 = digits_cnn_channels(width)
    x = TensorSpec("x", (batch, 1, 8, 8))
    conv1 = ops.conv("conv1", x, (c1, 1, 3, 3), pads=(1, 1, 1, 1), bias=True, precision=precision)
    relu1 = ops.activation("relu1", "Relu", conv1.outputs[0], precision=precision)
    conv2 = ops.conv(
        "conv2", relu1.outputs[0], (c2, c1, 3, 3), pads=(1, 1, 1, 1), bias=True, precision=precision
    )
    relu2 = ops.activation("relu2", "Relu", conv2.outputs[0], precision=precision)
    pool = ops.pool(
        "pool", "MaxPool", relu2.outputs[0], kernel=(2, 2), strides=(2, 2), precision=precision
    )
    flat_t = TensorSpec("flat", (batch, c2 * 16))
    flat = ops.shape_op("flatten", "Flatten", [pool.outputs[0]], [flat_t], copies=False)
    fc = ops.gemm("fc", flat_t, 10, precision=precision)
    net_ops = (
        conv1,
        relu1,
        conv2,
        relu2,
        pool,
        replace(flat, weight_precision=precision, act_precision=precision),
        fc,
    )
    return Network(
        name=f"digits_cnn_w{width:g}",
        ops=net_ops,
        inputs=(x,),
        outputs=fc.outputs,
        source="codesign_playground.explore.variants.digits_cnn_network",
    )


# ----------------------------------------------------------------------------- pruning
def _scale_dim(shape: tuple[int, ...], axis: int, keep: float) -> tuple[int, ...]:
    if len(shape) <= axis or keep >= 1.0:
        return shape
    s = list(shape)
    s[axis] = max(1, math.ceil(s[axis] * keep))
    return tuple(s)


def _scale_tensor(t: TensorSpec, keep: float) -> TensorSpec:
    return replace(t, shape=_scale_dim(t.shape, 1, keep))


def prune_channels(net: Network, ratio: float) -> Network:
    """Structured channel pruning of ``net`` with one ratio for every layer but the last.

    Every conv/dense layer except the last GEMM layer (the classifier) keeps
    ``ceil((1 - ratio) F)`` of its ``F`` output channels; depthwise layers follow their input.
    A layer's GEMM loses filters (``N``) and, when its input was pruned, input channels
    (``K``); activations, biases and normalization parameters shrink with the channels. Works
    on CNN-style networks (activations of rank 2 or 4, channel axis 1).
    """
    if ratio <= 0:
        return net
    if not 0 < ratio < 1:
        raise InputError(f"model.prune: {ratio!r} must be a ratio in [0, 1)")
    for op in net.ops:
        for t in (*op.inputs, *op.outputs):
            if len(t.shape) not in (2, 4) and op.kind != "shape":
                raise UnsupportedError(
                    f"model.prune: channel pruning is modelled for CNNs (rank-2/4 activations); "
                    f"{net.name} op {op.name!r} has a rank-{len(t.shape)} tensor; drop prune"
                )
        if op.kind in ("matmul", "attention", "embedding"):
            raise UnsupportedError(
                f"model.prune: channel pruning is modelled for CNNs; {net.name} has a "
                f"{op.kind} op ({op.name!r}); drop prune"
            )
    keep_p = 1.0 - ratio
    weighted = [i for i, o in enumerate(net.ops) if o.gemms and o.weights]
    last = weighted[-1] if weighted else -1
    keep: dict[str, float] = {t.name: 1.0 for t in net.inputs}
    new_ops: list[Op] = []
    for i, op in enumerate(net.ops):
        in_keep = max((keep.get(t.name, 1.0) for t in op.inputs), default=1.0)
        if op.gemms and op.weights:
            depthwise = bool(op.attrs.get("depthwise"))
            out_keep = in_keep if depthwise else (1.0 if i == last else keep_p)
            gemms = []
            for g in op.gemms:
                if depthwise:
                    gemms.append(replace(g, count=max(1, math.ceil(g.count * in_keep))))
                else:
                    gemms.append(
                        Gemm(
                            g.count,
                            g.m,
                            max(1, math.ceil(g.n * out_keep)),
                            max(1, math.ceil(g.k * in_keep)),
                        )
                    )
            weights = []
            for w in op.weights:
                shape = _scale_dim(w.shape, 0, out_keep)
                if len(shape) >= 2 and not depthwise:
                    shape = _scale_dim(shape, 1, in_keep)
                weights.append(replace(w, shape=shape))
            macs = sum(g.macs for g in gemms)
            new = replace(
                op,
                gemms=tuple(gemms),
                macs=macs,
                flops=math.ceil(op.flops * out_keep),
                weights=tuple(weights),
                inputs=tuple(_scale_tensor(t, keep.get(t.name, 1.0)) for t in op.inputs),
                outputs=tuple(_scale_tensor(t, out_keep) for t in op.outputs),
            )
        else:
            out_keep = in_keep
            new = replace(
                op,
                flops=math.ceil(op.flops * out_keep),
                weights=tuple(
                    replace(w, shape=_scale_dim(w.shape, 0, out_keep)) for w in op.weights
                ),
                buffers=tuple(
                    replace(b, shape=_scale_dim(b.shape, 0, out_keep)) for b in op.buffers
                ),
                inputs=tuple(_scale_tensor(t, keep.get(t.name, 1.0)) for t in op.inputs),
                outputs=tuple(_scale_tensor(t, out_keep) for t in op.outputs),
            )
        for t in op.outputs:
            keep[t.name] = out_keep
        new_ops.append(new)
    return replace(net, ops=tuple(new_ops), name=f"{net.name}_pruned{ratio:g}")


# ----------------------------------------------------------------------------- variants
def _match(patterns: list[str], name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def build_variant(
    model: ModelSpace,
    knobs: Mapping[str, Scalar],
    *,
    default_precision: Precision,
    base_dir: Path | None = None,
) -> Network:
    """The network for the model knobs in ``knobs`` (flat knob names -> values).

    ``default_precision`` applies where no bit width is given (the hardware datapath's).
    """
    width = knobs.get("width")
    resolution = knobs.get("resolution")
    seq_len = knobs.get("seq_len")
    bits = knobs.get("bits")
    w_bits = knobs.get("weight_bits", bits)
    a_bits = knobs.get("act_bits", bits)
    w_prec = default_precision if w_bits is None else bits_to_precision(w_bits, "model.weight_bits")
    a_prec = default_precision if a_bits is None else bits_to_precision(a_bits, "model.act_bits")
    if model.name == DIGITS_CNN:
        if resolution is not None or seq_len is not None:
            raise InputError("model.resolution: digits_cnn takes only width, bits and prune")
        net = digits_cnn_network(
            1.0 if width is None else float(width), batch=model.batch, precision=a_prec
        )
    else:
        ref: str | Path = model.name
        if base_dir is not None and ("/" in model.name or Path(model.name).suffix):
            candidate = base_dir / model.name
            if candidate.exists():
                ref = candidate
        net = load_workload(
            ref,
            batch=model.batch,
            precision=a_prec,
            dims=model.dims,
            allow_unresolved=model.allow_unresolved,
            resolution=None if resolution is None else int(resolution),
            seq_len=None if seq_len is None else int(seq_len),
            width=None if width is None else float(width),
        )
    net = net.with_precision(weights=w_prec, activations=a_prec)
    for g in model.groups:
        names = [o.name for o in net.ops if _match(g.layers, o.name)]
        if not names:
            raise InputError(
                f"model.groups.{g.name}.layers: no op of {net.name} matches {g.layers}; "
                f"use op names such as {net.ops[0].name!r} (see `codesign profile`)"
            )
        gw = knobs.get(f"{g.name}.weight_bits")
        ga = knobs.get(f"{g.name}.act_bits")
        net = net.with_precision(
            weights=None if gw is None else bits_to_precision(gw, f"model.groups.{g.name}"),
            activations=None if ga is None else bits_to_precision(ga, f"model.groups.{g.name}"),
            layers=names,
        )
    prune = knobs.get("prune")
    if prune is not None and float(prune) > 0:
        net = prune_channels(net, float(prune))
    return net
