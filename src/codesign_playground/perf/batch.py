"""The data every cost model shares: a workload, a batch of designs as columns, and timing.

A :class:`DesignBatch` holds ``D`` hardware designs of one kind and one memory structure
(same level names and operands) as NumPy columns: per-level capacities, bandwidths and
access energies of shape ``(n_levels, D)``, compute fabric columns of shape ``(D,)``. One
design (``estimate``) is the case ``D = 1``; exploration passes thousands at once. A
:class:`BatchTiming` is what a timing model returns: per op and design, cycles, latency,
utilization, the binding ceiling, and bytes read from and written to every level.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from codesign_playground.errors import HardwareSpecError
from codesign_playground.hardware.spec import HardwareSpec
from codesign_playground.perf.energy import access_energy_pj_per_byte, tech_node
from codesign_playground.units import FloatArray, IntArray, Precision
from codesign_playground.workload.arrays import LayerArrays, layer_arrays
from codesign_playground.workload.ir import Network, Op

__all__ = ["BatchTiming", "DesignBatch", "Workload", "sum_by_op", "weighted_total"]


def sum_by_op(op_of: IntArray, values: FloatArray, n_ops: int) -> FloatArray:
    """Rows of ``values`` (one per GEMM, designs along the last axis) summed per op
    (``op_of[g]`` the op of row ``g``), added in row order. A design's sums then do not depend
    on which designs share its batch: BLAS products do, in the last bit (OpenBLAS picks
    kernels by shape and CPU), which made a chunked exploration differ from a single run."""
    out = np.zeros((n_ops, *np.shape(values)[1:]), dtype=np.float64)
    np.add.at(out, np.asarray(op_of, dtype=np.int64), np.asarray(values, dtype=np.float64))
    return out


def weighted_total(weights: FloatArray, values: FloatArray) -> FloatArray:
    """``weights @ values`` over the ops (first axis), added op by op in order, so every
    design's total is the same whatever batch it is priced in (see :func:`sum_by_op`)."""
    values = np.asarray(values, dtype=np.float64)
    out = np.zeros(values.shape[1:], dtype=np.float64)
    for i, w in enumerate(np.asarray(weights, dtype=np.float64)):
        out += w * values[i]
    return out


@dataclass(frozen=True)
class Workload:
    """A network with its column view, computed once and shared by every model and design.

    ``weights`` (``None``: all 1) counts how many ops of the original network each op
    stands for: :meth:`distinct` keeps one op per class of identical ops, which models whose
    per-op results depend on nothing but the op (``CostModel.op_independent``) price once.
    """

    net: Network
    la: LayerArrays
    weights: FloatArray | None = None
    thresholds: tuple[FloatArray, FloatArray] | None = None
    #: results models may keep per workload (e.g. the spatial mapper's per geometry)
    memo: dict[object, object] = field(default_factory=dict, compare=False, repr=False)

    @staticmethod
    def of(net: Network) -> Workload:
        return Workload(net, layer_arrays(net))

    @property
    def op_weights(self) -> FloatArray:
        return np.ones(self.la.n_ops) if self.weights is None else self.weights

    def distinct(self) -> Workload:
        """One op per class of ops identical in everything a model reads (kind, precisions,
        counts, bytes, GEMM shapes, activation residency thresholds), with multiplicities."""
        memo = self.memo.get("distinct")
        if isinstance(memo, Workload):
            return memo
        la = self.la
        th_in, th_out = self.residency
        gemms: list[list[float]] = [[] for _ in range(la.n_ops)]
        for g, o in enumerate(la.gemm_op):
            gemms[int(o)] += [la.gemm_count[g], la.gemm_m[g], la.gemm_n[g], la.gemm_k[g]]
        first: dict[tuple[object, ...], int] = {}
        keep: list[int] = []
        weights: list[float] = []
        for i, op in enumerate(self.net.ops):
            key = (
                op.kind,
                op.op_type,
                la.act_precisions[i],
                la.weight_bits[i],
                la.macs[i],
                la.flops[i],
                la.weight_bytes[i],
                la.input_bytes[i],
                la.output_bytes[i],
                bool(la.has_weights[i]),
                th_in[i],
                th_out[i],
                tuple(gemms[i]),
                loop_key(op),
            )
            j = first.get(key)
            if j is None:
                first[key] = len(keep)
                keep.append(i)
                weights.append(float(self.op_weights[i]))
            else:
                weights[j] += float(self.op_weights[i])
        if len(keep) == la.n_ops:
            self.memo["distinct"] = self
            return self
        idx = np.asarray(keep, dtype=np.int64)
        net = replace(self.net, ops=tuple(self.net.ops[i] for i in keep))
        out = Workload(net, layer_arrays(net), np.asarray(weights), (th_in[idx], th_out[idx]))
        self.memo["distinct"] = out  # models keep their per-workload results on it
        return out

    @cached_property
    def gemm_to_op(self) -> FloatArray:
        """``(n_ops, n_gemms)`` 0/1 matrix: ``gemm_to_op @ x`` sums GEMM rows per op."""
        la = self.la
        m = np.zeros((la.n_ops, len(la.gemm_op)))
        m[la.gemm_op, np.arange(len(la.gemm_op))] = 1.0
        return m

    @cached_property
    def has_gemm(self) -> np.ndarray:
        return np.bincount(self.la.gemm_op, minlength=self.la.n_ops) > 0

    @cached_property
    def residency(self) -> tuple[FloatArray, FloatArray]:
        """Per op, the on-chip activation bytes from which its inputs / outputs stay on-chip
        (:func:`codesign_playground.perf.roofline.residency_thresholds`)."""
        if self.thresholds is not None:
            return self.thresholds
        from codesign_playground.perf.roofline import residency_thresholds

        return residency_thresholds(self.net)

    @cached_property
    def precisions(self) -> tuple[Precision, ...]:
        return tuple(sorted(set(self.la.act_precisions)))


