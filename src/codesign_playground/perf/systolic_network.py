"""Whole networks on systolic hardware: every GEMM through the SCALE-Sim-exact model at once.

The hardware description maps onto SCALE-Sim's parameters as follows (``docs/models.md``):

- array rows and columns, dataflow: the compute fabric and ``dataflow`` (ws, os, is);
- ifmap, filter and ofmap SRAM: the on-chip levels holding inputs, weights and outputs (a
  level holding several operands is split evenly between them);
- bandwidth: the DRAM level's bytes per second over the clock, in words per cycle, as
  SCALE-Sim's user-set bandwidth for the ofmap drain and both read fills (at least 1);
- word size: the op's activation precision (sub-byte words round up to one byte);
- ``cores`` identical arrays share a layer's filters (N is split across them).

The model runs in its fast mode (``systolic.FAST``): SCALE-Sim's buffer-ring replays, which
reproduce artefacts of its read-buffer implementation for operands that overflow their SRAM,
are replaced by their closed-form estimates; ``--format scalesim`` reports are exact.

An op with several GEMMs (grouped convolutions, batched matmuls, attention) runs them one
after another. Ops without GEMMs (elementwise, pooling, normalization) take their roofline
time and traffic. Cycle counts are SCALE-Sim's "Total Cycles" plus one: SCALE-Sim reports
the index of the last cycle, not the number of cycles.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from codesign_playground.errors import HardwareSpecError
from codesign_playground.hardware.spec import HardwareSpec, MemoryLevel
from codesign_playground.perf.roofline import RooflineResult
from codesign_playground.perf.systolic import FAST, simulate
from codesign_playground.perf.timing import Timing
from codesign_playground.workload.arrays import LayerArrays
from codesign_playground.workload.ir import Network

__all__ = ["rtl_timing", "scalesim_parameters", "systolic_timing"]

FloatArray = npt.NDArray[np.float64]
_OPERANDS = ("inputs", "weights", "outputs")


def _sram_for(spec: HardwareSpec, operand: str) -> tuple[int, MemoryLevel]:
    """The innermost on-chip level holding ``operand``, and its bytes for that operand."""
    for j, level in enumerate(spec.memory[:-1]):
        if operand in level.holds and level.total_capacity_bytes:
            return j, level
    raise HardwareSpecError(
        f"hardware field 'memory': the systolic model needs an on-chip level holding "
        f"'{operand}' ({spec.name} has none)"
    )


def scalesim_parameters(spec: HardwareSpec, word_bytes: float) -> dict[str, float]:
    """SCALE-Sim's configuration values for ``spec`` (sizes in KB, bandwidth in words)."""
    if spec.kind != "systolic" or spec.dataflow not in ("ws", "os", "is"):
        raise HardwareSpecError(
            f"hardware field 'kind': the systolic model needs systolic hardware with a ws, os "
            f"or is dataflow ({spec.name} is {spec.kind}/{spec.dataflow})"
        )
    sizes = {}
    for operand, key in zip(_OPERANDS, ("ifmap", "filter", "ofmap"), strict=True):
        _, level = _sram_for(spec, operand)
        share = (level.total_capacity_bytes or 0) / len(level.holds)
        sizes[f"{key}_sram_kb"] = max(1, int(share // 1024))
    dram_bw = spec.dram.bandwidth(spec.compute.clock_hz)
    if dram_bw is None:
        raise HardwareSpecError(
            f"hardware field 'memory.{spec.dram.name}.bandwidth_bytes_per_s': the systolic "
            "model needs the DRAM bandwidth"
        )
    words = max(1, int(dram_bw * spec.dram.instances / spec.compute.clock_hz / word_bytes))
    return {**sizes, "bandwidth_words_per_cycle": words}


def systolic_timing(
    net: Network, la: LayerArrays, spec: HardwareSpec, rf: RooflineResult
) -> Timing:
    """Per-op cycles and per-level bytes of ``net`` on systolic ``spec``."""
    n_levels = len(spec.memory)
    clock = spec.compute.clock_hz
    cores = spec.compute.cores
    g_op = la.gemm_op
    word = np.maximum(np.ceil(la.act_bits[g_op] / 8.0), 1.0)
    params = scalesim_parameters(spec, 1.0)
    # bandwidth in words of each GEMM's own width
    bw_words = np.maximum(np.floor(params["bandwidth_words_per_cycle"] / word), 1.0)
    footprint = la.gemm_m * la.gemm_k
    res = simulate(
        la.gemm_m,
        np.ceil(la.gemm_n / cores),
        la.gemm_k,
        array_rows=spec.compute.rows,
        array_cols=spec.compute.cols,
        dataflow=spec.dataflow,
        ifmap_sram_kb=params["ifmap_sram_kb"],
        filter_sram_kb=params["filter_sram_kb"],
        ofmap_sram_kb=params["ofmap_sram_kb"],
        ifmap_footprint_words=footprint,
        user_bandwidth=True,
        bandwidth_words_per_cycle=bw_words,
        ifmap_fill_bw_words_per_cycle=bw_words,
        filter_fill_bw_words_per_cycle=bw_words,
        word_bytes=word,
        **FAST,
    )
    count = la.gemm_count
    n_ops = la.n_ops

    def per_op(values: npt.ArrayLike, scale: FloatArray | float = 1.0) -> FloatArray:
        v = np.asarray(values, dtype=np.float64) * count * scale
        return np.bincount(g_op, weights=v, minlength=n_ops).astype(np.float64)

    has_gemm = np.bincount(g_op, minlength=n_ops) > 0
    cycles_g = per_op(np.asarray(res.total_cycles, dtype=np.float64) + 1.0)
    stalls_g = per_op(res.stall_cycles)
    # cores split the filters: each core moves its share, all cores together move all of it
    reads = np.zeros((n_levels, n_ops))
    writes = np.zeros((n_levels, n_ops))
    i_lvl, _ = _sram_for(spec, "inputs")
    w_lvl, _ = _sram_for(spec, "weights")
    o_lvl, _ = _sram_for(spec, "outputs")
    dram = n_levels - 1
    ifmap_dram = per_op(res.ifmap_dram_reads_words, word * cores)
    filter_dram = per_op(res.filter_dram_reads_words, word * cores)
    ofmap_dram = per_op(res.ofmap_dram_writes_words, word * cores)
    reads[i_lvl] += per_op(res.ifmap_sram_reads_words, word * cores)
    reads[w_lvl] += per_op(res.filter_sram_reads_words, word * cores)
    writes[o_lvl] += per_op(res.ofmap_sram_writes_words, word * cores)
    writes[i_lvl] += ifmap_dram  # fills from DRAM
    writes[w_lvl] += filter_dram
    reads[o_lvl] += ofmap_dram  # drains to DRAM
    reads[dram] += ifmap_dram + filter_dram
    writes[dram] += ofmap_dram
    # ops without GEMMs: the roofline's time and compulsory traffic
    by_operand = rf.operand_traffic_bytes
    rf_reads = by_operand[:, 0] + by_operand[:, 1]
    rf_writes = by_operand[:, 2]
    reads = np.where(has_gemm, reads, rf_reads)
    writes = np.where(has_gemm, writes, rf_writes)
    cycles = np.where(has_gemm, cycles_g, np.ceil(rf.latency_s * clock))
    latency = cycles / clock
    peak_per_cycle = spec.compute.num_pes
    with np.errstate(invalid="ignore", divide="ignore"):
        util = np.where(cycles > 0, la.macs / (cycles * peak_per_cycle), 0.0)
    bound = tuple(
        (("dram" if stalls_g[i] > 0 else "compute") if has_gemm[i] else rf.bound[i])
        for i in range(n_ops)
    )
    return Timing(
        model="systolic",
        cycles=cycles,
        latency_s=latency,
        utilization=np.asarray(util, dtype=np.float64),
        bound=bound,
        read_bytes=reads,
        write_bytes=writes,
    )


def rtl_timing(net: Network, la: LayerArrays, spec: HardwareSpec, rf: RooflineResult) -> Timing:
    """Like :func:`systolic_timing`, with GEMM cycles of the generated RTL (``rtl`` package).

    The RTL runs each GEMM from on-chip buffers with the cycle count of
    :func:`codesign_playground.perf.rtl_timing.rtl_gemm_cycles` (SCALE-Sim's compute cycles
    plus its pipeline tail and, for os, the per-fold drain), with no DRAM stalls; traffic and
    hence energy are the systolic model's. Only ws and os dataflows exist in RTL.
    """
    from codesign_playground.perf.rtl_timing import RTL_DATAFLOWS, rtl_gemm_cycles

    if spec.dataflow not in RTL_DATAFLOWS:
        raise HardwareSpecError(
            f"hardware field 'dataflow': the generated RTL implements ws and os, not "
            f"{spec.dataflow!r}; use --mode systolic"
        )
    base = systolic_timing(net, la, spec, rf)
    cores = spec.compute.cores
    per_gemm = rtl_gemm_cycles(
        la.gemm_m.astype(np.int64),
        np.ceil(la.gemm_n / cores).astype(np.int64),
        la.gemm_k.astype(np.int64),
        spec.compute.rows,
        spec.compute.cols,
        spec.dataflow,
    )
    cycles_g = np.bincount(
        la.gemm_op,
        weights=np.asarray(per_gemm, dtype=np.float64) * la.gemm_count,
        minlength=la.n_ops,
    )
    has_gemm = np.bincount(la.gemm_op, minlength=la.n_ops) > 0
    cycles = np.where(has_gemm, cycles_g, base.cycles)
    clock = spec.compute.clock_hz
    with np.errstate(invalid="ignore", divide="ignore"):
        util = np.where(cycles > 0, la.macs / (cycles * spec.compute.num_pes), 0.0)
    bound = tuple("compute" if has_gemm[i] else base.bound[i] for i in range(la.n_ops))
    return Timing(
        model="rtl",
        cycles=cycles,
        latency_s=cycles / clock,
        utilization=np.asarray(util, dtype=np.float64),
        bound=bound,
        read_bytes=base.read_bytes,
        write_bytes=base.write_bytes,
    )
