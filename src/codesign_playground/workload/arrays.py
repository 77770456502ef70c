"""Column view of a network: NumPy arrays over ops and over GEMMs, for vectorized models."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from codesign_playground.units import FloatArray, IntArray
from codesign_playground.workload.ir import PRECISION_BITS, Network, Precision

__all__ = ["LayerArrays", "layer_arrays"]


@dataclass(frozen=True)
class LayerArrays:
    """Per-op columns (length ``n_ops``) and the flattened GEMM table (length ``n_gemms``).

    ``gemm_op[i]`` is the index of the op that GEMM ``i`` belongs to; an op may own zero
    (elementwise), one (conv, dense) or several (attention) GEMMs.
    """

    names: tuple[str, ...]
    kinds: tuple[str, ...]
    act_precisions: tuple[Precision, ...]
    macs: FloatArray
    flops: FloatArray  # all arithmetic: 2 x MACs + other FLOPs
    weight_bytes: FloatArray
    input_bytes: FloatArray
    output_bytes: FloatArray
    weight_bits: FloatArray
    act_bits: FloatArray
    has_weights: npt.NDArray[np.bool_]
    gemm_op: IntArray
    gemm_count: FloatArray
    gemm_m: FloatArray
    gemm_n: FloatArray
    gemm_k: FloatArray

    @property
    def n_ops(self) -> int:
        return len(self.names)

    @property
    def b_bits(self) -> FloatArray:
        """Bits per element of each GEMM's right operand (a weight, or an activation)."""
        bits = np.where(self.has_weights, self.weight_bits, self.act_bits)
        return bits[self.gemm_op]


def layer_arrays(net: Network) -> LayerArrays:
    """Columns of ``net`` for vectorized models (counts as float64: exact below 2**53)."""
    ops = net.ops
    gemm_rows = [(i, g.count, g.m, g.n, g.k) for i, op in enumerate(ops) for g in op.gemms]
    table = np.array(gemm_rows, dtype=np.float64).reshape(-1, 5)

    def col(values: list[float]) -> FloatArray:
        return np.asarray(values, dtype=np.float64)

    return LayerArrays(
        names=tuple(o.name for o in ops),
        kinds=tuple(o.kind for o in ops),
        act_precisions=tuple(o.act_precision for o in ops),
        macs=col([o.macs for o in ops]),
        flops=col([o.total_flops for o in ops]),
        weight_bytes=col([o.weight_bytes for o in ops]),
        input_bytes=col([o.input_bytes for o in ops]),
        output_bytes=col([o.output_bytes for o in ops]),
        weight_bits=col([PRECISION_BITS[o.weight_precision] for o in ops]),
        act_bits=col([PRECISION_BITS[o.act_precision] for o in ops]),
        has_weights=np.asarray([bool(o.weights) for o in ops], dtype=bool),
        gemm_op=table[:, 0].astype(np.int64),
        gemm_count=table[:, 1],
        gemm_m=table[:, 2],
        gemm_n=table[:, 3],
        gemm_k=table[:, 4],
    )
