"""The systolic model in fast mode, vectorized over designs: what estimate and explore run.

:func:`systolic_fast_timing` runs every GEMM of a network against every design of a
:class:`~codesign_playground.perf.batch.DesignBatch` in one broadcast ``(G, 1) x (1, D)``
call of :func:`codesign_playground.perf.systolic.simulate` with ``systolic.FAST`` (closed
forms instead of SCALE-Sim's buffer-ring replays; ``--format scalesim`` reports run the
exact mode). One design (``estimate``) is the case ``D = 1``.

The hardware description maps onto SCALE-Sim's parameters as follows (``docs/models.md``):

- array rows and columns, dataflow: the compute fabric and ``dataflow`` (ws, os, is);
- ifmap, filter and ofmap SRAM: the on-chip levels holding inputs, weights and outputs (a
  level holding several operands is split evenly between them), in whole KiB (at least 1);
- bandwidth: the DRAM level's bytes per second over the clock, in whole bytes per cycle (at
  least 1), then in words of each GEMM's width, as SCALE-Sim's user-set bandwidth for the
  ofmap drain and both read fills;
- word size: the op's activation precision (sub-byte words round up to one byte);
- ``cores`` identical arrays share a layer's filters (N is split across them).

An op with several GEMMs runs them one after another. Ops without GEMMs take their
multi-level roofline time and traffic (:func:`codesign_playground.perf.roofline.roofline_batch`).
Cycle counts are SCALE-Sim's "Total Cycles" plus one (it reports the last cycle's index).
"""

from __future__ import annotations

import numpy as np

from codesign_playground.errors import HardwareSpecError
from codesign_playground.perf.batch import BatchTiming, DesignBatch, Workload, bound_labels
from codesign_playground.perf.roofline import roofline_batch
from codesign_playground.perf.systolic import FAST, simulate
from codesign_playground.units import FloatArray

__all__ = ["DATAFLOW_CODES", "scalesim_columns", "systolic_fast_timing"]

#: SCALE-Sim dataflow codes of :func:`codesign_playground.perf.systolic.simulate`.
DATAFLOW_CODES = {"os": 0, "ws": 1, "is": 2}
_OPERANDS = ("inputs", "weights", "outputs")


def scalesim_columns(designs: DesignBatch) -> dict[str, FloatArray]:
    """SCALE-Sim's configuration of every design: SRAM sizes in KiB (``ifmap_sram_kb``,
    ``filter_sram_kb``, ``ofmap_sram_kb``) and DRAM bytes per cycle (``dram_bytes_per_cycle``),
    each ``(D,)``; also the level index of each SRAM (``*_level``)."""
    bad = [df for df in designs.dataflow if df not in DATAFLOW_CODES]
    if designs.kind != "systolic" or bad:
        spec = designs.make_spec(0)
        raise HardwareSpecError(
            f"hardware field 'kind': the systolic model needs systolic hardware with a ws, os "
            f"or is dataflow ({spec.name} is {spec.kind}/{spec.dataflow})"
        )
    total = np.nan_to_num(designs.total_capacity_bytes(), nan=0.0)
    out: dict[str, FloatArray] = {}
    for operand, key in zip(_OPERANDS, ("ifmap", "filter", "ofmap"), strict=True):
        j = next(
            (
                j
                for j in range(designs.n_levels - 1)
                if operand in designs.level_holds[j] and np.all(total[j] > 0)
            ),
            -1,
        )
        if j < 0:
            raise HardwareSpecError(
                f"hardware field 'memory': the systolic model needs an on-chip level holding "
                f"'{operand}' ({designs.make_spec(0).name} has none)"
            )
        share = total[j] / len(designs.level_holds[j])
        out[f"{key}_sram_kb"] = np.maximum(1.0, np.floor(share / 1024.0))
        out[f"{key}_level"] = np.array(float(j))
    dram_bw = designs.bandwidth()[-1]
    if not np.all(np.isfinite(dram_bw)):
        name = designs.level_names[-1]
        raise HardwareSpecError(
            f"hardware field 'memory.{name}.bandwidth_bytes_per_s': the systolic model needs "
            "the DRAM bandwidth"
        )
    out["dram_bytes_per_cycle"] = np.maximum(1.0, np.floor(dram_bw / designs.clock_hz))
    return out