def loop_key(op: Op) -> tuple[object, ...]:
    """What a model may read of an op beyond its counts: tensor shapes, attributes
    (convolution geometry) and whether it copies."""
    shapes = tuple(t.shape for t in (*op.inputs, *op.outputs, *op.weights, *op.buffers))
    return (shapes, op.copies, tuple(sorted((k, repr(v)) for k, v in op.attrs.items())))


def _nan(x: float | None) -> float:
    return np.nan if x is None else float(x)


@dataclass(frozen=True)
class DesignBatch:
    """``D`` designs of one kind and memory structure, as columns.

    Level columns are per instance: ``capacity_bytes`` (``nan``: unbounded),
    ``bandwidth_bytes_per_s`` and ``bytes_per_cycle`` (``nan``: not given; a level gives
    one of them), ``read_pj_per_byte`` / ``write_pj_per_byte`` from the one access-energy
    rule (:func:`codesign_playground.perf.energy.access_energy_pj_per_byte`).
    ``make_spec(i)`` returns design ``i`` as a :class:`HardwareSpec` (models that work on
    one spec at a time, and reports, use it).
    """

    kind: str
    names: tuple[str, ...]
    level_names: tuple[str, ...]
    level_holds: tuple[tuple[str, ...], ...]
    instances: FloatArray  # (L, D)
    capacity_bytes: FloatArray  # (L, D)
    bandwidth_bytes_per_s: FloatArray  # (L, D)
    bytes_per_cycle: FloatArray  # (L, D)
    read_pj_per_byte: FloatArray  # (L, D)
    write_pj_per_byte: FloatArray  # (L, D)
    rows: FloatArray
    cols: FloatArray
    cores: FloatArray
    clock_hz: FloatArray
    tech_node_nm: FloatArray
    dataflow: tuple[str, ...]
    macs_per_pe: dict[Precision, FloatArray]  # 0 where a design lacks the precision
    die_area_mm2: FloatArray
    make_spec: Callable[[int], HardwareSpec] = field(compare=False, repr=False)

    @property
    def n(self) -> int:
        return len(self.names)

    @property
    def n_levels(self) -> int:
        return len(self.level_names)

    @property
    def num_pes(self) -> FloatArray:
        return np.asarray(self.rows * self.cols * self.cores, dtype=np.float64)

    @property
    def precisions(self) -> tuple[Precision, ...]:
        return tuple(self.macs_per_pe)

    def total_capacity_bytes(self) -> FloatArray:
        """``(L, D)`` capacity over all instances (``nan``: unbounded)."""
        return np.asarray(self.capacity_bytes * self.instances, dtype=np.float64)

    def bandwidth(self) -> FloatArray:
        """``(L, D)`` bytes/s over all instances; ``inf`` where a level gives no bandwidth."""
        per = np.where(
            np.isnan(self.bandwidth_bytes_per_s),
            self.bytes_per_cycle * self.clock_hz[np.newaxis, :],
            self.bandwidth_bytes_per_s,
        )
        return np.asarray(np.where(np.isnan(per), np.inf, per * self.instances), dtype=np.float64)

    def peak_macs_per_cycle(self, precision: Precision, op: str | None = None) -> FloatArray:
        """``(D,)`` MACs per cycle at ``precision``; an error names a design lacking it."""
        per = self.macs_per_pe.get(precision)
        if per is None or np.any(per <= 0):
            i = 0 if per is None else int(np.flatnonzero(per <= 0)[0])
            spec = self.make_spec(i)
            where = f" (layer {op!r})" if op else ""
            raise HardwareSpecError(
                f"precision: {spec.name} does not compute in {precision}{where}; "
                f"set precision (--precision) to one of {', '.join(spec.precisions)}"
            )
        return np.asarray(self.num_pes * per, dtype=np.float64)

    def level_index(self, operand: str) -> int:
        """The innermost on-chip level holding ``operand`` (-1: none)."""
        for j in range(self.n_levels - 1):
            if operand in self.level_holds[j]:
                return j
        return -1

    def take(self, idx: IntArray) -> DesignBatch:
        """The designs ``idx`` of this batch."""
        idx = np.asarray(idx, dtype=np.int64)
        parent = self.make_spec
        return replace(
            self,
            names=tuple(self.names[int(i)] for i in idx),
            instances=self.instances[:, idx],
            capacity_bytes=self.capacity_bytes[:, idx],
            bandwidth_bytes_per_s=self.bandwidth_bytes_per_s[:, idx],
            bytes_per_cycle=self.bytes_per_cycle[:, idx],
            read_pj_per_byte=self.read_pj_per_byte[:, idx],
            write_pj_per_byte=self.write_pj_per_byte[:, idx],
            rows=self.rows[idx],
            cols=self.cols[idx],
            cores=self.cores[idx],
            clock_hz=self.clock_hz[idx],
            tech_node_nm=self.tech_node_nm[idx],
            dataflow=tuple(self.dataflow[int(i)] for i in idx),
            macs_per_pe={p: v[idx] for p, v in self.macs_per_pe.items()},
            die_area_mm2=self.die_area_mm2[idx],
            make_spec=lambda i: parent(int(idx[i])),
        )

    @staticmethod
    def from_specs(specs: Sequence[HardwareSpec]) -> DesignBatch:
        """Columns of ``specs`` (one kind, one memory structure)."""
        if not specs:
            raise HardwareSpecError("hardware: a design batch needs at least one design")
        first = specs[0]
        names = tuple(lv.name for lv in first.memory)
        holds = tuple(tuple(lv.holds) for lv in first.memory)
        for s in specs[1:]:
            if s.kind != first.kind or tuple(lv.name for lv in s.memory) != names:
                raise HardwareSpecError(
                    f"hardware: {s.name} ({s.kind}) differs in kind or memory levels from "
                    f"{first.name} ({first.kind}); batch designs of one structure together"
                )
        n_l, d = len(names), len(specs)
        cols: dict[str, FloatArray] = {
            k: np.zeros((n_l, d)) for k in ("inst", "cap", "bw", "bpc", "rd", "wr")
        }
        for i, s in enumerate(specs):
            last = len(s.memory) - 1
            for j, lv in enumerate(s.memory):
                r, w, _ = access_energy_pj_per_byte(s, lv, j == last)
                cols["inst"][j, i] = lv.instances
                cols["cap"][j, i] = _nan(lv.capacity_bytes)
                cols["bw"][j, i] = _nan(lv.bandwidth_bytes_per_s)
                cols["bpc"][j, i] = _nan(lv.bytes_per_cycle)
                cols["rd"][j, i] = r
                cols["wr"][j, i] = w
        precs = sorted({p for s in specs for p in s.precisions})
        frozen = tuple(specs)
        return DesignBatch(
            kind=first.kind,
            names=tuple(s.name for s in specs),
            level_names=names,
            level_holds=holds,
            instances=cols["inst"],
            capacity_bytes=cols["cap"],
            bandwidth_bytes_per_s=cols["bw"],
            bytes_per_cycle=cols["bpc"],
            read_pj_per_byte=cols["rd"],
            write_pj_per_byte=cols["wr"],
            rows=np.array([s.compute.rows for s in specs], dtype=np.float64),
            cols=np.array([s.compute.cols for s in specs], dtype=np.float64),
            cores=np.array([s.compute.cores for s in specs], dtype=np.float64),
            clock_hz=np.array([s.compute.clock_hz for s in specs], dtype=np.float64),
            tech_node_nm=np.array([tech_node(s) for s in specs], dtype=np.float64),
            dataflow=tuple(s.dataflow for s in specs),
            macs_per_pe={
                p: np.array([float(s.compute.macs_per_pe_per_cycle.get(p, 0.0)) for s in specs])
                for p in precs
            },
            die_area_mm2=np.array([_nan(s.die_area_mm2) for s in specs], dtype=np.float64),
            make_spec=lambda i: frozen[i],
        )


@dataclass(frozen=True)
class BatchTiming:
    """What a timing model returns: per op (rows) and design (columns).

    ``bound`` indexes ``bound_labels`` (``"none"``, ``"compute"``, then level names);
    ``read_bytes`` / ``write_bytes`` have shape ``(n_levels, n_ops, D)``.
    """

    model: str
    cycles: FloatArray
    latency_s: FloatArray
    utilization: FloatArray
    bound: IntArray
    bound_labels: tuple[str, ...]
    read_bytes: FloatArray
    write_bytes: FloatArray
    #: models that price their own energy (the GPU's board power) give it here:
    #: component names and joules of shape ``(n_components, n_ops, D)``
    energy: tuple[tuple[str, ...], FloatArray] | None = None


def bound_labels(designs: DesignBatch) -> tuple[str, ...]:
    """Labels ``bound`` indexes: 0 none, 1 compute, 2 + j level ``j``."""
    return ("none", "compute", *designs.level_names)
