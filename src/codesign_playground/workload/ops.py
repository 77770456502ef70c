"""Operator constructors: compute an op's output shape and exact cost from its inputs.

Every front end (ONNX, torch.export, SCALE-Sim CSV, the built-in zoo) builds ops through
these functions, so one network counts the same whichever way it was brought in.
The counting conventions are stated in ``docs/workload.md``; the per-element FLOP costs
of non-MAC ops are collected in :data:`FLOPS_PER_ELEMENT`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from codesign_playground.errors import ModelFormatError
from codesign_playground.workload.ir import Gemm, Op, OpKind, Precision, TensorSpec

__all__ = [
    "FLOPS_PER_ELEMENT",
    "activation",
    "attention",
    "broadcast_shape",
    "conv",
    "conv_output_shape",
    "conv_transpose",
    "einsum",
    "elementwise",
    "embedding",
    "gemm",
    "matmul",
    "norm",
    "pool",
    "reduce",
    "shape_op",
    "softmax",
]

#: FLOPs charged per output element (per input element for reductions) of non-MAC ops.
#: A convention, not a measurement: one FLOP per arithmetic step of the textbook formula.
# fmt: off
FLOPS_PER_ELEMENT: Mapping[str, int] = {
    # elementwise arithmetic: one operation per output element
    "Add": 1, "Sub": 1, "Mul": 1, "Div": 1, "Pow": 1, "Sqrt": 1, "Reciprocal": 1,
    "Neg": 1, "Abs": 1, "Exp": 1, "Log": 1, "Max": 1, "Min": 1, "Where": 1,
    "Equal": 1, "Less": 1, "Greater": 1, "Not": 1, "And": 1, "Or": 1, "Mod": 1,
    "Sin": 1, "Cos": 1, "Tanh": 1, "Erf": 1, "Floor": 1, "Ceil": 1, "Round": 1, "Sign": 1,
    "Cast": 0,
    # activations
    "Relu": 1, "LeakyRelu": 2, "PRelu": 2, "Clip": 2, "Relu6": 2,
    "Sigmoid": 4,      # exp, add, reciprocal (+ negate)
    "HardSigmoid": 3,  # mul, add, clamp
    "HardSwish": 4,    # hard sigmoid (3) + mul
    "Swish": 5,        # sigmoid (4) + mul, a.k.a. SiLU
    "SiLU": 5,
    "Mish": 7,         # softplus (exp, add, log), tanh, mul
    "Softplus": 3,
    "Elu": 3, "Selu": 4, "Celu": 3,
    "Gelu": 8,         # tanh approximation: x^3, mul-add, mul, tanh, add, mul, mul
    "Softsign": 3,
    # normalization (inference): per element after per-channel constants are folded
    "BatchNormalization": 2,      # x * scale + shift
    "LayerNormalization": 7,      # mean, sub, square, var, normalize, scale, shift
    "RMSNormalization": 5,        # square, mean, normalize, scale (+ rsqrt per row, ignored)
    "GroupNormalization": 7,
    "InstanceNormalization": 7,
    "LpNormalization": 3,
    # softmax: max, subtract, exp, sum, divide
    "Softmax": 5, "LogSoftmax": 5,
}
# fmt: on


_NORM_WEIGHT_NAMES = ("weight", "bias")
_NORM_BUFFER_NAMES = ("running_mean", "running_var")


def broadcast_shape(*shapes: Sequence[int]) -> tuple[int, ...]:
    """NumPy broadcasting of shapes, with a model-format error on mismatch."""
    try:
        return tuple(int(d) for d in np.broadcast_shapes(*(tuple(s) for s in shapes)))
    except ValueError as exc:
        raise ModelFormatError(f"shapes {list(map(list, shapes))} do not broadcast") from exc


def conv_output_shape(
    in_spatial: Sequence[int],
    kernel: Sequence[int],
    strides: Sequence[int],
    pads: Sequence[int],
    dilations: Sequence[int],
) -> tuple[int, ...]:
    """Output spatial size of a convolution or pooling window (pads: all begins, then ends)."""
    rank = len(in_spatial)
    out = []
    for i in range(rank):
        span = dilations[i] * (kernel[i] - 1) + 1
        size = (in_spatial[i] + pads[i] + pads[i + rank] - span) // strides[i] + 1
        out.append(size)
    return tuple(out)


def _check(shape: Sequence[int], what: str) -> tuple[int, ...]:
    out = tuple(int(d) for d in shape)
    if any(d < 0 for d in out):
        raise ModelFormatError(f"{what}: negative dimension in shape {list(out)}")
    return out


def conv(
    name: str,
    x: TensorSpec,
    weight_shape: Sequence[int],
    *,
    strides: Sequence[int] | None = None,
    pads: Sequence[int] | None = None,
    dilations: Sequence[int] | None = None,
    groups: int = 1,
    bias: bool = False,
    out_name: str | None = None,
    op_type: str = "Conv",
    precision: Precision = "fp32",
    ceil_mode: bool = False,
) -> Op:
    """An N-d convolution ``x (N, C, *S)`` with weights ``(F, C / groups, *K)``.

    MACs = N x F x prod(out) x (C / groups) x prod(K); the bias adds N x F x prod(out) FLOPs.
    ``ceil_mode``: output sizes round up (SCALE-Sim's convention, ``ceil((H - R + s) / s)``):
    the last window may hang over the input's edge, where it reads nothing.
    """
    w = _check(weight_shape, f"{name} weight")
    xs = _check(x.shape, f"{name} input")
    rank = len(w) - 2
    if len(xs) != rank + 2:
        raise ModelFormatError(f"{name}: input rank {len(xs)} does not fit kernel rank {rank}")
    n, c = xs[0], xs[1]
    f, cg = w[0], w[1]
    kernel = w[2:]
    if groups < 1 or c != cg * groups or f % groups:
        raise ModelFormatError(
            f"{name}: {c} input channels, {f} filters and groups={groups} do not fit "
            f"weight shape {list(w)}"
        )
    s = tuple(strides or (1,) * rank)
    p = tuple(pads or (0,) * (2 * rank))
    d = tuple(dilations or (1,) * rank)
    out_sp = conv_output_shape(xs[2:], kernel, s, p, d)
    if any(o <= 0 for o in out_sp):
        raise ModelFormatError(f"{name}: kernel larger than padded input {list(xs)}")
    if ceil_mode:
        span = tuple(d[i] * (kernel[i] - 1) + 1 for i in range(rank))
        padded = tuple(xs[2 + i] + p[i] + p[i + rank] for i in range(rank))
        out_sp = tuple(-((span[i] - padded[i]) // s[i]) + 1 for i in range(rank))
    out_pixels = math.prod(out_sp)
    k_size = math.prod(kernel)
    macs = n * f * out_pixels * cg * k_size
    weights = [TensorSpec(f"{name}.weight", w)]
    if bias:
        weights.append(TensorSpec(f"{name}.bias", (f,)))
    out = TensorSpec(out_name or f"{name}.out", (n, f, *out_sp), x.dtype)
    return Op(
        name=name,
        kind="conv",
        op_type=op_type,
        inputs=(x,),
        outputs=(out,),
        weights=tuple(weights),
        macs=macs,
        flops=n * f * out_pixels if bias else 0,
        gemms=(Gemm(count=groups, m=n * out_pixels, n=f // groups, k=cg * k_size),),
        attrs={
            "kernel": kernel,
            "strides": s,
            "pads": p,
            "dilations": d,
            "groups": groups,
            "depthwise": groups == c and groups > 1,
        }
        | ({"ceil_mode": True} if ceil_mode else {}),
        weight_precision=precision,
        act_precision=precision,
    )


def conv_transpose(
    name: str,
    x: TensorSpec,
    weight_shape: Sequence[int],
    out_shape: Sequence[int],
    *,
    groups: int = 1,
    bias: bool = False,
    out_name: str | None = None,
    op_type: str = "ConvTranspose",
    precision: Precision = "fp32",
) -> Op:
    """A transposed convolution ``x (N, C, *S)`` with weights ``(C, F / groups, *K)``.

    Every input pixel is multiplied into a full kernel: MACs = N x C x prod(S) x
    (F / groups) x prod(K). ``out_shape`` comes from the importer (it depends on output
    padding attributes).
    """
    w = _check(weight_shape, f"{name} weight")
    xs = _check(x.shape, f"{name} input")
    os_ = _check(out_shape, f"{name} output")
    n, c = xs[0], xs[1]
    if groups < 1 or w[0] != c or c % groups:
        raise ModelFormatError(f"{name}: weight {list(w)} does not fit input {list(xs)}")
    fg = w[1]
    k_size = math.prod(w[2:])
    in_pixels = math.prod(xs[2:])
    weights = [TensorSpec(f"{name}.weight", w)]
    if bias:
        weights.append(TensorSpec(f"{name}.bias", (fg * groups,)))
    out = TensorSpec(out_name or f"{name}.out", os_, x.dtype)
    return Op(
        name=name,
        kind="conv",
        op_type=op_type,
        inputs=(x,),
        outputs=(out,),
        weights=tuple(weights),
        macs=n * c * in_pixels * fg * k_size,
        flops=math.prod(os_) if bias else 0,
        gemms=(Gemm(count=groups, m=n * in_pixels, n=fg * k_size, k=c // groups),),
        attrs={"groups": groups, "transposed": True},
        weight_precision=precision,
        act_precision=precision,
    )


def gemm(
    name: str,
    x: TensorSpec,
    out_features: int,
    *,
    bias: bool = True,
    out_name: str | None = None,
    op_type: str = "Gemm",
    precision: Precision = "fp32",
) -> Op:
    """A dense layer on the last axis: ``x (..., K)`` times a ``(K, N)`` weight matrix."""
    xs = _check(x.shape, f"{name} input")
    if not xs:
        raise ModelFormatError(f"{name}: dense layer needs an input of rank >= 1")
    k = xs[-1]
    m = math.prod(xs[:-1])
    weights = [TensorSpec(f"{name}.weight", (out_features, k))]
    if bias:
        weights.append(TensorSpec(f"{name}.bias", (out_features,)))
    out = TensorSpec(out_name or f"{name}.out", (*xs[:-1], out_features), x.dtype)
    return Op(
        name=name,
        kind="gemm",
        op_type=op_type,
        inputs=(x,),
        outputs=(out,),
        weights=tuple(weights),
        macs=m * k * out_features,
        flops=m * out_features if bias else 0,
        gemms=(Gemm(count=1, m=m, n=out_features, k=k),),
        weight_precision=precision,
        act_precision=precision,
    )


def matmul(
    name: str,
    a: TensorSpec,
    b: TensorSpec,
    *,
    b_is_weight: bool = False,
    out_name: str | None = None,
    op_type: str = "MatMul",
    precision: Precision = "fp32",
) -> Op:
    """A (batched) matmul with NumPy semantics; a constant ``b`` makes it a dense layer."""
    ash = _check(a.shape, f"{name} input A")
    bsh = _check(b.shape, f"{name} input B")
    if not ash or not bsh:
        raise ModelFormatError(f"{name}: matmul of a scalar")
    a2 = ash if len(ash) > 1 else (1, *ash)
    b2 = bsh if len(bsh) > 1 else (*bsh, 1)
    m, k = a2[-2], a2[-1]
    k2, n = b2[-2], b2[-1]
    if k != k2:
        raise ModelFormatError(f"{name}: inner dimensions differ, {list(ash)} @ {list(bsh)}")
    batch = broadcast_shape(a2[:-2], b2[:-2])
    out_shape = list(batch)
    if len(ash) > 1:
        out_shape.append(m)
    if len(bsh) > 1:
        out_shape.append(n)
    count = math.prod(batch)
    out = TensorSpec(out_name or f"{name}.out", tuple(out_shape), a.dtype)
    kind: OpKind = "gemm" if b_is_weight else "matmul"
    if b_is_weight and count > 1 and math.prod(b2[:-2]) == 1:
        # a constant matrix shared by every batch: one GEMM over all rows
        gemms = (Gemm(count=1, m=count * m, n=n, k=k),)
    else:
        gemms = (Gemm(count=count, m=m, n=n, k=k),)
    return Op(
        name=name,
        kind=kind,
        op_type=op_type,
        inputs=(a,) if b_is_weight else (a, b),
        outputs=(out,),
        weights=(b,) if b_is_weight else (),
        macs=count * m * n * k,
        gemms=gemms,
        weight_precision=precision,
        act_precision=precision,
    )


def attention(
    name: str,
    q: TensorSpec,
    k: TensorSpec,
    v: TensorSpec,
    *,
    out_name: str | None = None,
    op_type: str = "Attention",
    precision: Precision = "fp32",
) -> Op:
    """Fused scaled-dot-product attention on ``(..., L, d)`` queries and ``(..., S, d)`` keys.

    Two matmuls (Q K^T and P V) are MACs; scaling (1 per score) and softmax (5 per score)
    are FLOPs.
    """
    qs, ks, vs = (_check(t.shape, f"{name} {w}") for t, w in ((q, "Q"), (k, "K"), (v, "V")))
    if len(qs) < 2 or qs[-1] != ks[-1] or ks[-2] != vs[-2]:
        raise ModelFormatError(f"{name}: attention shapes Q{list(qs)} K{list(ks)} V{list(vs)}")
    batch = broadcast_shape(qs[:-2], ks[:-2], vs[:-2])
    count = math.prod(batch)
    seq_q, d = qs[-2], qs[-1]
    seq_k, dv = ks[-2], vs[-1]
    scores = count * seq_q * seq_k
    out = TensorSpec(out_name or f"{name}.out", (*batch, seq_q, dv), q.dtype)
    return Op(
        name=name,
        kind="attention",
        op_type=op_type,
        inputs=(q, k, v),
        outputs=(out,),
        macs=scores * d + scores * dv,
        flops=scores * (1 + FLOPS_PER_ELEMENT["Softmax"]),
        gemms=(Gemm(count, seq_q, seq_k, d), Gemm(count, seq_q, dv, seq_k)),
        weight_precision=precision,
        act_precision=precision,
    )


def _einsum_terms(
    equation: str, shapes: Sequence[tuple[int, ...]], name: str
) -> tuple[list[str], str, dict[str, int]]:
    """Operand and output subscripts with ``...`` expanded (right-aligned, broadcast), and
    each subscript's size."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ModelFormatError(f"{name}: equation {equation!r} has {len(terms)} operands")
    n_ell = max(
        (len(s) - len(t) + 3 for t, s in zip(terms, shapes, strict=True) if "..." in t), default=0
    )
    ell = [chr(0x3000 + i) for i in range(n_ell)]
    sizes: dict[str, int] = {}
    expanded = []
    for term, shape in zip(terms, shapes, strict=True):
        if "..." in term:
            k = len(shape) - len(term) + 3
            term = term.replace("...", "".join(ell[n_ell - k :]))
        if len(term) != len(shape):
            raise ModelFormatError(f"{name}: {term!r} does not fit operand shape {list(shape)}")
        for letter, d in zip(term, shape, strict=True):
            if sizes.get(letter, 1) not in (1, d) and d != 1:
                raise ModelFormatError(
                    f"{name}: subscript {letter!r} has sizes {sizes[letter]}, {d}"
                )
            sizes[letter] = max(sizes.get(letter, 1), d)
        expanded.append(term)
    if arrow:
        out = rhs.replace("...", "".join(ell))
    else:  # implicit output: broadcast axes, then subscripts used once, in order
        counts = "".join(expanded)
        out = "".join(ell) + "".join(
            sorted(c for c in set(counts) if counts.count(c) == 1 and c not in ell)
        )
    return expanded, out, sizes


def einsum(
    name: str,
    equation: str,
    inputs: Sequence[TensorSpec],
    *,
    weights: Sequence[TensorSpec] = (),
    out_name: str | None = None,
    op_type: str = "Einsum",
    precision: Precision = "fp32",
) -> Op:
    """``einsum`` of operands (activations ``inputs`` first, then constant ``weights``).

    Two operands: every combination of subscript values is one multiply-accumulate, so
    MACs = product of all subscript sizes (what ``torch.einsum`` runs as one ``bmm``); a
    subscript of one operand only that the output drops is summed out first (one FLOP
    per element of that operand), as ``torch.einsum`` does.
    More operands contract left to right, pair by pair. One operand is a transposition
    (no arithmetic) or a reduction (one FLOP per input element).
    """
    operands = [*inputs, *weights]
    terms, out_letters, sizes = _einsum_terms(
        equation, [_check(t.shape, f"{name} operand") for t in operands], name
    )
    out_shape = tuple(sizes[c] for c in out_letters)
    out = TensorSpec(out_name or f"{name}.out", out_shape, operands[0].dtype)
    macs = 0
    gemms = []
    flops = 0
    if len(terms) == 1:
        flops = operands[0].elements if set(terms[0]) - set(out_letters) else 0
    left = terms[0]
    for i, right in enumerate(terms[1:], start=1):
        later = set(out_letters).union(*terms[i + 1 :])
        # a subscript in one operand only, and needed nowhere after, is summed out first
        # (a reduction, as torch.einsum does), not multiplied through the contraction
        for side in (left, right):
            other = right if side is left else left
            alone = [c for c in side if c not in other and c not in later]
            if alone:
                flops += math.prod(sizes[c] for c in side)
        left = "".join(c for c in left if c in right or c in later)
        right = "".join(c for c in right if c in left or c in later)
        keep = "".join(dict.fromkeys(c for c in left + right if c in later))
        batch = [c for c in keep if c in left and c in right]
        m = [c for c in keep if c in left and c not in right]
        n = [c for c in keep if c in right and c not in left]
        k = [c for c in dict.fromkeys(left + right) if c not in keep]
        g = Gemm(
            count=math.prod(sizes[c] for c in batch),
            m=math.prod(sizes[c] for c in m),
            n=math.prod(sizes[c] for c in n),
            k=math.prod(sizes[c] for c in k),
        )
        gemms.append(g)
        macs += g.macs
        left = keep
    kind: OpKind = "gemm" if weights else ("matmul" if len(terms) > 1 else "reduce")
    if len(terms) == 1 and not flops:
        kind = "shape"
    return Op(
        name=name,
        kind=kind,
        op_type=op_type,
        inputs=tuple(inputs),
        outputs=(out,),
        weights=tuple(weights),
        macs=macs,
        flops=flops,
        gemms=tuple(gemms),
        attrs={"equation": equation},
        weight_precision=precision,
        act_precision=precision,
    )


def elementwise(
    name: str,
    op_type: str,
    inputs: Sequence[TensorSpec],
    *,
    weights: Sequence[TensorSpec] = (),
    buffers: Sequence[TensorSpec] = (),
    out_name: str | None = None,
    flops_per_element: int | None = None,
    kind: OpKind = "elementwise",
    precision: Precision = "fp32",
) -> Op:
    """An elementwise op over broadcast inputs; learned operands are ``weights``, other
    constants ``buffers``."""
    shapes = [t.shape for t in (*inputs, *weights, *buffers)]
    out_shape = broadcast_shape(*shapes) if shapes else ()
    per = FLOPS_PER_ELEMENT.get(op_type, 1) if flops_per_element is None else flops_per_element
    n_args = (
        max(1, len(shapes) - 1) if kind == "elementwise" and op_type not in ("Where", "Clip") else 1
    )
    dtype = inputs[0].dtype if inputs else "float32"
    out = TensorSpec(out_name or f"{name}.out", out_shape, dtype)
    return Op(
        name=name,
        kind=kind,
        op_type=op_type,
        inputs=tuple(inputs),
        outputs=(out,),
        weights=tuple(weights),
        buffers=tuple(buffers),
        flops=per * n_args * math.prod(out_shape),
        weight_precision=precision,
        act_precision=precision,
    )


def activation(
    name: str,
    op_type: str,
    x: TensorSpec,
    *,
    out_name: str | None = None,
    precision: Precision = "fp32",
) -> Op:
    """A pointwise activation; its cost per element is in :data:`FLOPS_PER_ELEMENT`."""
    return elementwise(
        name, op_type, [x], out_name=out_name, kind="activation", precision=precision
    )


def pool(
    name: str,
    op_type: str,
    x: TensorSpec,
    *,
    kernel: Sequence[int] | None = None,
    strides: Sequence[int] | None = None,
    pads: Sequence[int] | None = None,
    dilations: Sequence[int] | None = None,
    ceil_mode: bool = False,
    out_name: str | None = None,
    precision: Precision = "fp32",
) -> Op:
    """Max or average pooling; ``kernel=None`` pools globally.

    Each output element costs one FLOP per window element (compare or add), and average
    pooling one more for the division.
    """
    xs = _check(x.shape, f"{name} input")
    spatial = xs[2:]
    rank = len(spatial)
    if kernel is None:
        k = spatial
        out_sp: tuple[int, ...] = (1,) * rank
    else:
        k = tuple(kernel)
        s = tuple(strides or (1,) * rank)
        p = tuple(pads or (0,) * (2 * rank))
        d = tuple(dilations or (1,) * rank)
        if ceil_mode:
            sizes = []
            for i in range(rank):
                span = d[i] * (k[i] - 1) + 1
                size = -(-(spatial[i] + p[i] + p[i + rank] - span) // s[i]) + 1
                # PyTorch/ONNX: the last window must start inside the input or left padding
                if (size - 1) * s[i] >= spatial[i] + p[i]:
                    size -= 1
                sizes.append(size)
            out_sp = tuple(sizes)
        else:
            out_sp = conv_output_shape(spatial, k, s, p, d)
        if any(o <= 0 for o in out_sp):
            raise ModelFormatError(f"{name}: pooling window {list(k)} larger than input {list(xs)}")
    out = TensorSpec(out_name or f"{name}.out", (*xs[:2], *out_sp), x.dtype)
    window = math.prod(k)
    per_out = window + (1 if "Average" in op_type or "Avg" in op_type else 0)
    return Op(
        name=name,
        kind="pool",
        op_type=op_type,
        inputs=(x,),
        outputs=(out,),
        flops=per_out * out.elements,
        attrs={"kernel": k},
        weight_precision=precision,
        act_precision=precision,
    )


def norm(
    name: str,
    op_type: str,
    x: TensorSpec,
    *,
    weight_shapes: Sequence[Sequence[int]] = (),
    buffer_shapes: Sequence[Sequence[int]] = (),
    out_name: str | None = None,
    precision: Precision = "fp32",
) -> Op:
    """A normalization layer: learned scale and shift are weights, running stats buffers."""
    weights = tuple(
        TensorSpec(f"{name}.{_NORM_WEIGHT_NAMES[min(i, 1)]}{i if i > 1 else ''}", _check(w, name))
        for i, w in enumerate(weight_shapes)
    )
    buffers = tuple(
        TensorSpec(f"{name}.{_NORM_BUFFER_NAMES[min(i, 1)]}{i if i > 1 else ''}", _check(b, name))
        for i, b in enumerate(buffer_shapes)
    )
    out = TensorSpec(out_name or f"{name}.out", x.shape, x.dtype)
    return Op(
        name=name,
        kind="norm",
        op_type=op_type,
        inputs=(x,),
        outputs=(out,),
        weights=weights,
        buffers=buffers,
        flops=FLOPS_PER_ELEMENT.get(op_type, 7) * x.elements,
        weight_precision=precision,
        act_precision=precision,
    )


def softmax(
    name: str,
    x: TensorSpec,
    *,
    out_name: str | None = None,
    op_type: str = "Softmax",
    precision: Precision = "fp32",
) -> Op:
    """Softmax over one axis: max, subtract, exp, sum, divide = 5 FLOPs per element."""
    out = TensorSpec(out_name or f"{name}.out", x.shape, x.dtype)
    return Op(
        name=name,
        kind="softmax",
        op_type=op_type,
        inputs=(x,),
        outputs=(out,),
        flops=FLOPS_PER_ELEMENT["Softmax"] * x.elements,
        weight_precision=precision,
        act_precision=precision,
    )


def reduce(
    name: str,
    op_type: str,
    x: TensorSpec,
    out_shape: Sequence[int],
    *,
    out_name: str | None = None,
    precision: Precision = "fp32",
) -> Op:
    """A reduction (mean, sum, max, ...): one FLOP per input element."""
    out = TensorSpec(out_name or f"{name}.out", _check(out_shape, name), x.dtype)
    return Op(
        name=name,
        kind="reduce",
        op_type=op_type,
        inputs=(x,),
        outputs=(out,),
        flops=x.elements,
        weight_precision=precision,
        act_precision=precision,
    )


def embedding(
    name: str,
    indices: TensorSpec,
    table_shape: Sequence[int],
    *,
    out_name: str | None = None,
    op_type: str = "Gather",
    precision: Precision = "fp32",
) -> Op:
    """A lookup of ``indices`` in a ``(rows, dim)`` table: no arithmetic, the table is weights."""
    table = _check(table_shape, f"{name} table")
    out = TensorSpec(out_name or f"{name}.out", (*indices.shape, *table[1:]), "float32")
    return Op(
        name=name,
        kind="embedding",
        op_type=op_type,
        inputs=(indices,),
        outputs=(out,),
        weights=(TensorSpec(f"{name}.weight", table),),
        weight_precision=precision,
        act_precision=precision,
    )


def shape_op(
    name: str,
    op_type: str,
    inputs: Sequence[TensorSpec],
    outputs: Sequence[TensorSpec],
    *,
    copies: bool,
    precision: Precision = "fp32",
) -> Op:
    """Reshape, transpose, concat, slice, ...: no arithmetic; ``copies`` if data moves."""
    return Op(
        name=name,
        kind="shape",
        op_type=op_type,
        inputs=tuple(inputs),
        outputs=tuple(outputs),
        copies=copies,
        weight_precision=precision,
        act_precision=precision,
    )
