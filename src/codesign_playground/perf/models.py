"""The built-in timing models, registered with :mod:`codesign_playground.perf.engine`.

============  =============  ============================================================
name          kinds          what it computes (vectorized over designs unless noted)
============  =============  ============================================================
roofline      any            multi-level roofline (``perf/roofline.py``)
systolic      systolic       SCALE-Sim fast mode for GEMMs, roofline for the rest
                             (``perf/systolic_fast.py``); auto on one-MAC cell arrays
rtl           systolic       GEMM cycles of the generated RTL, the systolic model's
                             traffic (a loop over designs: the RTL cycle count is per array)
spatial       spatial        loop-nest mapper (``perf/spatial.py``): one mapping search per
                             distinct geometry, cycles re-timed for every design sharing it
gpu           gpu            kernel-level GPU model (``perf/gpu.py``): one design at a time
============  =============  ============================================================
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from codesign_playground.perf.batch import (
    BatchTiming,
    DesignBatch,
    Workload,
    bound_labels,
    sum_by_op,
)
from codesign_playground.perf.engine import register
from codesign_playground.perf.roofline import roofline, roofline_batch
from codesign_playground.perf.systolic_fast import systolic_fast_timing
from codesign_playground.perf.timing import Timing
from codesign_playground.units import FloatArray

__all__ = ["GpuModel", "RooflineModel", "RtlModel", "SpatialModel", "SystolicModel"]


@dataclass(frozen=True)
class RooflineModel:
    """Every op at its multi-level roofline time; traffic is the roofline's bound."""

    name: str = "roofline"
    kinds: tuple[str, ...] = ("*",)
    op_independent: bool = True

    def accepts(self, designs: DesignBatch) -> str | None:
        return None

    def timing(self, work: Workload, designs: DesignBatch) -> BatchTiming:
        rb = roofline_batch(work, designs)
        by = rb.operand_traffic_bytes
        with np.errstate(invalid="ignore", divide="ignore"):
            util = np.where(rb.latency_s > 0, rb.compute_s / rb.latency_s, 0.0)
        return BatchTiming(
            model=self.name,
            cycles=np.ceil(rb.latency_s * designs.clock_hz[np.newaxis, :]),
            latency_s=rb.latency_s,
            utilization=np.asarray(util, dtype=np.float64),
            bound=np.where(rb.latency_s == 0, 0, 1 + rb.bound).astype(np.int64),
            bound_labels=bound_labels(designs),
            read_bytes=by[:, 0] + by[:, 1],
            write_bytes=by[:, 2],
        )


def _cell_array(designs: DesignBatch) -> bool:
    """A systolic fabric of one-MAC cells; catalog entries that publish only a MAC count
    (rows = cols = 1 with thousands of MACs per "PE") have no array to map onto."""
    ones = all(np.all(v[v > 0] == 1) for v in designs.macs_per_pe.values())
    return bool(ones and np.all((designs.rows > 1) | (designs.cols > 1)))


@dataclass(frozen=True)
class SystolicModel:
    """SCALE-Sim's systolic array model in fast mode (:mod:`.systolic_fast`)."""

    name: str = "systolic"
    kinds: tuple[str, ...] = ("systolic",)
    op_independent: bool = True

    def accepts(self, designs: DesignBatch) -> str | None:
        return None

    def timing(self, work: Workload, designs: DesignBatch) -> BatchTiming:
        return systolic_fast_timing(work, designs)