def systolic_fast_timing(work: Workload, designs: DesignBatch) -> BatchTiming:
    """Per-op cycles and per-level bytes of ``work`` on every systolic design (fast mode)."""
    la = work.la
    p = scalesim_columns(designs)
    d = designs.n
    n_l, n_ops = designs.n_levels, la.n_ops
    cores = designs.cores[np.newaxis, :]
    word = np.maximum(np.ceil(la.act_bits[la.gemm_op] / 8.0), 1.0)[:, np.newaxis]
    bw = np.maximum(np.floor(p["dram_bytes_per_cycle"][np.newaxis, :] / word), 1.0)
    codes = np.array([DATAFLOW_CODES[x] for x in designs.dataflow], dtype=np.int64)
    res = simulate(
        la.gemm_m[:, np.newaxis],
        np.ceil(la.gemm_n[:, np.newaxis] / cores),
        la.gemm_k[:, np.newaxis],
        array_rows=designs.rows.astype(np.int64)[np.newaxis, :],
        array_cols=designs.cols.astype(np.int64)[np.newaxis, :],
        dataflow=codes[np.newaxis, :],
        ifmap_sram_kb=p["ifmap_sram_kb"].astype(np.int64)[np.newaxis, :],
        filter_sram_kb=p["filter_sram_kb"].astype(np.int64)[np.newaxis, :],
        ofmap_sram_kb=p["ofmap_sram_kb"].astype(np.int64)[np.newaxis, :],
        ifmap_footprint_words=(la.gemm_m * la.gemm_k)[:, np.newaxis],
        user_bandwidth=True,
        bandwidth_words_per_cycle=bw,
        ifmap_fill_bw_words_per_cycle=bw,
        filter_fill_bw_words_per_cycle=bw,
        word_bytes=word,
        **FAST,
    )
    to_op = work.gemm_to_op
    count = la.gemm_count[:, np.newaxis]

    def per_op(values: object, scale: FloatArray | float = 1.0) -> FloatArray:
        v = np.broadcast_to(np.asarray(values, dtype=np.float64) * count * scale, (len(count), d))
        return np.asarray(to_op @ v, dtype=np.float64)

    moved = word * cores  # cores split the filters: together they move all of it
    cycles_g = per_op(np.asarray(res.total_cycles, dtype=np.float64) + 1.0)
    stalls_g = per_op(res.stall_cycles)
    reads = np.zeros((n_l, n_ops, d))
    writes = np.zeros((n_l, n_ops, d))
    i_lvl, w_lvl, o_lvl = (int(p[f"{k}_level"]) for k in ("ifmap", "filter", "ofmap"))
    dram = n_l - 1
    ifmap_dram = per_op(res.ifmap_dram_reads_words, moved)
    filter_dram = per_op(res.filter_dram_reads_words, moved)
    ofmap_dram = per_op(res.ofmap_dram_writes_words, moved)
    reads[i_lvl] += per_op(res.ifmap_sram_reads_words, moved)
    reads[w_lvl] += per_op(res.filter_sram_reads_words, moved)
    writes[o_lvl] += per_op(res.ofmap_sram_writes_words, moved)
    writes[i_lvl] += ifmap_dram  # fills from DRAM
    writes[w_lvl] += filter_dram
    reads[o_lvl] += ofmap_dram  # drains to DRAM
    reads[dram] += ifmap_dram + filter_dram
    writes[dram] += ofmap_dram
    cycles = cycles_g
    bound = np.where(stalls_g > 0, 2 + dram, 1).astype(np.int64)
    # ops without GEMMs: the roofline's time and compulsory traffic
    ng = np.flatnonzero(~work.has_gemm)
    if len(ng):
        rb = roofline_batch(work, designs, ng)
        by = rb.operand_traffic_bytes
        reads[:, ng] = by[:, 0] + by[:, 1]
        writes[:, ng] = by[:, 2]
        cycles[ng] = np.ceil(rb.latency_s * designs.clock_hz[np.newaxis, :])
        bound[ng] = np.where(rb.latency_s == 0, 0, 1 + rb.bound)
    with np.errstate(invalid="ignore", divide="ignore"):
        util = np.where(
            cycles > 0, la.macs[:, np.newaxis] / (cycles * designs.num_pes[np.newaxis, :]), 0.0
        )
    return BatchTiming(
        model="systolic",
        cycles=cycles,
        latency_s=cycles / designs.clock_hz[np.newaxis, :],
        utilization=np.asarray(util, dtype=np.float64),
        bound=bound,
        bound_labels=bound_labels(designs),
        read_bytes=reads,
        write_bytes=writes,
    )
