#!/usr/bin/env python
"""Write ``docs/validation-scalesim.md``: the systolic model against SCALE-Sim's own reports.

For every SCALE-Sim 3.0.0 run in ``tests/data/scalesim/`` (``manifest.json`` and ``grid.jsonl``)
it evaluates the systolic model in its exact mode (what the SCALE-Sim report writer uses) and in
its fast mode (``systolic.FAST``, what estimates and exploration use) and prints, per bandwidth
mode and SRAM size, how many cases match SCALE-Sim in every figure and how far the fast mode is
from the exact one (total cycles, DRAM reads and writes)::

    PYTHONPATH=src python scripts/scalesim_validation_table.py
"""

from __future__ import annotations

import json
import platform
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from codesign_playground.perf.scalesim_compat import ScaleSimConfig, TopologyLayer, simulate_layers
from codesign_playground.perf.systolic import FAST, SystolicResult, conv_gemm_view, simulate

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data" / "scalesim"
OUT = REPO / "docs" / "validation-scalesim.md"
FIGURES = {
    "Total Cycles": "total_cycles",
    "Stall Cycles": "stall_cycles",
    "SRAM IFMAP Reads": "ifmap_sram_reads_words",
    "SRAM Filter Reads": "filter_sram_reads_words",
    "SRAM OFMAP Writes": "ofmap_sram_writes_words",
    "DRAM IFMAP Reads": "ifmap_dram_reads_words",
    "DRAM Filter Reads": "filter_dram_reads_words",
    "DRAM OFMAP Writes": "ofmap_dram_writes_words",
}
FAST_FIGURES = (
    "total_cycles",
    "ifmap_dram_reads_words",
    "filter_dram_reads_words",
    "ofmap_dram_writes_words",
)


def layer_of(case: dict[str, Any]) -> TopologyLayer:
    t = case["topology"]
    if case["kind"] == "gemm":
        return TopologyLayer(t["Layer"], t["M"], t["K"], 1, t["K"], 1, t["N"], 1, 1)
    s = t["Strides"]
    return TopologyLayer(
        t["Layer name"],
        t["IFMAP Height"],
        t["IFMAP Width"],
        t["Filter Height"],
        t["Filter Width"],
        t["Channels"],
        t["Num Filter"],
        s,
        s,
    )


def config_of(case: dict[str, Any]) -> ScaleSimConfig:
    g = case["config"]
    return ScaleSimConfig(
        interface_bandwidth=g["InterfaceBandwidth"],
        array_rows=g["ArrayHeight"],
        array_cols=g["ArrayWidth"],
        ifmap_sram_kb=g["IfmapSramSzkB"],
        filter_sram_kb=g["FilterSramSzkB"],
        ofmap_sram_kb=g["OfmapSramSzkB"],
        dataflow=g["Dataflow"],
        bandwidths=(g["Bandwidth"],),
        ifmap_sram_bank_bandwidth=g["IfmapSRAMBankBandwidth"],
        filter_sram_bank_bandwidth=g["FilterSRAMBankBandwidth"],
    )


def fast(layer: TopologyLayer, cfg: ScaleSimConfig) -> SystolicResult:
    v = conv_gemm_view(
        layer.ifmap_h,
        layer.ifmap_w,
        layer.filter_h,
        layer.filter_w,
        layer.channels,
        layer.num_filters,
        layer.stride_h,
        layer.stride_w,
    )
    return simulate(
        v.m,
        v.n,
        v.k,
        ifmap_footprint_words=v.ifmap_footprint_words,
        array_rows=cfg.array_rows,
        array_cols=cfg.array_cols,
        dataflow=cfg.dataflow,
        ifmap_sram_kb=cfg.ifmap_sram_kb,
        filter_sram_kb=cfg.filter_sram_kb,
        ofmap_sram_kb=cfg.ofmap_sram_kb,
        user_bandwidth=cfg.use_user_bandwidth,
        bandwidth_words_per_cycle=cfg.bandwidths[0],
        ifmap_fill_bw_words_per_cycle=cfg.ifmap_sram_bank_bandwidth,
        filter_fill_bw_words_per_cycle=cfg.filter_sram_bank_bandwidth,
        **FAST,
    )


