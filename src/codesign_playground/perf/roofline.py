"""Multi-level roofline: per op, the time under the compute ceiling and under each memory
level's bandwidth ceiling; the largest binds.

Traffic through a level is bounded below by the data each operand must cross it: at least
once (compulsory), except activations passed between ops that fit inside the level (they
stay on-chip: :func:`resident_activations`), and for matrix products at least
``m n k / sqrt(S)`` elements per input operand when only ``S`` elements fit inside the level
(the Hong-Kung red-blue pebble bound for matrix multiplication; Hong & Kung, STOC 1981;
tight constant in Smith et al., "A Tight I/O Lower Bound for Matrix Multiplication",
arXiv:1702.02017, 2019). The roofline itself is Williams, Waterman & Patterson, "Roofline",
CACM 52(4), 2009, extended to every level of the hierarchy as in Yang et al., "Hierarchical
Roofline Analysis", arXiv:2009.05257, 2020.
Equations: ``docs/models.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from codesign_playground.hardware.spec import HardwareSpec
from codesign_playground.perf.batch import sum_by_op
from codesign_playground.units import FloatArray, IntArray
from codesign_playground.workload.arrays import LayerArrays
from codesign_playground.workload.ir import Network

if TYPE_CHECKING:
    from codesign_playground.perf.batch import DesignBatch, Workload

__all__ = [
    "OPERANDS",
    "RooflineBatch",
    "RooflineResult",
    "operand_traffic_bytes",
    "residency_thresholds",
    "roofline",
    "roofline_batch",
    "roofline_times",
]

OPERANDS = ("inputs", "weights", "outputs")


def operand_traffic_bytes(la: LayerArrays, inner_elements: float) -> FloatArray:
    """Minimum bytes of each operand crossing a level with ``inner_elements`` inside it.

    Returns shape ``(3, n_ops)`` (inputs, weights, outputs): the one-design case of the
    batched traffic bound used by :func:`roofline_batch`.
    """
    inner = np.array([float(inner_elements)])
    return _traffic_batch(la, inner, np.arange(la.n_ops))[..., 0]


def roofline_times(
    flops: FloatArray,
    traffic_bytes: FloatArray,
    peak_ops_per_s: float | FloatArray,
    bandwidth_bytes_per_s: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, npt.NDArray[np.int64]]:
    """The roofline core, broadcasting over ops and design points.

    ``flops``: (..., n_ops); ``traffic_bytes``: (n_levels, ..., n_ops); ``peak``: (..., 1) or
    scalar; ``bandwidth``: (n_levels, ..., 1) with ``inf`` where a level has no ceiling.
    Returns compute time, per-level memory time, latency (the max) and the index of the
    binding ceiling (0 = compute, 1 + j = level j).
    """
    compute_s = flops / peak_ops_per_s
    memory_s = traffic_bytes / bandwidth_bytes_per_s
    stacked = np.concatenate([compute_s[np.newaxis], memory_s], axis=0)
    bound = np.argmax(stacked, axis=0)
    latency = np.max(stacked, axis=0)
    return compute_s, memory_s, latency, bound


@dataclass(frozen=True)
class RooflineResult:
    """Per-op times under every ceiling (seconds), the binding ceiling, and chart data."""

    names: tuple[str, ...]
    level_names: tuple[str, ...]
    peak_ops_per_s: FloatArray  # per op (its precision)
    bandwidth_bytes_per_s: FloatArray  # per level (inf: no published ceiling)
    flops: FloatArray
    traffic_bytes: FloatArray  # (n_levels, n_ops)
    operand_traffic_bytes: FloatArray  # (n_levels, 3, n_ops): inputs, weights, outputs
    compute_s: FloatArray
    memory_s: FloatArray  # (n_levels, n_ops)
    latency_s: FloatArray
    bound: tuple[str, ...]

    @property
    def utilization(self) -> FloatArray:
        """Fraction of the compute peak attained (compute time over latency)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            u = np.where(self.latency_s > 0, self.compute_s / self.latency_s, 0.0)
        return np.asarray(u, dtype=np.float64)

    def chart(self) -> dict[str, Any]:
        """Data for a roofline plot: ceilings and one point per op and level."""
        with np.errstate(invalid="ignore", divide="ignore"):
            attained = np.where(self.latency_s > 0, self.flops / self.latency_s, 0.0)
            intensity = np.where(self.traffic_bytes > 0, self.flops / self.traffic_bytes, 0.0)
        return {
            "peak_ops_per_s": float(np.max(self.peak_ops_per_s)) if self.names else 0.0,
            "ceilings": [
                {"level": name, "bandwidth_bytes_per_s": float(bw)}
                for name, bw in zip(self.level_names, self.bandwidth_bytes_per_s, strict=True)
                if np.isfinite(bw)
            ],
            "points": [
                {
                    "op": self.names[i],
                    "bound": self.bound[i],
                    "attained_ops_per_s": float(attained[i]),
                    "intensity_ops_per_byte": {
                        name: float(intensity[j, i]) for j, name in enumerate(self.level_names)
                    },
                }
                for i in range(len(self.names))
            ],
        }


