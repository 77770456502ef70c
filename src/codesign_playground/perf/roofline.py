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
from typing import Any

import numpy as np
import numpy.typing as npt

from codesign_playground.errors import HardwareSpecError
from codesign_playground.hardware.spec import HardwareSpec
from codesign_playground.workload.arrays import LayerArrays, layer_arrays
from codesign_playground.workload.ir import Network

__all__ = [
    "OPERANDS",
    "RooflineResult",
    "inner_capacity_elements",
    "operand_traffic_bytes",
    "residency_thresholds",
    "resident_activations",
    "roofline",
    "roofline_times",
]

FloatArray = npt.NDArray[np.float64]
OPERANDS = ("inputs", "weights", "outputs")


def operand_traffic_bytes(la: LayerArrays, inner_elements: float | FloatArray) -> FloatArray:
    """Minimum bytes of each operand crossing a level with ``inner_elements`` inside it.

    Returns shape ``(3, n_ops)`` (inputs, weights, outputs); ``inner_elements`` may be a
    scalar or an array broadcasting against the GEMM table.
    """
    s = np.maximum(np.asarray(inner_elements, dtype=np.float64), 1.0)
    count, m, n, k = la.gemm_count, la.gemm_m, la.gemm_n, la.gemm_k
    reuse_bound = m * n * k / np.sqrt(s)
    act_b = la.act_bits[la.gemm_op] / 8.0
    x = count * np.maximum(m * k, reuse_bound) * act_b
    w = count * np.maximum(k * n, reuse_bound) * la.b_bits / 8.0
    y = count * m * n * act_b
    n_ops = la.n_ops
    gx = np.bincount(la.gemm_op, weights=x, minlength=n_ops)
    gw = np.bincount(la.gemm_op, weights=w, minlength=n_ops)
    gy = np.bincount(la.gemm_op, weights=y, minlength=n_ops)
    w_once = np.bincount(la.gemm_op, weights=count * k * n * la.b_bits / 8.0, minlength=n_ops)
    has_gemm = np.bincount(la.gemm_op, minlength=n_ops) > 0
    # ops without a GEMM move each tensor once; GEMM ops add their other weights (biases)
    extra_w = np.where(la.has_weights, np.maximum(la.weight_bytes - w_once, 0.0), 0.0)
    inputs = np.where(has_gemm, gx, la.input_bytes)
    weights = np.where(has_gemm, gw + extra_w, la.weight_bytes)
    outputs = np.where(has_gemm, gy, la.output_bytes)
    return np.stack([inputs, weights, outputs])


def inner_capacity_elements(spec: HardwareSpec, bits: float) -> list[float]:
    """Per level: elements that fit in the levels inside it (sharing an operand with it);
    the innermost levels have the PE array's own registers, one element per PE."""
    out = []
    for j, level in enumerate(spec.memory):
        inner = [
            lv.total_capacity_bytes or 0
            for lv in spec.memory[:j]
            if set(lv.holds) & set(level.holds)
        ]
        cap_bytes = float(sum(inner))
        out.append(cap_bytes * 8.0 / bits if cap_bytes else float(spec.compute.num_pes))
    return out


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


def _peaks(spec: HardwareSpec, net: Network) -> FloatArray:
    peaks = []
    supported = spec.precisions
    for op in net.ops:
        prec = op.act_precision
        if prec not in supported:
            raise HardwareSpecError(
                f"precision: {spec.name} does not compute in {prec} (layer {op.name!r}); "
                f"set precision (--precision) to one of {', '.join(supported)}"
            )
        peaks.append(spec.peak_ops_per_s(prec))
    return np.asarray(peaks, dtype=np.float64)


def _activation_capacity_inside(spec: HardwareSpec, j: int) -> float:
    """Bytes of the levels inside level ``j`` that hold activations (inputs or outputs)."""
    level = spec.memory[j]
    return float(
        sum(
            lv.total_capacity_bytes or 0
            for lv in spec.memory[:j]
            if {"inputs", "outputs"} & set(lv.holds) and set(lv.holds) & set(level.holds)
        )
    )


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


def resident_activations(
    net: Network, capacity_bytes: float
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Which ops find all their activation inputs on-chip, and whose outputs stay on-chip.

    A tensor passed from one op to a later one stays inside a level when it fits in the
    activation capacity inside that level: its producer does not write it out and its
    consumer does not read it back. Network inputs are always read and network outputs
    (tensors no later op reads) always written.
    """
    th_in, th_out = residency_thresholds(net)
    return th_in <= capacity_bytes, th_out <= capacity_bytes


def roofline(net: Network, spec: HardwareSpec) -> RooflineResult:
    """Evaluate every op of ``net`` under every ceiling of ``spec``."""
    la = layer_arrays(net)
    peak = _peaks(spec, net)
    bits = float(np.mean(la.act_bits)) if la.n_ops else 8.0
    inner = inner_capacity_elements(spec, bits)
    bws = []
    per_level = []
    for j, (level, s) in enumerate(zip(spec.memory, inner, strict=True)):
        mask = np.asarray([op in level.holds for op in OPERANDS], dtype=np.float64)
        traffic = operand_traffic_bytes(la, s)
        act_inside = _activation_capacity_inside(spec, j)
        if act_inside > 0:
            kept_in, kept_out = resident_activations(net, act_inside)
            traffic[0] = np.where(kept_in, 0.0, traffic[0])
            traffic[2] = np.where(kept_out, 0.0, traffic[2])
        per_level.append(mask[:, np.newaxis] * traffic)
        bw = level.bandwidth(spec.compute.clock_hz)
        bws.append(np.inf if bw is None else bw * level.instances)
    by_operand = np.asarray(per_level, dtype=np.float64).reshape(len(spec.memory), 3, la.n_ops)
    traffic_arr = by_operand.sum(axis=1)
    bw_arr = np.asarray(bws, dtype=np.float64)
    compute_s, memory_s, latency, bound_idx = roofline_times(
        la.flops, traffic_arr, peak, bw_arr[:, np.newaxis]
    )
    labels = ("compute", *(lv.name for lv in spec.memory))
    bound = tuple("none" if latency[i] == 0 else labels[int(b)] for i, b in enumerate(bound_idx))
    return RooflineResult(
        names=la.names,
        level_names=tuple(lv.name for lv in spec.memory),
        peak_ops_per_s=peak,
        bandwidth_bytes_per_s=bw_arr,
        flops=la.flops,
        traffic_bytes=traffic_arr,
        operand_traffic_bytes=by_operand,
        compute_s=compute_s,
        memory_s=memory_s,
        latency_s=latency,
        bound=bound,
    )
