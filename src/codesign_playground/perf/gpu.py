"""Whole networks on a GPU: kernels from ops (fusion rules), GPU time per kernel, launch mode.

A network runs as a sequence of kernels. Each op of the IR becomes one kernel priced by
``perf/gpu_kernels.py`` (GPU time of that kernel in a stream, calibrated on CUDA-graph
replays), except where a framework fuses ops (``FUSION_RULES``, documented in
``docs/models.md``, "GPU model"):

- ``attention``: ``matmul(Q, K^T)`` -> scale / mask -> softmax -> ``matmul(P, V)`` is one
  scaled-dot-product-attention kernel (PyTorch SDPA / FlashAttention), prefill or decode;
- a view (a ``shape`` op that copies nothing) launches no kernel;
- an exported linear layer's bias ``Add`` runs in its GEMM's epilogue and an exported exact
  GELU (``Div, Erf, Add, Mul, Mul``) is one kernel, as PyTorch runs them;
- ``compiled`` policy only (TensorRT, torch.compile): a convolution or GEMM absorbs the
  batch norm, activation and residual add that follow it (epilogue fusion), a norm absorbs
  its activation, and a chain of elementwise ops is one kernel.

The default policy, ``framework``, is PyTorch eager graph-captured (what the dev set
``models-dev.json`` measures): one kernel per op besides the two first rules, and a
convolution's bias is a kernel of its own (cuDNN convolutions carry no bias; a linear
layer's bias is in the cuBLAS epilogue); an fp16/bf16 batch norm is three kernels
(PyTorch's native path, cuDNN only takes fp32 weights) and max pooling writes int64
indices.

Launch: ``graph`` (default) is GPU time only, as CUDA graphs, TensorRT or vLLM run;
``eager`` adds an eager framework's per-kernel host cost (fitted from ``eager_ms -
graph_ms`` of single kernels): the GPU waits when a kernel is shorter than its launch.

TF32: ``None`` is PyTorch's default (cuDNN convolutions in TF32, matmuls in fp32),
``True``/``False`` turns both on/off. Only Hopper (H200) is calibrated; other GPUs take
the same fractions over their own published SMs, peaks, bandwidth and L2.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from codesign_playground.errors import InputError
from codesign_playground.hardware.spec import HardwareSpec
from codesign_playground.perf.gpu_kernels import (
    DTYPE_BYTES,
    GpuFacts,
    GpuParams,
    attention_s,
    conv_s,
    gemm_s,
    gpu_facts,
    load_calibration,
    memory_op_s,
    memory_s,
)
from codesign_playground.perf.roofline import RooflineResult
from codesign_playground.perf.timing import Timing
from codesign_playground.workload.arrays import LayerArrays
from codesign_playground.workload.ir import Network, Op

__all__ = [
    "FUSION_POLICIES",
    "FUSION_RULES",
    "LAUNCH_MODES",
    "GpuKernels",
    "GpuParams",
    "gpu_kernels",
    "gpu_timing",
    "load_calibration",
    "parse_launch",
    "parse_tf32",
    "timing_from_kernels",
]

FloatArray = npt.NDArray[np.float64]
LAUNCH_MODES: tuple[str, ...] = ("graph", "eager")
FUSION_POLICIES: tuple[str, ...] = ("framework", "compiled")
FUSION_RULES: Mapping[str, str] = {
    "attention": "matmul(Q,K^T) [scale, mask] softmax matmul(P,V) -> one SDPA kernel",
    "view": "a shape op that copies nothing launches no kernel",
    "epilogue": "compiled only: conv/GEMM + batch norm + activation + residual add -> one kernel",
    "norm_act": "compiled only: norm + activation -> one kernel",
    "elementwise_chain": "compiled only: consecutive elementwise ops -> one kernel",
}

#: Activations that cost a transcendental per element (the ``gelu`` kernel family); the
#: rest (ReLU, ReLU6, clip) run at the ``add`` family's cost.
_TRANSCENDENTAL = frozenset(
    {"gelu", "silu", "sigmoid", "tanh", "erf", "cos", "sin", "exp", "log", "hardswish",
     "swish", "mish", "softplus", "elu", "selu", "hardsigmoid", "sqrt", "rsqrt", "pow"}
)  # fmt: skip
#: Normalizations over rows (statistics computed in the kernel) are priced as the measured
#: layer-norm kernel; batch norm in eval mode is a per-channel scale and shift: elementwise.
_ROW_NORMS = (
    "layernorm",
    "rmsnorm",
    "groupnorm",
    "instancenorm",
    "layernormalization",
    "rmsnormalization",
    "groupnormalization",
    "instancenormalization",
)


def parse_launch(launch: str) -> str:
    """``graph`` or ``eager``, or a one-line error naming the field."""
    if launch not in LAUNCH_MODES:
        raise InputError(f"launch: unknown execution mode {launch!r}; use graph or eager")
    return launch


def parse_tf32(tf32: bool | str | None) -> bool | None:
    """``None`` (PyTorch default), or on/off as a bool; a one-line error otherwise."""
    if tf32 is None or isinstance(tf32, bool):
        return tf32
    v = str(tf32).lower()
    if v in ("on", "true", "1"):
        return True
    if v in ("off", "false", "0"):
        return False
    raise InputError(f"tf32: unknown value {tf32!r}; use on or off")


@dataclass(frozen=True)
class GpuKernels:
    """Per-op GPU seconds and what each op became: ``kernel`` the kernel family it was
    priced as (``fused`` when absorbed by a neighbour, ``none`` for a view), ``launches``
    1 for an op that starts a kernel, its compute-only and memory-only seconds, and the
    achieved fraction of tensor/CUDA-core peak and of DRAM bandwidth (for the power model)."""

    gpu_s: FloatArray
    kernel: tuple[str, ...]
    launches: FloatArray
    compute_s: FloatArray
    memory_s: FloatArray
    flops: FloatArray
    peak_ops: FloatArray
    dram_bytes: FloatArray


def _dtype(op: Op, kind: str, tf32: bool | None, gpu: GpuFacts) -> str:
    prec = str(op.act_precision)
    if prec != "fp32" or "tf32" not in gpu.peak_ops:  # no tensor cores for fp32 data
        return prec
    if kind == "conv":
        return "fp32" if tf32 is False else "tf32"
    return "tf32" if tf32 is True else "fp32"


def _mem_dtype(op: Op) -> str:
    dt = str(op.act_precision)
    return dt if dt in DTYPE_BYTES else "fp32"


def _mem_family(op: Op) -> str:
    t = op.op_type.lower()
    if op.kind == "softmax":
        return "softmax"
    if op.kind == "norm" and "batch" not in t and (t in _ROW_NORMS or "norm" in t):
        return "norm"
    if op.kind == "activation" and t in _TRANSCENDENTAL:
        return "gelu"
    if op.kind == "elementwise" and t in _TRANSCENDENTAL:
        return "gelu"
    return "add"


def _eager_bn_extra_kernels(op: Op) -> int:
    """Kernels besides the elementwise one that PyTorch launches for an inference batch
    norm. ``_select_batch_norm_backend`` runs cuDNN (one kernel) only for fp32 weights
    (fp16 input with fp32 weights too, never bf16); a network cast to fp16/bf16 takes the
    native path, ``batch_norm_cuda_out``: ``save_mean.copy_(running_mean)`` and
    ``batch_norm_calc_invstd`` before ``batch_norm_elementwise``."""
    if op.kind != "norm" or "batch" not in op.op_type.lower() or not op.inputs:
        return 0
    if len(op.inputs[0].shape) < 3 or str(op.act_precision) not in ("fp16", "bf16"):
        return 0
    return 2


def _attention_chains(ops: Sequence[Op]) -> dict[int, tuple[int, int, bool]]:
    """``{pv index: (qk index, first index, causal)}`` for every matmul-softmax-matmul chain."""
    out: dict[int, tuple[int, int, bool]] = {}
    passable = ("elementwise", "shape", "activation")
    for s, op in enumerate(ops):
        if op.kind != "softmax":
            continue
        qk = next(
            (
                i
                for i in range(s - 1, max(s - 5, -1), -1)
                if ops[i].kind in ("matmul", "attention") and ops[i].gemms
            ),
            None,
        )
        pv = next(
            (
                j
                for j in range(s + 1, min(s + 4, len(ops)))
                if ops[j].kind in ("matmul", "attention") and ops[j].gemms
            ),
            None,
        )
        if qk is None or pv is None or ops[qk].weights or ops[pv].weights:
            continue
        if any(ops[i].kind not in passable for i in range(qk + 1, s)):
            continue
        if any(ops[j].kind not in passable for j in range(s + 1, pv)):
            continue
        causal = any(
            "mask" in ops[i].name.lower() or ops[i].attrs.get("causal") for i in range(qk, pv)
        )
        out[pv] = (qk, qk, bool(causal))
    return out


def _kv_source(op: Op, ops: Sequence[Op], producer: Mapping[str, int]) -> tuple[int, set[int]]:
    """Elements of an attention matmul's second operand (K^T or V) as stored, and the
    ``Expand`` ops on the way: K and V of fewer KV heads broadcast to the query heads
    (grouped-query attention, HuggingFace's ``repeat_kv``) are read once by an SDPA kernel
    with GQA support, the expansion copies nothing."""
    if len(op.inputs) < 2:
        return 2**62, set()
    elements = op.inputs[1].elements
    expands: set[int] = set()
    j = producer.get(op.inputs[1].name)
    while j is not None and ops[j].kind == "shape" and ops[j].inputs:
        if ops[j].op_type == "Expand":
            expands.add(j)
        elements = min(elements, ops[j].inputs[0].elements)
        j = producer.get(ops[j].inputs[0].name)
    return elements, expands


def _framework_fusions(ops: Sequence[Op]) -> set[int]:
    """Ops an eager framework runs inside a neighbour's kernel although an exported graph
    spells them out: a linear layer's bias ``Add`` after its ``MatMul`` (cuBLASLt epilogue,
    as ``addmm``), and the ``Div, Erf, Add, Mul, Mul`` of an exported exact GELU (one
    ``gelu`` kernel in PyTorch; the ``Erf`` op carries it)."""
    fused: set[int] = set()
    producer = {t.name: i for i, op in enumerate(ops) for t in op.outputs}
    for i, op in enumerate(ops):
        if op.op_type == "Add" and op.weights and len(op.inputs) == 1:
            j = producer.get(op.inputs[0].name)
            if j is not None and ops[j].kind in ("gemm", "matmul") and ops[j].weights:
                fused.add(i)
        if op.op_type == "Erf" and 1 <= i <= len(ops) - 4:
            tail = [o.op_type for o in ops[i - 1 : i + 4]]
            if tail == ["Div", "Erf", "Add", "Mul", "Mul"]:
                fused.update((i - 1, i + 1, i + 2, i + 3))
    return fused


def _strided_views(ops: Sequence[Op]) -> set[int]:
    """Transposes and splits that launch no kernel: PyTorch's ``transpose``/``permute`` and
    ``split`` return strided views, and elementwise kernels (TensorIterator), SDPA and
    batched matmuls read strided operands, so one whose every consumer is such an op copies
    nothing (attention's ``qkv.split(...)`` and ``q/k/v.view(...).transpose(1, 2)``). One
    that feeds a weighted GEMM or any other op is materialized (``.contiguous()`` or
    ``reshape`` before ``o_proj``), unless it only moves size-1 axes (the data order is
    unchanged: decode at one token)."""
    consumers: dict[str, list[int]] = {}
    for j, op in enumerate(ops):
        for t in op.inputs:
            consumers.setdefault(t.name, []).append(j)
    strided_ok = ("elementwise", "activation", "attention", "softmax", "matmul")
    out: set[int] = set()
    for i, op in enumerate(ops):
        if op.op_type not in ("Transpose", "Split") or not op.copies or len(op.inputs) != 1:
            continue
        src = [d for d in op.inputs[0].shape if d != 1]
        dst = [d for d in op.outputs[0].shape if d != 1]
        if op.op_type == "Transpose" and (src == dst or min(len(src), len(dst)) <= 1):
            # only size-1 axes move, or the data is one axis on one side (heads merged at
            # one token: (1, 32, 1, 128) -> (1, 1, 4096)): the memory order is unchanged
            out.add(i)
            continue
        users = [j for t in op.outputs for j in consumers.get(t.name, [])]
        if users and all(
            (ops[j].kind in strided_ok and not (ops[j].kind == "matmul" and ops[j].weights))
            or (ops[j].kind == "shape" and not ops[j].copies)
            or (ops[j].kind == "shape" and ops[j].op_type in ("RotateHalf", "CacheWrite"))
            for j in users
        ):
            out.add(i)
    return out


def _compiled_fusions(ops: Sequence[Op]) -> set[int]:
    """Ops a compiler folds into the kernel that produces their input (epilogue, norm +
    activation, elementwise chains)."""
    fused: set[int] = set()
    producer: dict[str, int] = {}
    for i, op in enumerate(ops):
        for t in op.outputs:
            producer[t.name] = i
    absorbing = ("conv", "gemm", "matmul", "norm", "elementwise", "activation")
    for i, op in enumerate(ops):
        if op.kind not in ("norm", "activation", "elementwise") or not op.inputs:
            continue
        if op.kind == "norm" and "batch" not in op.op_type.lower():
            continue  # a row norm needs a reduction over its row: a kernel of its own
        src = [producer.get(t.name) for t in op.inputs]
        prev = max((j for j in src if j is not None), default=None)
        if prev is not None and prev == i - 1 and ops[prev].kind in absorbing:
            fused.add(i)
    return fused


def gpu_kernels(
    net: Network,
    spec: HardwareSpec,
    params: GpuParams | None = None,
    *,
    tf32: bool | str | None = None,
    fusion: str = "framework",
) -> GpuKernels:
    """GPU seconds of every op of ``net`` on ``spec`` (fused ops 0, their time in the kernel
    that absorbs them)."""
    if fusion not in FUSION_POLICIES:
        raise InputError(f"fusion: unknown policy {fusion!r}; use framework or compiled")
    tf = parse_tf32(tf32)
    p = params or load_calibration()
    gpu = gpu_facts(spec)
    ops = net.ops
    n = len(ops)
    chains = _attention_chains(ops)
    in_chain: set[int] = set()
    producer = {t.name: j for j, o in enumerate(ops) for t in o.outputs}
    kv_elements: dict[int, int] = {}
    for pv, (qk, first, _) in chains.items():
        in_chain.update(range(first, pv))
        k_el, k_exp = _kv_source(ops[qk], ops, producer)
        v_el, v_exp = _kv_source(ops[pv], ops, producer)
        kv_elements[pv] = k_el + v_el
        in_chain.update(k_exp | v_exp)
    framework = _framework_fusions(ops)
    views = _strided_views(ops)
    compiled = _compiled_fusions(ops) - framework if fusion == "compiled" else set()
    cap = p["mem.l2_resident_frac"] * gpu.l2_bytes
    total_w = float(sum(o.weight_bytes for o in ops))
    # weights stay in the L2 between inferences only when all of them fit
    w_foot = total_w if total_w > cap else 0.0
    t = np.zeros(n)
    comp = np.zeros(n)
    mem = np.zeros(n)
    flops = np.zeros(n)
    peak = np.ones(n)
    dram = np.zeros(n)
    launches = np.zeros(n)
    kernel: list[str] = []
    conv_rows: dict[str, list[tuple[int, tuple[int, ...]]]] = {}
    gemm_rows: dict[str, list[tuple[int, tuple[int, int, int, int], float, float]]] = {}
    mem_rows: dict[tuple[str, str], list[tuple[int, float, float, float]]] = {}
    for i, op in enumerate(ops):
        io = float(op.input_bytes + op.output_bytes)
        wb = float(op.weight_bytes)
        if op.kind == "embedding":
            # a table lookup reads the rows it gathers (one output's worth), not the table
            wb = min(wb, float(op.output_bytes))
        nbytes = io + wb
        foot = max(io, w_foot if wb > 0 else 0.0)
        resident = foot <= cap
        dram[i] = 0.0 if resident else nbytes
        flops[i] = float(op.total_flops)
        if i in in_chain or i in compiled or i in framework:
            kernel.append("fused")
            dram[i] = 0.0
            if i in compiled:  # an epilogue still reads this op's other operands
                extra = float(memory_s(wb + max(op.input_bytes - op.output_bytes, 0), foot, gpu, p))
                t[i] = extra
                mem[i] = extra
            continue
        if (op.kind == "shape" and not op.copies) or i in views:
            kernel.append("none")
            continue
        launches[i] = 1.0
        if i in chains:
            qk_i, _, causal = chains[i]
            g = ops[qk_i].gemms[0]
            dt = _dtype(op, "attention", tf, gpu)
            dt = "fp32" if dt == "tf32" else dt  # SDPA runs fp32 on CUDA cores
            b = DTYPE_BYTES[dt]
            # K and V as the graph holds them: fewer KV heads than query heads (GQA)
            # broadcast over the query heads are read once
            kv = min(
                2.0 * g.count * g.n * g.k * b,
                b * float(kv_elements[i]),
            )
            t[i] = float(attention_s(g.count, g.m, g.n, g.k, causal, dt, gpu, p, kv_bytes=kv))
            kernel.append("decode_attention" if g.m <= 1 else "attention")
            flops[i] = float(sum(ops[j].total_flops for j in range(qk_i, i + 1)))
            peak[i] = gpu.peak_ops.get(dt, 1.0)
            dram[i] = 0.0 if kv <= cap else kv
            mem[i] = float(memory_s(kv, kv, gpu, p))
            comp[i] = 0.0 if g.m <= 1 else t[i]
            continue
        if op.kind == "attention" and op.gemms:
            g = op.gemms[0]
            dt = _dtype(op, "attention", tf, gpu)
            dt = "fp32" if dt == "tf32" else dt
            causal = bool(op.attrs.get("causal", False))
            t[i] = float(attention_s(g.count, g.m, g.n, g.k, causal, dt, gpu, p))
            kernel.append("attention")
            peak[i] = gpu.peak_ops.get(dt, 1.0)
            comp[i], mem[i] = t[i], float(memory_s(nbytes, foot, gpu, p))
            continue
        if op.kind == "conv" and op.gemms and len(op.inputs[0].shape) == 4:
            dt = _dtype(op, "conv", tf, gpu)
            nn_, cc, hh, ww = op.inputs[0].shape
            _, kk, pp, qq = op.outputs[0].shape
            kern = op.attrs.get("kernel", (1, 1))
            kr, ks = (int(v) for v in kern) if isinstance(kern, (tuple, list)) else (1, 1)
            groups = int(op.attrs.get("groups", 1))  # type: ignore[call-overload]
            st = op.attrs.get("strides", (1, 1))
            sh, sw = (int(v) for v in st) if isinstance(st, (tuple, list)) else (1, 1)
            conv_rows.setdefault(dt, []).append(
                (i, (nn_, cc, kk, pp, qq, kr, ks, groups, hh, ww, sh, sw))
            )
            if len(op.weights) > 1 and fusion == "framework":
                # PyTorch eager adds a convolution's bias in a kernel of its own
                # (cuDNN's convolution has no bias): read and write the output once more
                ob = 2.0 * float(op.output_bytes)
                mem_rows.setdefault(("add", _mem_dtype(op)), []).append(
                    (i, float(op.output_elements), ob, ob)
                )
                launches[i] = 2.0
            kernel.append("conv")
            peak[i] = gpu.peak_ops.get(dt, 1.0)
            mem[i] = float(memory_s(nbytes, foot, gpu, p))
            continue
        if op.gemms:
            dt = _dtype(op, "gemm", tf, gpu)
            share = nbytes / len(op.gemms)
            for g in op.gemms:
                gemm_rows.setdefault(dt, []).append((i, (g.count, g.m, g.n, g.k), share, foot))
            launches[i] = float(len(op.gemms))
            kernel.append("gemm")
            peak[i] = gpu.peak_ops.get(dt, 1.0)
            mem[i] = float(memory_s(nbytes, foot, gpu, p))
            continue
        fam = _mem_family(op)
        if fusion == "framework" and op.op_type == "MaxPool":
            # PyTorch's CUDA max_pool2d is max_pool2d_with_indices: it also writes the
            # int64 argmax of every output element
            nbytes += 8.0 * float(op.output_elements)
            foot = max(foot, nbytes)
        mem_rows.setdefault((fam, _mem_dtype(op)), []).append(
            (i, float(max(op.output_elements, 1)), nbytes, foot)
        )
        extra = _eager_bn_extra_kernels(op) if fusion == "framework" else 0
        if extra:
            # PyTorch's native eval batch norm (fp16/bf16 weights: cuDNN is not used):
            # copy the running mean to fp32, compute 1/sqrt(var + eps), then the
            # elementwise kernel: two more kernels over the C channel statistics
            ch = float(op.inputs[0].shape[1])
            for _ in range(extra):
                mem_rows.setdefault(("add", "fp32"), []).append((i, ch, 8.0 * ch, 8.0 * ch))
            launches[i] += float(extra)
        kernel.append(fam)
        mem[i] = float(memory_s(nbytes, foot, gpu, p))
        peak[i] = gpu.peak_ops.get("fp32", 1.0)
    # the batched kernel models, one call per kind and dtype
    for dt, crow in conv_rows.items():
        idx = np.asarray([r[0] for r in crow])
        cols = np.asarray([r[1] for r in crow], dtype=np.float64).T
        c = list(cols)
        tc = conv_s(
            c[0],
            c[1],
            c[2],
            c[3],
            c[4],
            c[5],
            c[6],
            c[7],
            c[8],
            c[9],
            dt,
            gpu,
            p,
            stride_h=c[10],
            stride_w=c[11],
        )
        np.add.at(t, idx, tc)
        np.add.at(comp, idx, tc)
    for dt, grow in gemm_rows.items():
        idx = np.asarray([r[0] for r in grow])
        cnt, m_, n_, k_ = np.asarray([r[1] for r in grow], dtype=np.float64).T
        shares = np.asarray([r[2] for r in grow])
        fp = np.asarray([r[3] for r in grow])
        np.add.at(
            t, idx, gemm_s(m_, n_, k_, dt, gpu, p, count=cnt, dram_bytes=shares, footprint=fp)
        )
        # the same kernels with no bytes to move: their compute (and fixed) time alone
        np.add.at(comp, idx, gemm_s(m_, n_, k_, dt, gpu, p, count=cnt, dram_bytes=0.0))
    for (fam, dt), mrow in mem_rows.items():
        idx = np.asarray([r[0] for r in mrow])
        n_el, nb, fp = np.asarray([r[1:] for r in mrow], dtype=np.float64).T
        np.add.at(t, idx, memory_op_s(n_el, fam, dt, gpu, p, nbytes=nb, footprint=fp))
    return GpuKernels(
        gpu_s=t,
        kernel=tuple(kernel),
        launches=launches,
        compute_s=comp,
        memory_s=mem,
        flops=flops,
        peak_ops=peak,
        dram_bytes=dram,
    )


def eager_host_s(kernel: Sequence[str], p: GpuParams) -> FloatArray:
    """Per-op host time of an eager framework: its kernels' launch cost by family."""
    fam = {"conv": "conv", "gemm": "gemm", "attention": "attention"}
    out = []
    for k in kernel:
        if k in ("fused", "none"):
            out.append(0.0)
        else:
            out.append(p[f"launch.eager_s.{fam.get(k, 'memory')}"])
    return np.asarray(out, dtype=np.float64)


def gpu_timing(
    net: Network,
    la: LayerArrays,
    spec: HardwareSpec,
    rf: RooflineResult,
    params: GpuParams | None = None,
    *,
    launch: str = "graph",
    tf32: bool | str | None = None,
    fusion: str = "framework",
) -> Timing:
    """Per-op seconds and per-level bytes of ``net`` on GPU ``spec``.

    ``launch="graph"``: GPU time only; ``"eager"``: each kernel takes at least its
    framework launch cost. Bytes per level are the roofline's (compulsory traffic)."""
    parse_launch(launch)
    p = params or load_calibration()
    k = gpu_kernels(net, spec, p, tf32=tf32, fusion=fusion)
    return timing_from_kernels(k, la, spec, rf, launch=launch, params=p)


def timing_from_kernels(
    k: GpuKernels,
    la: LayerArrays,
    spec: HardwareSpec,
    rf: RooflineResult,
    *,
    launch: str = "graph",
    params: GpuParams | None = None,
) -> Timing:
    """The :class:`Timing` of priced kernels under a launch mode."""
    parse_launch(launch)
    p = params or load_calibration()
    latency = k.gpu_s.copy()
    host = np.zeros_like(latency)
    if launch == "eager":
        host = eager_host_s(k.kernel, p) * k.launches
        latency = np.where(k.launches > 0, np.maximum(latency, host), latency)
    clock = spec.compute.clock_hz
    dram_name = spec.dram.name
    bound = tuple(
        "none"
        if k.kernel[i] == "none"
        else "fused"
        if k.kernel[i] == "fused"
        else "launch"
        if host[i] >= k.gpu_s[i] and host[i] > 0
        else ("compute" if k.compute_s[i] >= k.memory_s[i] else dram_name)
        for i in range(la.n_ops)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        util = np.where(latency > 0, rf.compute_s / latency, 0.0)
    by_op = rf.operand_traffic_bytes
    return Timing(
        model="gpu",
        cycles=np.ceil(latency * clock),
        latency_s=latency,
        utilization=np.asarray(util, dtype=np.float64),
        bound=bound,
        read_bytes=by_op[:, 0] + by_op[:, 1],
        write_bytes=by_op[:, 2],
    )
