"""Vectorized evaluation of many systolic design points for one network variant.

:func:`evaluate_designs` computes, for ``D`` hardware points at once, exactly what
:func:`codesign_playground.perf.estimate.estimate` reports for each of them on the systolic
template (same SCALE-Sim-exact GEMM model, roofline for ops without GEMMs, the same energy,
leakage and area models): every GEMM of the network against every design point in one
broadcast ``(G, 1) x (1, D)`` call of :func:`codesign_playground.perf.systolic.simulate`, with
no Python loop over design points. ``tests/explore/test_evaluate.py`` checks it against
``estimate`` point by point. :func:`design_spec` builds the :class:`HardwareSpec` of one point
(for reports and for ``estimate``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from codesign_playground.hardware import leakage, technology
from codesign_playground.hardware.spec import HardwareSpec, hardware_from_dict, hardware_to_dict
from codesign_playground.hardware.templates import systolic
from codesign_playground.perf.roofline import residency_thresholds
from codesign_playground.perf.systolic import FAST, dataflow_code, simulate
from codesign_playground.workload.arrays import LayerArrays, layer_arrays
from codesign_playground.workload.ir import PRECISION_BITS, Network, Precision

__all__ = ["DesignArrays", "VariantArrays", "design_spec", "evaluate_designs", "variant_arrays"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: (layer, design) pairs per simulate() call: bounds the temporaries to a few tens of MB.
_PAIRS_PER_CALL = 1 << 17


def widest(precisions: set[Precision] | tuple[Precision, ...]) -> Precision:
    """The widest precision (fp beats int at equal width)."""
    return max(precisions, key=lambda p: (PRECISION_BITS[p], p.startswith(("fp", "bf"))))


@dataclass(frozen=True)
class VariantArrays:
    """What the vectorized evaluator needs of one network, precomputed once."""

    net: Network
    la: LayerArrays
    precisions: tuple[Precision, ...]  # activation precisions used by the ops
    g_m: FloatArray
    g_n: FloatArray
    g_k: FloatArray
    g_count: FloatArray
    g_word: FloatArray  # bytes per word of each GEMM (act precision, >= 1)
    ng_flops: FloatArray  # ops without GEMMs
    ng_in: FloatArray
    ng_w: FloatArray
    ng_out: FloatArray
    ng_in_resident_below: FloatArray  # inputs stay on-chip when activation SRAM >= this
    ng_out_resident_below: FloatArray  # outputs stay on-chip when activation SRAM >= this
    macs_by_prec: dict[Precision, float]
    other_by_prec: dict[Precision, float]
    macs: float
    params: float
    weight_bytes: float


def variant_arrays(net: Network) -> VariantArrays:
    la = layer_arrays(net)
    th_in, th_out = residency_thresholds(net)
    has_gemm = np.bincount(la.gemm_op, minlength=la.n_ops) > 0
    ng = ~has_gemm
    other = np.maximum(la.flops - 2.0 * la.macs, 0.0)
    macs_by: dict[Precision, float] = {}
    other_by: dict[Precision, float] = {}
    for i, p in enumerate(la.act_precisions):
        macs_by[p] = macs_by.get(p, 0.0) + float(la.macs[i])
        other_by[p] = other_by.get(p, 0.0) + float(other[i])
    return VariantArrays(
        net=net,
        la=la,
        precisions=tuple(sorted(set(la.act_precisions))),
        g_m=la.gemm_m,
        g_n=la.gemm_n,
        g_k=la.gemm_k,
        g_count=la.gemm_count,
        g_word=np.maximum(np.ceil(la.act_bits[la.gemm_op] / 8.0), 1.0),
        ng_flops=la.flops[ng],
        ng_in=la.input_bytes[ng],
        ng_w=la.weight_bytes[ng],
        ng_out=la.output_bytes[ng],
        ng_in_resident_below=th_in[ng],
        ng_out_resident_below=th_out[ng],
        macs_by_prec=macs_by,
        other_by_prec=other_by,
        macs=float(la.macs.sum()),
        params=float(net.params),
        weight_bytes=float(net.weight_bytes),
    )


@dataclass(frozen=True)
class DesignArrays:
    """``D`` systolic design points as columns (all length ``D``)."""

    rows: IntArray
    cols: IntArray
    cores: IntArray
    dataflow: IntArray  # codes 0 = os, 1 = ws, 2 = is
    ifmap_sram_kb: FloatArray
    filter_sram_kb: FloatArray
    ofmap_sram_kb: FloatArray
    dram_bandwidth_bytes_per_s: FloatArray
    clock_hz: FloatArray
    tech_node_nm: FloatArray

    @staticmethod
    def from_columns(cols: Mapping[str, Any], d: int) -> DesignArrays:
        def col(name: str, default: Any, dtype: Any) -> Any:
            v = cols.get(name, default)
            return np.broadcast_to(np.asarray(v, dtype=dtype), (d,)).copy()

        df = cols.get("dataflow", "ws")
        return DesignArrays(
            rows=col("rows", 32, np.int64),
            cols=col("cols", 32, np.int64),
            cores=col("cores", 1, np.int64),
            dataflow=np.broadcast_to(dataflow_code(np.asarray(df)), (d,)).copy(),
            ifmap_sram_kb=col("ifmap_sram_kb", 64, np.float64),
            filter_sram_kb=col("filter_sram_kb", 64, np.float64),
            ofmap_sram_kb=col("ofmap_sram_kb", 64, np.float64),
            dram_bandwidth_bytes_per_s=col("dram_bandwidth_bytes_per_s", 34e9, np.float64),
            clock_hz=col("clock_hz", 700e6, np.float64),
            tech_node_nm=col("tech_node_nm", 28, np.float64),
        )


def _capacity_bytes(kb: FloatArray) -> FloatArray:
    # as templates._kb_to_bytes: round(kb * 1024)
    return np.round(kb * 1024.0)


def _gemm_block(
    v: VariantArrays, d: DesignArrays, sl: slice
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Per-design GEMM totals for designs ``sl``: cycles and per-operand word counts."""
    rows, cols, cores = d.rows[sl], d.cols[sl], d.cores[sl]
    caps = [_capacity_bytes(x[sl]) for x in (d.ifmap_sram_kb, d.filter_sram_kb, d.ofmap_sram_kb)]
    kbs = [np.maximum(1, np.floor(c / 1024.0)).astype(np.int64) for c in caps]
    # scalesim_parameters(spec, 1.0): whole bytes per cycle of the DRAM, at least 1
    words_total = np.maximum(
        1, np.floor(d.dram_bandwidth_bytes_per_s[sl] / d.clock_hz[sl] / 1.0)
    ).astype(np.float64)
    word = v.g_word[:, None]
    bw = np.maximum(np.floor(words_total[None, :] / word), 1.0)
    res = simulate(
        v.g_m[:, None],
        np.ceil(v.g_n[:, None] / cores[None, :]),
        v.g_k[:, None],
        array_rows=rows[None, :],
        array_cols=cols[None, :],
        dataflow=d.dataflow[sl][None, :],
        ifmap_sram_kb=kbs[0][None, :],
        filter_sram_kb=kbs[1][None, :],
        ofmap_sram_kb=kbs[2][None, :],
        ifmap_footprint_words=(v.g_m * v.g_k)[:, None],
        user_bandwidth=True,
        bandwidth_words_per_cycle=bw,
        ifmap_fill_bw_words_per_cycle=bw,
        filter_fill_bw_words_per_cycle=bw,
        word_bytes=word,
        **FAST,  # as estimate(): closed forms, no SCALE-Sim buffer replays
    )
    cnt = v.g_count[:, None]
    scale = cnt * word * cores[None, :]

    def tot(x: npt.ArrayLike, s: FloatArray) -> FloatArray:
        return np.asarray((np.asarray(x, dtype=np.float64) * s).sum(axis=0), dtype=np.float64)

    cycles = tot(np.asarray(res.total_cycles, dtype=np.float64) + 1.0, cnt)
    return (
        cycles,
        tot(res.ifmap_sram_reads_words, scale),
        tot(res.filter_sram_reads_words, scale),
        tot(res.ofmap_sram_writes_words, scale),
        tot(res.ifmap_dram_reads_words, scale),
        tot(res.filter_dram_reads_words, scale),
        tot(res.ofmap_dram_writes_words, scale),
    )


