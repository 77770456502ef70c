"""The workload IR: a network as an ordered graph of operators with exact shapes.

An :class:`Op` records what a layer computes (its kind, tensor shapes, weights) and what that
costs in work (MACs and other FLOPs); bytes follow from element counts and the op's precision,
so changing precision never changes the work, only the traffic. A :class:`Network` is the
ops in execution order, with edges given by tensor names.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal, get_args

from codesign_playground.errors import InputError
from codesign_playground.units import PRECISION_BITS, Precision

__all__ = [
    "PRECISION_BITS",
    "Gemm",
    "Network",
    "Op",
    "OpKind",
    "Precision",
    "TensorSpec",
    "UnmodeledOp",
    "UnresolvedInfo",
    "bytes_for",
    "parse_precision",
]

OpKind = Literal[
    "conv",  # convolution, any rank, stride, padding, dilation and groups (incl. depthwise)
    "gemm",  # dense / fully connected: activations x weight matrix
    "matmul",  # (batched) matmul of two activations, or activation x constant tensor
    "attention",  # fused scaled-dot-product attention
    "elementwise",  # add, mul, sub, div, ... (binary or unary arithmetic)
    "activation",  # relu, gelu, sigmoid, ...
    "pool",  # max / average pooling, global pooling
    "norm",  # batch / layer / group / RMS normalization
    "softmax",
    "reduce",  # reductions such as mean, sum
    "embedding",  # gather from a table
    "shape",  # reshape, transpose, concat, slice, ...: no arithmetic, maybe a copy
]

OP_KINDS: tuple[str, ...] = get_args(OpKind)

#: Kinds that do arithmetic: an op of one of these kinds whose shape cannot be resolved
#: is an error (or, when allowed, counted as unresolved); shape ops and lookups compute nothing.
ARITHMETIC_KINDS: frozenset[str] = frozenset(OP_KINDS) - {"shape", "embedding"}


def parse_precision(value: str, *, field_name: str = "precision") -> Precision:
    """Return ``value`` as a :data:`Precision`, or raise an error naming the choices."""
    v = value.strip().lower()
    if v not in PRECISION_BITS:
        choices = ", ".join(PRECISION_BITS)
        raise InputError(f"{field_name}: unknown precision {value!r}; use one of {choices}")
    return v  # type: ignore[return-value]


def bytes_for(elements: int, precision: Precision) -> int:
    """Bytes needed to store ``elements`` values at ``precision`` (sub-byte values packed)."""
    return math.ceil(elements * PRECISION_BITS[precision] / 8)


#: Integer and boolean tensors (indices, masks, shapes) keep their own width whatever the
#: network's precision: precision applies to the numeric data.
NATIVE_DTYPE_BYTES: Mapping[str, int] = {"int64": 8, "int32": 4, "bool": 1}


def _tensor_bytes(tensors: Iterable[TensorSpec], precision: Precision) -> int:
    numeric = 0
    native = 0
    for t in tensors:
        width = NATIVE_DTYPE_BYTES.get(t.dtype)
        if width is None:
            numeric += t.elements
        else:
            native += t.elements * width
    return bytes_for(numeric, precision) + native


@dataclass(frozen=True, slots=True)
class TensorSpec:
    """A named tensor of exact shape; ``dtype`` is the source format's element type."""

    name: str
    shape: tuple[int, ...]
    dtype: str = "float32"

    @property
    def elements(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True, slots=True)
class Gemm:
    """``count`` independent matrix products of (m x k) by (k x n).

    This is the view that array models map: a convolution is ``groups`` GEMMs with
    m = output pixels, k = input channels per group x kernel size, n = filters per group.
    """

    count: int
    m: int
    n: int
    k: int

    @property
    def macs(self) -> int:
        return self.count * self.m * self.n * self.k


@dataclass(frozen=True, slots=True)
class Op:
    """One operator of a network and its exact cost.

    ``macs`` are multiply-accumulates of the op's matrix or convolution core; ``flops`` are
    every other arithmetic operation (bias adds, activations, normalization, softmax, ...),
    each counted once. ``copies`` says whether a shape op moves data (transpose, concat)
    or is a free view (reshape, flatten).
    """

    name: str
    kind: OpKind
    op_type: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    weights: tuple[TensorSpec, ...] = ()
    buffers: tuple[TensorSpec, ...] = ()
    macs: int = 0
    flops: int = 0
    gemms: tuple[Gemm, ...] = ()
    copies: bool = True
    attrs: Mapping[str, object] = field(default_factory=dict)
    weight_precision: Precision = "fp32"
    act_precision: Precision = "fp32"

    @property
    def params(self) -> int:
        """Weight (parameter) elements held by this op."""
        return sum(w.elements for w in self.weights)

    @property
    def weight_bytes(self) -> int:
        """Bytes of stored constants read: weights and buffers at the weight precision."""
        return _tensor_bytes((*self.weights, *self.buffers), self.weight_precision)

    @property
    def input_elements(self) -> int:
        return sum(t.elements for t in self.inputs)

    @property
    def output_elements(self) -> int:
        return sum(t.elements for t in self.outputs)

    @property
    def input_bytes(self) -> int:
        """Activation bytes read (inputs that are not weights)."""
        if self.kind == "shape" and not self.copies:
            return 0
        return _tensor_bytes(self.inputs, self.act_precision)

    @property
    def output_bytes(self) -> int:
        """Activation bytes written."""
        if self.kind == "shape" and not self.copies:
            return 0
        return _tensor_bytes(self.outputs, self.act_precision)

    @property
    def total_flops(self) -> int:
        """All arithmetic: two FLOPs per MAC plus the other FLOPs."""
        return 2 * self.macs + self.flops

    @property
    def bytes_moved(self) -> int:
        """Minimum off-chip traffic if every tensor is touched once: weights, inputs, outputs."""
        return self.weight_bytes + self.input_bytes + self.output_bytes

    @property
    def arithmetic_intensity(self) -> float:
        """FLOPs per byte of compulsory traffic (0 for ops that move no data)."""
        moved = self.bytes_moved
        return self.total_flops / moved if moved else 0.0

    def with_precision(
        self, *, weights: Precision | None = None, activations: Precision | None = None
    ) -> Op:
        """A copy at another precision; work is unchanged, bytes follow."""
        return replace(
            self,
            weight_precision=weights or self.weight_precision,
            act_precision=activations or self.act_precision,
        )