def val(res: SystolicResult, name: str) -> float:
    return float(np.asarray(getattr(res, name)).ravel()[0])


def main() -> int:
    cases = json.loads((DATA / "manifest.json").read_text())["cases"]
    grid = [json.loads(x) for x in (DATA / "grid.jsonl").read_text().splitlines() if x]
    cases += list({c["id"]: c for c in grid}.values())  # one per id (resumable generator)
    cases = [c for c in cases if "reports" in c]
    rows: dict[tuple[str, str], list[tuple[bool, float, float, float]]] = defaultdict(list)
    for case in cases:
        g = case["config"]
        sram = f"{g['IfmapSramSzkB']}/{g['FilterSramSzkB']}/{g['OfmapSramSzkB']}"
        layer, cfg = layer_of(case), config_of(case)
        t0 = time.perf_counter()
        res = simulate_layers([layer], cfg)
        t_exact = time.perf_counter() - t0
        ref = (
            case["reports"]["COMPUTE_REPORT.csv"][0]
            | case["reports"]["DETAILED_ACCESS_REPORT.csv"][0]
        )
        exact = all(val(res, f) == float(ref[col]) for col, f in FIGURES.items())
        fst = fast(layer, cfg)
        err = max(abs(val(fst, f) / max(val(res, f), 1.0) - 1.0) for f in FAST_FIGURES)
        rows[(g["InterfaceBandwidth"], sram)].append(
            (exact, err, t_exact, float(case["scalesim_seconds"]))
        )
    total = sum(len(v) for v in rows.values())
    exact_all = sum(g[0] for v in rows.values() for g in v)
    within_all = sum(g[1] <= 0.01 for v in rows.values() for g in v)
    lines = [
        "# Validation: systolic model against SCALE-Sim 3.0.0",
        "",
        f"Generated by `scripts/scalesim_validation_table.py` ({platform.python_version()}); "
        "re-run it to refresh (nothing here is edited by hand).",
        "",
        "Every case is a run of SCALE-Sim 3.0.0 itself (`scripts/scalesim_reference.py`): the "
        "cases of `tests/data/scalesim/manifest.json` and the grid of `grid.jsonl` (dataflows "
        "ws/os/is x arrays 8x8 to 128x128 and non-square x SRAM sizes x CALC/USER bandwidth, on "
        "ResNet-18, MobileNet and GEMM layers of SCALE-Sim's topology files). *exact*: total and "
        "stall cycles, SRAM and DRAM reads and writes all equal SCALE-Sim's (the tests also check "
        "every start/stop cycle). *fast*: the fast mode (`systolic.FAST`, used by estimates and "
        "exploration) against the exact mode, worst relative error over total cycles and DRAM "
        "ifmap/filter reads and ofmap writes.",
        "",
        f"**{exact_all} of {total} cases exact in every figure; the fast mode is within 1% of "
        f"the exact mode in {within_all} of {total}.**",
        "",
        "| mode | SRAM ifmap/filter/ofmap KB | cases | exact (all figures) | fast within 1% "
        "| fast worst error | model s (exact, sum) | SCALE-Sim s (sum) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (mode, sram), got in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        n = len(got)
        ex = sum(g[0] for g in got)
        within = sum(g[1] <= 0.01 for g in got)
        worst = max(g[1] for g in got)
        lines.append(
            f"| {mode} | {sram} | {n} | {ex} | {within} | {worst:.1%} | "
            f"{sum(g[2] for g in got):.1f} | {sum(g[3] for g in got):.0f} |"
        )
    OUT.write_text("\n".join(lines) + "\n")
    print(f"{exact_all} of {total} exact; fast within 1%: {within_all} -> {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