def residency_thresholds(net: Network) -> tuple[FloatArray, FloatArray]:
    """Per op, the on-chip activation capacity (bytes) from which all its activation inputs
    stay on-chip, and from which its outputs do (``inf``: never, e.g. network inputs and
    outputs). See :func:`resident_activations`."""
    consumed: set[str] = set()
    for op in net.ops:
        consumed.update(t.name for t in op.inputs)
    produced: dict[str, int] = {}
    th_in = np.full(len(net.ops), np.inf)
    th_out = np.full(len(net.ops), np.inf)
    for i, op in enumerate(net.ops):
        acts = [t for t in op.inputs if t.dtype not in ("int64", "int32", "bool")]
        if acts and all(t.name in produced for t in acts):
            th_in[i] = max(produced[t.name] for t in acts)
        if op.outputs and all(t.name in consumed for t in op.outputs):
            th_out[i] = op.output_bytes
        for t in op.outputs:
            produced[t.name] = op.output_bytes
    return th_in, th_out


@dataclass(frozen=True)
class RooflineBatch:
    """:class:`RooflineResult`'s arrays for ``D`` designs (a trailing design axis)."""

    ops: IntArray  # the ops evaluated (indices into the network)
    peak_ops_per_s: FloatArray  # (n, D)
    bandwidth_bytes_per_s: FloatArray  # (L, D)
    operand_traffic_bytes: FloatArray  # (L, 3, n, D)
    compute_s: FloatArray  # (n, D)
    memory_s: FloatArray  # (L, n, D)
    latency_s: FloatArray  # (n, D)
    bound: IntArray  # (n, D): 0 compute, 1 + j level j

    @property
    def traffic_bytes(self) -> FloatArray:
        return np.asarray(self.operand_traffic_bytes.sum(axis=1), dtype=np.float64)


def _traffic_batch(la: LayerArrays, inner: FloatArray, ops: IntArray) -> FloatArray:
    """Operand traffic of ops ``ops`` for ``D`` inner capacities, shape ``(3, n, D)``.

    A matrix product moves at least ``m n k / sqrt(S)`` elements of each input operand
    across a level with ``S`` elements inside it, and at least each operand once; ops
    without a GEMM move each tensor once; GEMM ops add their other weights (biases).
    """
    d = len(inner)
    cols = [
        np.broadcast_to(x[ops, np.newaxis], (len(ops), d)).copy()
        for x in (la.input_bytes, la.weight_bytes, la.output_bytes)
    ]
    rows = np.flatnonzero(np.isin(la.gemm_op, ops))
    if len(rows):
        s = np.maximum(inner, 1.0)[np.newaxis, :]
        count, m, n, k = (
            a[rows, np.newaxis] for a in (la.gemm_count, la.gemm_m, la.gemm_n, la.gemm_k)
        )
        reuse_bound = m * n * k / np.sqrt(s)
        act_b = (la.act_bits[la.gemm_op[rows]] / 8.0)[:, np.newaxis]
        b_b = (la.b_bits[rows] / 8.0)[:, np.newaxis]
        x = count * np.maximum(m * k, reuse_bound) * act_b
        w = count * np.maximum(k * n, reuse_bound) * b_b
        y = np.broadcast_to(count * m * n * act_b, x.shape)
        pos = {int(o): i for i, o in enumerate(ops)}
        op_pos = np.array([pos[int(o)] for o in la.gemm_op[rows]], dtype=np.int64)
        w_once = sum_by_op(op_pos, (count * k * n * b_b)[:, 0], len(ops))
        g_ops = np.bincount(la.gemm_op[rows], minlength=la.n_ops)[ops] > 0
        extra_w = np.where(la.has_weights[ops], np.maximum(la.weight_bytes[ops] - w_once, 0.0), 0.0)
        gm = g_ops[:, np.newaxis]
        cols[0] = np.where(gm, sum_by_op(op_pos, x, len(ops)), cols[0])
        cols[1] = np.where(gm, sum_by_op(op_pos, w, len(ops)) + extra_w[:, np.newaxis], cols[1])
        cols[2] = np.where(gm, sum_by_op(op_pos, y, len(ops)), cols[2])
    return np.stack(cols)