@dataclass(frozen=True, slots=True)
class UnresolvedInfo:
    """Why an arithmetic op was left out: which tensor of it had which unknown dimension."""

    tensor: str
    role: str  # "input" | "output"
    axis: int | None  # None: not even the rank is known
    dim: str  # the symbolic name inference gave the dimension, or "?"
    reason: str = ""  # set when the cause is not a shape (work inside control flow)

    def describe(self) -> str:
        if self.reason:
            return self.reason
        where = "rank" if self.axis is None else f"dimension {self.axis} ({self.dim!r})"
        return f"{self.role} {self.tensor!r} has an unresolved {where}"


@dataclass(frozen=True, slots=True)
class UnmodeledOp:
    """A node left out of the totals: listed, never silently dropped.

    Either its operator type has no cost model (``unresolved`` is None), or it does
    arithmetic of kind ``kind`` but a shape it needs could not be resolved (only kept when
    the caller allowed unresolved shapes; otherwise the import is an error).
    """

    name: str
    op_type: str
    inputs: tuple[TensorSpec, ...] = ()
    outputs: tuple[TensorSpec, ...] = ()
    kind: str = ""
    unresolved: UnresolvedInfo | None = None


@dataclass(frozen=True, slots=True)
class Network:
    """A network: ops in execution order, plus the nodes that could not be modeled."""

    name: str
    ops: tuple[Op, ...]
    inputs: tuple[TensorSpec, ...] = ()
    outputs: tuple[TensorSpec, ...] = ()
    unmodeled: tuple[UnmodeledOp, ...] = ()
    source: str = ""

    def __iter__(self) -> Iterator[Op]:
        return iter(self.ops)

    def __len__(self) -> int:
        return len(self.ops)

    def op(self, name: str) -> Op:
        for o in self.ops:
            if o.name == name:
                return o
        raise KeyError(name)

    def by_kind(self, *kinds: OpKind) -> tuple[Op, ...]:
        return tuple(o for o in self.ops if o.kind in kinds)

    @property
    def macs(self) -> int:
        return sum(o.macs for o in self.ops)

    @property
    def flops(self) -> int:
        """All arithmetic: 2 x MACs + other FLOPs."""
        return sum(o.total_flops for o in self.ops)

    @property
    def params(self) -> int:
        return sum(o.params for o in self.ops)

    @property
    def unresolved(self) -> tuple[UnmodeledOp, ...]:
        """Arithmetic nodes left out because a shape they need is unknown."""
        return tuple(u for u in self.unmodeled if u.unresolved is not None)

    @property
    def unresolved_fraction_of_nodes(self) -> float:
        """Unresolved nodes over all nodes (modeled ops plus unmodeled nodes)."""
        total = len(self.ops) + len(self.unmodeled)
        return len(self.unresolved) / total if total else 0.0

    @property
    def unresolved_fraction_of_arithmetic(self) -> float:
        """Unresolved nodes over all nodes that do arithmetic (counted ones and unresolved)."""
        n = len(self.unresolved)
        total = sum(1 for o in self.ops if o.kind in ARITHMETIC_KINDS) + n
        return n / total if total else 0.0

    @property
    def weight_bytes(self) -> int:
        return sum(o.weight_bytes for o in self.ops)

    @property
    def activation_bytes(self) -> int:
        """Activation bytes read and written by all ops (each op touching its tensors once)."""
        return sum(o.input_bytes + o.output_bytes for o in self.ops)

    def with_precision(
        self,
        precision: Precision | None = None,
        *,
        weights: Precision | None = None,
        activations: Precision | None = None,
        layers: Iterable[str] | None = None,
    ) -> Network:
        """A copy with weight and/or activation precision set, on all ops or on ``layers``."""
        w = weights or precision
        a = activations or precision
        chosen = None if layers is None else set(layers)
        if chosen is not None:
            unknown = chosen - {o.name for o in self.ops}
            if unknown:
                raise InputError(f"layers: no op named {sorted(unknown)[0]!r} in {self.name}")
        ops = tuple(
            o.with_precision(weights=w, activations=a) if chosen is None or o.name in chosen else o
            for o in self.ops
        )
        return replace(self, ops=ops)
