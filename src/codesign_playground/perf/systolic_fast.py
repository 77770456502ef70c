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

from dataclasses import dataclass

import numpy as np

from codesign_playground.errors import HardwareSpecError
from codesign_playground.hardware.importers.scalesim_cfg import ScaleSimConfig
from codesign_playground.perf.batch import (
    BatchTiming,
    DesignBatch,
    Workload,
    bound_labels,
    sum_by_op,
)
from codesign_playground.perf.roofline import roofline_batch
from codesign_playground.perf.systolic import (
    FAST,
    ConvGeometry,
    SystolicResult,
    conv_gemm_view,
    simulate,
)
from codesign_playground.units import BoolArray, FloatArray, IntArray

__all__ = [
    "DATAFLOW_CODES",
    "SystolicConfig",
    "fast_gemm_figures",
    "gemm_geometry",
    "scalesim_columns",
    "systolic_fast_timing",
]

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


@dataclass(frozen=True)
class SystolicConfig:
    """SCALE-Sim's configuration of ``D`` design points as ``(D,)`` columns: what the fast
    mode reads of a design. Bandwidths are in bytes per cycle (each GEMM converts them to
    words of its width); ``user_bandwidth`` False is SCALE-Sim's CALC mode (reads fill at 10
    words/cycle, the ofmap drains ``cols`` words/cycle; the bandwidth columns are unused)."""

    rows: IntArray
    cols: IntArray
    dataflow: IntArray  # DATAFLOW_CODES
    ifmap_sram_kb: IntArray
    filter_sram_kb: IntArray
    ofmap_sram_kb: IntArray
    user_bandwidth: BoolArray
    drain_bytes_per_cycle: FloatArray
    ifmap_fill_bytes_per_cycle: FloatArray
    filter_fill_bytes_per_cycle: FloatArray
    cores: FloatArray

    @staticmethod
    def of(designs: DesignBatch, columns: dict[str, FloatArray] | None = None) -> SystolicConfig:
        """Every design of ``designs`` (USER mode at the DRAM level's bandwidth; see
        :func:`scalesim_columns`, whose result ``columns`` is when given)."""
        p = scalesim_columns(designs) if columns is None else columns
        bw = p["dram_bytes_per_cycle"]
        return SystolicConfig(
            rows=designs.rows.astype(np.int64),
            cols=designs.cols.astype(np.int64),
            dataflow=np.array([DATAFLOW_CODES[x] for x in designs.dataflow], dtype=np.int64),
            ifmap_sram_kb=p["ifmap_sram_kb"].astype(np.int64),
            filter_sram_kb=p["filter_sram_kb"].astype(np.int64),
            ofmap_sram_kb=p["ofmap_sram_kb"].astype(np.int64),
            user_bandwidth=np.ones(designs.n, dtype=bool),
            drain_bytes_per_cycle=bw,
            ifmap_fill_bytes_per_cycle=bw,
            filter_fill_bytes_per_cycle=bw,
            cores=np.asarray(designs.cores, dtype=np.float64),
        )

    @staticmethod
    def from_scalesim(cfg: ScaleSimConfig) -> SystolicConfig:
        """One design point: a SCALE-Sim ``.cfg`` (one-byte words, one array)."""

        def one(x: float, dtype: type = np.int64) -> np.ndarray:
            return np.array([x], dtype=dtype)

        return SystolicConfig(
            rows=one(cfg.array_rows),
            cols=one(cfg.array_cols),
            dataflow=one(DATAFLOW_CODES[cfg.dataflow.strip().lower()]),
            ifmap_sram_kb=one(cfg.ifmap_sram_kb),
            filter_sram_kb=one(cfg.filter_sram_kb),
            ofmap_sram_kb=one(cfg.ofmap_sram_kb),
            user_bandwidth=one(cfg.use_user_bandwidth, bool),
            drain_bytes_per_cycle=one(cfg.bandwidths[0] if cfg.bandwidths else 10, np.float64),
            ifmap_fill_bytes_per_cycle=one(cfg.ifmap_sram_bank_bandwidth, np.float64),
            filter_fill_bytes_per_cycle=one(cfg.filter_sram_bank_bandwidth, np.float64),
            cores=one(1, np.float64),
        )


def _ints(value: object) -> tuple[int, ...] | None:
    return tuple(int(v) for v in value) if isinstance(value, tuple | list) else None