def roofline_batch(
    work: Workload, designs: DesignBatch, ops: IntArray | None = None
) -> RooflineBatch:
    """The multi-level roofline of ops ``ops`` (default all) on every design of ``designs``."""
    la = work.la
    sel = np.arange(la.n_ops) if ops is None else np.asarray(ops, dtype=np.int64)
    d = designs.n
    peak = np.zeros((len(sel), d))
    for p in set(la.act_precisions[int(i)] for i in sel):
        rows = np.asarray([la.act_precisions[int(i)] == p for i in sel])
        first = la.names[int(sel[rows][0])]
        peak[rows] = 2.0 * designs.peak_macs_per_cycle(p, first) * designs.clock_hz
    # mean activation width of the network's ops (weights: ops a distinct op stands for)
    bits = float(np.average(la.act_bits, weights=work.op_weights)) if la.n_ops else 8.0
    total = np.nan_to_num(designs.total_capacity_bytes(), nan=0.0)
    holds = [set(h) for h in designs.level_holds]
    th_in, th_out = work.residency
    per_level = []
    for j in range(designs.n_levels):
        inner_bytes = sum((total[i] for i in range(j) if holds[i] & holds[j]), start=np.zeros(d))
        inner = np.where(inner_bytes > 0, inner_bytes * 8.0 / bits, designs.num_pes)
        traffic = _traffic_batch(la, inner, sel)
        act_inside = sum(
            (
                total[i]
                for i in range(j)
                if {"inputs", "outputs"} & holds[i] and holds[i] & holds[j]
            ),
            start=np.zeros(d),
        )
        ai = act_inside[np.newaxis, :]
        kept_in = (th_in[sel, np.newaxis] <= ai) & (ai > 0)
        kept_out = (th_out[sel, np.newaxis] <= ai) & (ai > 0)
        traffic[0] = np.where(kept_in, 0.0, traffic[0])
        traffic[2] = np.where(kept_out, 0.0, traffic[2])
        mask = np.asarray([op in holds[j] for op in OPERANDS], dtype=np.float64)
        per_level.append(mask[:, np.newaxis, np.newaxis] * traffic)
    by_operand = np.asarray(per_level, dtype=np.float64).reshape(designs.n_levels, 3, len(sel), d)
    bw = designs.bandwidth()
    compute_s, memory_s, latency, bound = roofline_times(
        la.flops[sel, np.newaxis], by_operand.sum(axis=1), peak, bw[:, np.newaxis, :]
    )
    return RooflineBatch(
        ops=sel,
        peak_ops_per_s=peak,
        bandwidth_bytes_per_s=bw,
        operand_traffic_bytes=by_operand,
        compute_s=compute_s,
        memory_s=memory_s,
        latency_s=latency,
        bound=np.asarray(bound, dtype=np.int64),
    )


def roofline(net: Network, spec: HardwareSpec) -> RooflineResult:
    """Evaluate every op of ``net`` under every ceiling of ``spec`` (the one-design case of
    :func:`roofline_batch`)."""
    from codesign_playground.perf.batch import DesignBatch, Workload

    work = Workload.of(net)
    rb = roofline_batch(work, DesignBatch.from_specs([spec]))
    latency = rb.latency_s[:, 0]
    labels = ("compute", *(lv.name for lv in spec.memory))
    bound = tuple(
        "none" if latency[i] == 0 else labels[int(b)] for i, b in enumerate(rb.bound[:, 0])
    )
    return RooflineResult(
        names=work.la.names,
        level_names=tuple(lv.name for lv in spec.memory),
        peak_ops_per_s=rb.peak_ops_per_s[:, 0],
        bandwidth_bytes_per_s=rb.bandwidth_bytes_per_s[:, 0],
        flops=work.la.flops,
        traffic_bytes=rb.traffic_bytes[..., 0],
        operand_traffic_bytes=rb.operand_traffic_bytes[..., 0],
        compute_s=rb.compute_s[:, 0],
        memory_s=rb.memory_s[..., 0],
        latency_s=latency,
        bound=bound,
    )