@dataclass(frozen=True)
class RtlModel:
    """GEMM cycles of the generated Verilog (:mod:`.rtl_timing`), the systolic traffic."""

    name: str = "rtl"
    kinds: tuple[str, ...] = ("systolic",)
    op_independent: bool = True

    def accepts(self, designs: DesignBatch) -> str | None:
        from codesign_playground.perf.rtl_timing import RTL_DATAFLOWS

        bad = [df for df in designs.dataflow if df not in RTL_DATAFLOWS]
        if bad:
            return (
                f"hardware field 'dataflow': the generated RTL implements ws and os, not "
                f"{bad[0]!r}; use --mode systolic"
            )
        return None

    def timing(self, work: Workload, designs: DesignBatch) -> BatchTiming:
        from codesign_playground.errors import HardwareSpecError
        from codesign_playground.perf.rtl_timing import rtl_gemm_cycles

        why = self.accepts(designs)
        if why is not None:
            raise HardwareSpecError(why)
        base = systolic_fast_timing(work, designs)
        la = work.la
        cycles = base.cycles.copy()
        g = work.has_gemm
        for i in range(designs.n):
            per_gemm = rtl_gemm_cycles(
                la.gemm_m.astype(np.int64),
                np.ceil(la.gemm_n / designs.cores[i]).astype(np.int64),
                la.gemm_k.astype(np.int64),
                int(designs.rows[i]),
                int(designs.cols[i]),
                designs.dataflow[i],
            )
            cyc = work.gemm_to_op @ (np.asarray(per_gemm, dtype=np.float64) * la.gemm_count)
            cycles[g, i] = cyc[g]
        with np.errstate(invalid="ignore", divide="ignore"):
            util = np.where(
                cycles > 0, la.macs[:, np.newaxis] / (cycles * designs.num_pes[np.newaxis, :]), 0.0
            )
        return BatchTiming(
            model=self.name,
            cycles=cycles,
            latency_s=cycles / designs.clock_hz[np.newaxis, :],
            utilization=np.asarray(util, dtype=np.float64),
            bound=np.where(g[:, np.newaxis], 1, base.bound).astype(np.int64),
            bound_labels=base.bound_labels,
            read_bytes=base.read_bytes,
            write_bytes=base.write_bytes,
        )


def _geometry_keys(designs: DesignBatch) -> list[tuple[object, ...]]:
    """Per design, everything the spatial mapper's choice depends on: all columns but the
    clock and the levels' bandwidths (which only re-time a mapping)."""
    cols = np.vstack(
        [
            designs.rows,
            designs.cols,
            designs.cores,
            designs.tech_node_nm,
            np.nan_to_num(designs.capacity_bytes, nan=-1.0),
            designs.instances,
            designs.read_pj_per_byte,
            designs.write_pj_per_byte,
            *designs.macs_per_pe.values(),
        ]
    )
    return [(*cols[:, i].tolist(), designs.dataflow[i]) for i in range(designs.n)]