def gemm_geometry(work: Workload) -> ConvGeometry:
    """Per GEMM of ``work`` (``(G,)`` arrays), the convolution SCALE-Sim would run for it.

    A 2-D convolution (not transposed, no dilation) keeps its window: ``filter_h x
    filter_w`` over ``channels`` = input channels per group, its strides, and the padded
    ifmap cut to the rows and columns its windows reach, ``(out - 1) * stride + kernel``, so
    SCALE-Sim's ``ceil((H - R + s) / s)`` output is the op's (a ``ceil_mode`` convolution keeps
    its padded ifmap: the last window hangs over the edge and reads nothing there). A batch
    stacks its images' rows. Every other GEMM is SCALE-Sim's GEMM form: an ``m x k`` ifmap,
    a ``1 x k`` window, one channel, stride 1. Kept on the workload (``memo``)."""
    memo = work.memo.get("systolic_geometry")
    if isinstance(memo, ConvGeometry):
        return memo
    la = work.la
    cols: list[tuple[int, int, int, int, int, int, int]] = []
    for g, o in enumerate(la.gemm_op):
        op = work.net.ops[int(o)]
        m, k = int(la.gemm_m[g]), int(la.gemm_k[g])
        row = (m, k, 1, k, 1, 1, 1)
        a = op.attrs
        x = op.inputs[0].shape if op.inputs else ()
        y = op.outputs[0].shape if op.outputs else ()
        w = op.weights[0].shape if op.weights else ()
        kernel, strides = _ints(a.get("kernel")), _ints(a.get("strides"))
        pads = _ints(a.get("pads")) or (0, 0, 0, 0)
        if (
            op.kind == "conv"
            and not a.get("transposed")
            and len(x) == len(y) == len(w) == 4
            and kernel is not None
            and strides is not None
            and len(kernel) == len(strides) == 2
            and len(pads) == 4
            and all(d == 1 for d in (_ints(a.get("dilations")) or (1, 1)))
        ):
            (fh, fw), (sh, sw) = kernel, strides
            oh, ow = y[2], y[3]
            if a.get("ceil_mode"):
                ih, iw = x[2] + pads[0] + pads[2], x[3] + pads[1] + pads[3]
            else:
                ih, iw = (oh - 1) * sh + fh, (ow - 1) * sw + fw
            ih += (x[0] - 1) * oh * sh  # images stacked: ceil((H - R + s) / s) = batch * oh
            if m == x[0] * oh * ow and k == fh * fw * w[1]:
                row = (ih, iw, fh, fw, w[1], sh, sw)
        cols.append(row)
    arr = np.array(cols, dtype=np.int64).reshape(-1, 7)
    geo = ConvGeometry(*(arr[:, i] for i in range(7)))
    work.memo["systolic_geometry"] = geo
    return geo


def fast_gemm_figures(work: Workload, conf: SystolicConfig) -> SystolicResult:
    """SCALE-Sim's figures for every GEMM of ``work`` on every design point of ``conf``,
    ``(G, D)``, in fast mode: one broadcast call of :func:`.systolic.simulate` with
    ``systolic.FAST``, the GEMM's conv geometry (:func:`gemm_geometry`) included. The one
    fast-mode code path: exploration (:func:`systolic_fast_timing`) and the test against the
    exact mode on SCALE-Sim's grid both run it. ``cores`` arrays split each GEMM's filters."""
    la = work.la
    geo = gemm_geometry(work)
    word = np.maximum(np.ceil(la.act_bits[la.gemm_op] / 8.0), 1.0)[:, np.newaxis]

    def words(bytes_per_cycle: FloatArray) -> FloatArray:
        return np.maximum(np.floor(bytes_per_cycle[np.newaxis, :] / word), 1.0)

    fp = conv_gemm_view(
        geo.ifmap_h,
        geo.ifmap_w,
        geo.filter_h,
        geo.filter_w,
        geo.channels,
        1,
        geo.stride_h,
        geo.stride_w,
    ).ifmap_footprint_words
    col = ConvGeometry(*(np.asarray(getattr(geo, f))[:, np.newaxis] for f in _GEO_FIELDS))
    return simulate(
        la.gemm_m[:, np.newaxis],
        np.ceil(la.gemm_n[:, np.newaxis] / conf.cores[np.newaxis, :]),
        la.gemm_k[:, np.newaxis],
        array_rows=conf.rows[np.newaxis, :],
        array_cols=conf.cols[np.newaxis, :],
        dataflow=conf.dataflow[np.newaxis, :],
        ifmap_sram_kb=conf.ifmap_sram_kb[np.newaxis, :],
        filter_sram_kb=conf.filter_sram_kb[np.newaxis, :],
        ofmap_sram_kb=conf.ofmap_sram_kb[np.newaxis, :],
        ifmap_footprint_words=fp[:, np.newaxis],
        user_bandwidth=conf.user_bandwidth[np.newaxis, :],
        bandwidth_words_per_cycle=words(conf.drain_bytes_per_cycle),
        ifmap_fill_bw_words_per_cycle=words(conf.ifmap_fill_bytes_per_cycle),
        filter_fill_bw_words_per_cycle=words(conf.filter_fill_bytes_per_cycle),
        word_bytes=word,
        conv=col,
        **FAST,
    )


_GEO_FIELDS = ("ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels", "stride_h", "stride_w")


def systolic_fast_timing(work: Workload, designs: DesignBatch) -> BatchTiming:
    """Per-op cycles and per-level bytes of ``work`` on every systolic design (fast mode)."""
    la = work.la
    p = scalesim_columns(designs)
    d = designs.n
    n_l, n_ops = designs.n_levels, la.n_ops
    cores = designs.cores[np.newaxis, :]
    word = np.maximum(np.ceil(la.act_bits[la.gemm_op] / 8.0), 1.0)[:, np.newaxis]
    res = fast_gemm_figures(work, SystolicConfig.of(designs, p))
    count = la.gemm_count[:, np.newaxis]

    def per_op(values: object, scale: FloatArray | float = 1.0) -> FloatArray:
        v = np.broadcast_to(np.asarray(values, dtype=np.float64) * count * scale, (len(count), d))
        return sum_by_op(la.gemm_op, v, n_ops)

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
