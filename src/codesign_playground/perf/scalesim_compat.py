"""Read SCALE-Sim 3.0.0 inputs and write its reports from the analytical systolic model.

* :func:`load_config` parses a SCALE-Sim ``.cfg`` into :class:`ScaleSimConfig` (SCALE-Sim's own
  defaults fill keys that are absent);
* :func:`load_topology` parses a topology CSV, conv form or GEMM (``M, N, K``) form, the way
  SCALE-Sim's ``topology_utils`` reads it;
* :func:`write_reports` runs :func:`codesign_playground.perf.systolic.simulate` on those and
  writes ``COMPUTE_REPORT.csv``, ``BANDWIDTH_REPORT.csv`` and ``DETAILED_ACCESS_REPORT.csv``
  with SCALE-Sim's exact headers and number formatting, so the two tools can be diffed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from codesign_playground.hardware.importers.scalesim_cfg import (
    ScaleSimConfig,
    config_from_keys,
    load_config,
)
from codesign_playground.perf.batch import Workload
from codesign_playground.perf.systolic import (
    ConvGeometry,
    SystolicResult,
    conv_gemm_view,
    simulate,
)
from codesign_playground.perf.systolic_fast import SystolicConfig, fast_gemm_figures
from codesign_playground.workload.importers.scalesim_csv import TopologyRow, read_topology
from codesign_playground.workload.ir import Network, Op, TensorSpec
from codesign_playground.workload.ops import conv

__all__ = [
    "BANDWIDTH_REPORT_HEADER",
    "COMPUTE_REPORT_HEADER",
    "DETAILED_ACCESS_REPORT_HEADER",
    "FAST_FIGURES",
    "ScaleSimConfig",
    "TopologyLayer",
    "config_from_keys",
    "layer_from_row",
    "layer_op",
    "load_config",
    "load_topology",
    "simulate_layers",
    "write_reports",
]

COMPUTE_REPORT_HEADER = (
    "LayerID, Total Cycles (incl. prefetch), Total Cycles, Stall Cycles, Overall Util %, "
    "Mapping Efficiency %, Compute Util %,"
)
BANDWIDTH_REPORT_HEADER = (
    "LayerID, Avg IFMAP SRAM BW, Avg FILTER SRAM BW, Avg OFMAP SRAM BW, "
    "Avg IFMAP DRAM BW, Avg FILTER DRAM BW, Avg OFMAP DRAM BW,"
)
DETAILED_ACCESS_REPORT_HEADER = (
    "LayerID, "
    "SRAM IFMAP Start Cycle, SRAM IFMAP Stop Cycle, SRAM IFMAP Reads, "
    "SRAM Filter Start Cycle, SRAM Filter Stop Cycle, SRAM Filter Reads, "
    "SRAM OFMAP Start Cycle, SRAM OFMAP Stop Cycle, SRAM OFMAP Writes, "
    "DRAM IFMAP Start Cycle, DRAM IFMAP Stop Cycle, DRAM IFMAP Reads, "
    "DRAM Filter Start Cycle, DRAM Filter Stop Cycle, DRAM Filter Reads, "
    "DRAM OFMAP Start Cycle, DRAM OFMAP Stop Cycle, DRAM OFMAP Writes,"
)


TopologyLayer = TopologyRow
"""One layer in SCALE-Sim's conv form: the workload importer's
:class:`~codesign_playground.workload.importers.scalesim_csv.TopologyRow`."""


def load_topology(
    path: str | Path, *, gemm: bool = False, require_trailing_comma: bool = True
) -> list[TopologyLayer]:
    """Parse a SCALE-Sim topology CSV into layers, as SCALE-Sim's ``topology_utils`` does.

    Uses the project's one topology parser,
    :func:`~codesign_playground.workload.importers.scalesim_csv.read_topology`, with SCALE-Sim's
    rules: the header is ignored; SCALE-Sim drops each row's last field (``split(',')[:-1]``), so
    rows must end with a comma and a row without one raises
    :class:`~codesign_playground.errors.ModelFormatError` (``require_trailing_comma=False``
    reads all its fields instead); conv rows use one stride for both axes, an optional ninth
    field is ``N:M`` sparsity, and a name containing ``DP`` is depthwise and becomes one
    single-channel layer per channel (``<name>Channel_<i>``). GEMM rows (``gemm=True``): name,
    M, N, K, which SCALE-Sim maps to an ``M x K`` ifmap, a ``1 x K`` filter, 1 channel, ``N``
    filters, stride 1.
    """
    return read_topology(
        path,
        gemm=gemm,
        trailing_comma="require" if require_trailing_comma else "lenient",
        expand_depthwise=True,
    )


FAST_FIGURES = (
    "total_cycles",
    "ifmap_sram_reads_words",
    "filter_sram_reads_words",
    "ofmap_sram_writes_words",
    "ifmap_dram_reads_words",
    "filter_dram_reads_words",
    "ofmap_dram_writes_words",
)
"""Figures the fast mode is held to within 1% of the exact mode (stalls are in the cycles)."""


def simulate_layers(
    layers: Sequence[TopologyLayer], cfg: ScaleSimConfig, *, fast: bool = False
) -> SystolicResult:
    """Run the systolic model on topology layers under one SCALE-Sim config (1-D results).

    ``fast``: the fast mode estimates and exploration run, through their own code path
    (:func:`.systolic_fast.fast_gemm_figures` on the layers as a workload, :func:`layer_op`,
    and the config as one design point), instead of the exact mode."""
    cfg.require_modelled()
    if fast:
        return _fast_layers(layers, cfg)

    def col(get: Callable[[TopologyLayer], int]) -> np.ndarray[tuple[int], np.dtype[np.int64]]:
        return np.array([get(layer) for layer in layers], dtype=np.int64)

    view = conv_gemm_view(
        col(lambda x: x.ifmap_h),
        col(lambda x: x.ifmap_w),
        col(lambda x: x.filter_h),
        col(lambda x: x.filter_w),
        col(lambda x: x.channels),
        col(lambda x: x.num_filters),
        col(lambda x: x.stride_h),
        col(lambda x: x.stride_w),
    )
    return simulate(
        view.m,
        view.n,
        view.k,
        ifmap_footprint_words=view.ifmap_footprint_words,
        conv=ConvGeometry(
            col(lambda x: x.ifmap_h),
            col(lambda x: x.ifmap_w),
            col(lambda x: x.filter_h),
            col(lambda x: x.filter_w),
            col(lambda x: x.channels),
            col(lambda x: x.stride_h),
            col(lambda x: x.stride_w),
        ),
        array_rows=cfg.array_rows,
        array_cols=cfg.array_cols,
        dataflow=cfg.dataflow,
        ifmap_sram_kb=cfg.ifmap_sram_kb,
        filter_sram_kb=cfg.filter_sram_kb,
        ofmap_sram_kb=cfg.ofmap_sram_kb,
        user_bandwidth=cfg.use_user_bandwidth,
        bandwidth_words_per_cycle=cfg.bandwidths[0] if cfg.bandwidths else 10,
        ifmap_fill_bw_words_per_cycle=cfg.ifmap_sram_bank_bandwidth,
        filter_fill_bw_words_per_cycle=cfg.filter_sram_bank_bandwidth,
    )


def layer_op(layer: TopologyLayer) -> Op:
    """A topology layer as a workload op in SCALE-Sim's convention: a one-byte-word conv with
    ``ceil`` output sizes (the last window may hang over the ifmap's edge)."""
    x = TensorSpec(f"{layer.name}.in", (1, layer.channels, layer.ifmap_h, layer.ifmap_w))
    return conv(
        layer.name,
        x,
        (layer.num_filters, layer.channels, layer.filter_h, layer.filter_w),
        strides=(layer.stride_h, layer.stride_w),
        precision="int8",
        ceil_mode=True,
    )


def _fast_layers(layers: Sequence[TopologyLayer], cfg: ScaleSimConfig) -> SystolicResult:
    """Fast mode through exploration's own code path: the layers as a workload, the config
    as one design point, :func:`.systolic_fast.fast_gemm_figures`."""
    net = Network("scalesim", tuple(layer_op(x) for x in layers))
    res = fast_gemm_figures(Workload.of(net), SystolicConfig.from_scalesim(cfg))
    return SystolicResult(
        **{f: np.asarray(getattr(res, f))[:, 0] for f in SystolicResult.__dataclass_fields__}
    )


def _i(x: object) -> str:
    return str(int(np.asarray(x).item()))


def _cyc(x: object) -> str:
    """Start/stop cycles: SCALE-Sim prints them as NumPy floats (``17.0``)."""
    return str(float(np.asarray(x).item()))


def _f(x: object) -> str:
    return str(float(np.asarray(x).item()))


def write_reports(
    layers: Sequence[TopologyLayer], cfg: ScaleSimConfig, out_dir: str | Path
) -> SystolicResult:
    """Write SCALE-Sim's three report CSVs for ``layers`` into ``out_dir``; return the figures."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    res = simulate_layers(layers, cfg)
    compute = [COMPUTE_REPORT_HEADER]
    bandwidth = [BANDWIDTH_REPORT_HEADER]
    detail = [DETAILED_ACCESS_REPORT_HEADER]
    for i in range(len(layers)):
        compute.append(
            ", ".join(
                [
                    str(i),
                    _i(res.total_cycles_incl_prefetch[i]),
                    _i(res.total_cycles[i]),
                    _i(res.stall_cycles[i]),
                    _f(res.utilization[i] * 100),
                    _f(res.mapping_efficiency[i] * 100),
                    _f(res.compute_utilization[i] * 100),
                ]
            )
            + ","
        )
        bandwidth.append(
            ", ".join(
                [str(i)]
                + [
                    _f(getattr(res, f"avg_{op}_{mem}_bw_words_per_cycle")[i])
                    for mem, op in (
                        ("sram", "ifmap"),
                        ("sram", "filter"),
                        ("sram", "ofmap"),
                        ("dram", "ifmap"),
                        ("dram", "filter"),
                        ("dram", "ofmap"),
                    )
                ]
            )
            + ","
        )
        fields: list[str] = [str(i)]
        for mem, ops, kinds in (
            ("sram", ("ifmap", "filter", "ofmap"), ("reads", "reads", "writes")),
            ("dram", ("ifmap", "filter", "ofmap"), ("reads", "reads", "writes")),
        ):
            for op, kind in zip(ops, kinds, strict=True):
                fields.append(_cyc(getattr(res, f"{op}_{mem}_start_cycle")[i]))
                fields.append(_cyc(getattr(res, f"{op}_{mem}_stop_cycle")[i]))
                fields.append(_i(getattr(res, f"{op}_{mem}_{kind}_words")[i]))
        detail.append(", ".join(fields) + ",")
    (out / "COMPUTE_REPORT.csv").write_text("\n".join(compute) + "\n")
    (out / "BANDWIDTH_REPORT.csv").write_text("\n".join(bandwidth) + "\n")
    (out / "DETAILED_ACCESS_REPORT.csv").write_text("\n".join(detail) + "\n")
    return res


def layer_from_row(kind: str, row: Mapping[str, Any]) -> TopologyLayer:
    """A topology row given by SCALE-Sim's own column names (conv, or GEMM with ``M``, ``N``,
    ``K``), as stored in the reference cases that ``scripts/scalesim_reference.py`` writes."""
    if kind == "gemm":
        m, n, k = row["M"], row["N"], row["K"]
        return TopologyLayer(row["Layer"], m, k, 1, k, 1, n, 1, 1)
    s = row["Strides"]
    return TopologyLayer(
        row["Layer name"],
        row["IFMAP Height"],
        row["IFMAP Width"],
        row["Filter Height"],
        row["Filter Width"],
        row["Channels"],
        row["Num Filter"],
        s,
        s,
    )