@dataclass(frozen=True)
class SpatialModel:
    """The loop-nest mapper (:func:`codesign_playground.perf.spatial.spatial_model`).

    The mapper searches once per distinct geometry (array, capacities, access energies,
    node, precisions, dataflow), on the first design with it; every design sharing the
    geometry keeps that mapping and is re-timed with its own clock and bandwidths in one
    array computation: per loop nest, ``cycles = max(compute, max_l bits_l / bits_per_cycle_l)``.
    The mapper's default objective is energy, which clock and bandwidth do not change.
    """

    name: str = "spatial"
    kinds: tuple[str, ...] = ("spatial",)
    op_independent: bool = True

    def accepts(self, designs: DesignBatch) -> str | None:
        return None

    def timing(self, work: Workload, designs: DesignBatch) -> BatchTiming:
        from codesign_playground.perf.spatial import SpatialResult, spatial_model

        la = work.la
        n_l, n_ops, d = designs.n_levels, la.n_ops, designs.n
        cycles = np.zeros((n_ops, d))
        bound = np.zeros((n_ops, d), dtype=np.int64)
        reads = np.zeros((n_l, n_ops, d))
        writes = np.zeros((n_l, n_ops, d))
        groups: dict[tuple[object, ...], list[int]] = {}
        keys = _geometry_keys(designs)
        for i, key in enumerate(keys):
            groups.setdefault(key, []).append(i)
        bpc_all = 8.0 * designs.bandwidth() / designs.clock_hz[np.newaxis, :]
        for members in groups.values():
            idx = np.asarray(members, dtype=np.int64)
            key = ("spatial", designs.kind, designs.level_names, *keys[members[0]])
            res = work.memo.get(key)
            if not isinstance(res, SpatialResult):
                res = spatial_model(work.net, designs.make_spec(members[0]))
                work.memo[key] = res
            # one row per loop nest (or streamed op): its op, compute cycles, bits per level
            op_of, comp, bits = [], [], []
            for i in range(n_ops):
                m = res.mappings[i]
                if m is None:
                    op_of.append(i)
                    comp.append(res.compute_cycles[i])
                    bits.append(8.0 * (res.read_bytes[:, i] + res.write_bytes[:, i]))
                else:
                    for nest in m.nests:
                        op_of.append(i)
                        comp.append(nest.compute_cycles)
                        bits.append(nest.read_bits + nest.write_bits)
            bits_a = np.asarray(bits, dtype=np.float64)  # (N, L)
            comp_a = np.asarray(comp, dtype=np.float64)
            bpc = bpc_all[:, idx]  # (L, Dg)
            with np.errstate(divide="ignore", invalid="ignore"):
                mem = np.where(
                    np.isinf(bpc)[np.newaxis], 0.0, bits_a[:, :, np.newaxis] / bpc[np.newaxis]
                )  # (N, L, Dg)
            worst = mem.max(axis=1)
            nest_cycles = np.maximum(comp_a[:, np.newaxis], worst)
            cycles[:, idx] = sum_by_op(np.asarray(op_of), nest_cycles, n_ops)
            nest_bound = np.where(worst > comp_a[:, np.newaxis], 2 + mem.argmax(axis=1), 1)
            # an op is bound by its first nest that is not compute-bound
            for r in range(len(op_of) - 1, -1, -1):
                o = op_of[r]
                nb = nest_bound[r]
                bound[o, idx] = np.where((nb != 1) | (bound[o, idx] == 0), nb, bound[o, idx])
            reads[:, :, idx] = res.read_bytes[:, :, np.newaxis]
            writes[:, :, idx] = res.write_bytes[:, :, np.newaxis]
        per_pe = np.zeros((n_ops, d))
        for p, v in designs.macs_per_pe.items():
            per_pe[np.asarray(la.act_precisions) == p] = np.where(v > 0, v, 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            util = np.where(
                cycles > 0,
                la.macs[:, np.newaxis]
                / (cycles * (designs.rows * designs.cols * designs.cores)[np.newaxis] * per_pe),
                0.0,
            )
        return BatchTiming(
            model=self.name,
            cycles=cycles,
            latency_s=cycles / designs.clock_hz[np.newaxis, :],
            utilization=np.asarray(util, dtype=np.float64),
            bound=bound,
            bound_labels=bound_labels(designs),
            read_bytes=reads,
            write_bytes=writes,
        )


@dataclass(frozen=True)
class GpuModel:
    """The kernel-level GPU model: an adapter calling ``perf.gpu`` per design (GPU design
    points are catalog chips or a few template variants).

    ``launch`` (``graph``: kernel time only, as CUDA graphs and compilers run; ``eager``: plus
    the per-call host overhead) and ``tf32`` (``None``: PyTorch's defaults) are execution
    settings. Energy is board power x time (``perf/gpu_power.py``) when every design has a
    board power; otherwise the action-count energy of the other models.
    """

    name: str = "gpu"
    kinds: tuple[str, ...] = ("gpu",)
    op_independent: bool = False
    launch: str = "graph"
    tf32: bool | str | None = None

    def configured(self, *, launch: str = "graph", tf32: bool | str | None = None) -> GpuModel:
        """This model with other execution settings."""
        return replace(self, launch=launch, tf32=tf32)

    def accepts(self, designs: DesignBatch) -> str | None:
        return None

    def timing(self, work: Workload, designs: DesignBatch) -> BatchTiming:
        from codesign_playground.perf.gpu_power import gpu_timing_and_energy

        labels = bound_labels(designs)
        parts: list[Timing] = []
        energies = []
        for i in range(designs.n):
            spec = designs.make_spec(i)
            t, e = gpu_timing_and_energy(
                work.net,
                work.la,
                spec,
                roofline(work.net, spec),
                launch=self.launch,
                tf32=self.tf32,
            )
            parts.append(t)
            energies.append(e)

        def stack(get: str) -> FloatArray:
            return np.stack([np.asarray(getattr(t, get), dtype=np.float64) for t in parts], -1)

        index = {lab: k for k, lab in enumerate(labels)}
        bound = np.array(
            [[index.get(b, 1) for b in t.bound] for t in parts], dtype=np.int64
        ).T.reshape(work.la.n_ops, designs.n)
        energy = None
        if energies and all(e is not None for e in energies):
            per = [e for e in energies if e is not None]
            energy = (per[0].components, np.stack([e.per_op_j for e in per], -1))
        return BatchTiming(
            model=parts[0].model if parts else self.name,
            cycles=stack("cycles"),
            latency_s=stack("latency_s"),
            utilization=stack("utilization"),
            bound=bound,
            bound_labels=labels,
            read_bytes=stack("read_bytes"),
            write_bytes=stack("write_bytes"),
            energy=energy,
        )


register(RooflineModel())
register(SystolicModel(), auto=_cell_array)
register(RtlModel())
register(SpatialModel(), auto=lambda d: True)
register(GpuModel(), auto=lambda d: True)