def evaluate_designs(
    v: VariantArrays, d: DesignArrays, hw_precision: Precision | None = None
) -> dict[str, FloatArray]:
    """Metrics of network ``v`` on every design of ``d`` (arrays of length ``D``).

    ``hw_precision`` is the PE datapath (``None``: the widest precision the network uses); the
    array also computes every precision the network uses at one MAC per PE per cycle, as the
    spec from :func:`design_spec` says.
    """
    n_d = len(d.rows)
    datapath = hw_precision or widest(v.precisions)
    supported = sorted({datapath, *v.precisions})
    g = max(len(v.g_m), 1)
    step = max(1, _PAIRS_PER_CALL // g)
    parts = [_gemm_block(v, d, slice(s, s + step)) for s in range(0, n_d, step)]
    (cyc_g, if_sr, fi_sr, of_sw, if_dr, fi_dr, of_dw) = (
        np.concatenate([p[i] for p in parts]) if parts else np.zeros(0) for i in range(7)
    )
    clock = d.clock_hz
    num_pes = (d.rows * d.cols * d.cores).astype(np.float64)
    # ops without GEMMs: multi-level roofline (compute, each SRAM's port, DRAM)
    hw_word = PRECISION_BITS[datapath] / 8.0
    peak = 2.0 * num_pes * clock  # one MAC/PE/cycle at every supported precision
    caps = [_capacity_bytes(x) for x in (d.ifmap_sram_kb, d.filter_sram_kb, d.ofmap_sram_kb)]
    act_cap = (caps[0] + caps[2])[None, :]  # SRAMs holding activations, inside the DRAM
    if len(v.ng_flops):
        in_dram = np.where(v.ng_in_resident_below[:, None] <= act_cap, 0.0, v.ng_in[:, None])
        out_dram = np.where(v.ng_out_resident_below[:, None] <= act_cap, 0.0, v.ng_out[:, None])
        ng_dram_reads = (in_dram + v.ng_w[:, None]).sum(axis=0)
        ng_dram_writes = out_dram.sum(axis=0)
        f = v.ng_flops[:, None]
        compute_s = f / peak[None, :]
        t_if = v.ng_in[:, None] / (d.rows * hw_word * clock)[None, :]
        t_fi = v.ng_w[:, None] / (d.cols * hw_word * clock)[None, :]
        t_of = v.ng_out[:, None] / (d.cols * hw_word * clock)[None, :]
        t_dr = (in_dram + v.ng_w[:, None] + out_dram) / d.dram_bandwidth_bytes_per_s[None, :]
        lat = np.maximum.reduce([compute_s, t_if, t_fi, t_of, t_dr])
        cyc_ng = np.ceil(lat * clock[None, :]).sum(axis=0)
    else:
        cyc_ng = np.zeros(n_d)
        ng_dram_reads = ng_dram_writes = np.zeros(n_d)
    cycles = cyc_g + cyc_ng
    latency = cycles / clock
    # traffic per level (as systolic_timing): GEMM ops from the array model, others compulsory
    ng_in, ng_w, ng_out = float(v.ng_in.sum()), float(v.ng_w.sum()), float(v.ng_out.sum())
    if_reads, if_writes = if_sr + ng_in, if_dr
    fi_reads, fi_writes = fi_sr + ng_w, fi_dr
    of_reads, of_writes = of_dw, of_sw + ng_out
    dram_reads = if_dr + fi_dr + ng_dram_reads
    dram_writes = of_dw + ng_dram_writes
    node = d.tech_node_nm
    # SRAM energy per byte: template's 64-bit access energy over 8 bytes
    e_lvl = [technology.sram_read_energy_pj(c, 64, node) * (8.0 / 64) for c in caps]
    e_dram = technology.dram_energy_pj_per_byte()
    mem_pj = (
        if_reads * e_lvl[0]
        + if_writes * e_lvl[0]
        + fi_reads * e_lvl[1]
        + fi_writes * e_lvl[1]
        + of_reads * e_lvl[2]
        + of_writes * e_lvl[2]
        + (dram_reads + dram_writes) * e_dram
    )
    arith_pj = np.zeros(n_d)
    for p, macs in v.macs_by_prec.items():
        arith_pj = arith_pj + macs * technology.mac_energy_pj(p, node)
    for p, other in v.other_by_prec.items():
        arith_pj = arith_pj + other * technology.op_energy_pj("add", p, node)
    pe_um2 = np.max([technology.pe_area_um2(p, node) for p in supported], axis=0)
    pe_area = num_pes * pe_um2 * 1e-6
    sram_area = sum(technology.sram_area_mm2(c, node) for c in caps)
    sram_bytes = caps[0] + caps[1] + caps[2]
    area_ref = pe_area / technology.area_scale(node)
    leak_w = (
        area_ref * leakage.logic_leakage_w_per_mm2() * technology.energy_scale(node)
        + sram_bytes * leakage.sram_leakage_w_per_byte()
    )
    energy = arith_pj * 1e-12 + mem_pj * 1e-12 + leak_w * latency
    batch = float(v.net.inputs[0].shape[0]) if v.net.inputs and v.net.inputs[0].shape else 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        power = np.where(latency > 0, energy / latency, 0.0)
        util = np.where(cycles > 0, v.macs / (cycles * num_pes), 0.0)
    return {
        "latency_s": latency,
        "cycles": cycles,
        "energy_j": energy,
        "area_mm2": pe_area + sram_area,
        "power_w": power,
        "edp_js": energy * latency,
        "fps": batch / latency,
        "inferences_per_j": batch / energy,
        "utilization": util,
        "dram_bytes": dram_reads + dram_writes,
        "sram_kb": sram_bytes / 1024.0,
        "filter_sram_bytes": caps[1],
        "leakage_w": leak_w,
    }


def design_spec(hw: Mapping[str, Any], net_precisions: tuple[Precision, ...]) -> HardwareSpec:
    """The :class:`HardwareSpec` of one systolic design point (``hw``: knob -> value)."""
    datapath: Precision = hw.get("precision") or widest(net_precisions)
    spec = systolic(
        rows=int(hw.get("rows", 32)),
        cols=int(hw.get("cols", 32)),
        dataflow=hw.get("dataflow", "ws"),
        ifmap_sram_kb=float(hw.get("ifmap_sram_kb", 64)),
        filter_sram_kb=float(hw.get("filter_sram_kb", 64)),
        ofmap_sram_kb=float(hw.get("ofmap_sram_kb", 64)),
        dram_bandwidth_bytes_per_s=float(hw.get("dram_bandwidth_bytes_per_s", 34e9)),
        clock_hz=float(hw.get("clock_hz", 700e6)),
        tech_node_nm=float(hw.get("tech_node_nm", 28)),
        precision=datapath,
        name="design",
    )
    data = hardware_to_dict(spec)
    data["compute"]["cores"] = int(hw.get("cores", 1))
    data["compute"]["macs_per_pe_per_cycle"] = {p: 1 for p in sorted({datapath, *net_precisions})}
    return hardware_from_dict(data)
