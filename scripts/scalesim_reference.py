#!/usr/bin/env python
"""Generate SCALE-Sim 3.0.0 reference cases for the systolic-array model's tests.

Runs SCALE-Sim itself (its Python API, traces off) on layers x array sizes x dataflows, in
parallel processes, and stores what it reports under ``tests/data/scalesim/``:

* ``manifest.json``: per case its id, topology row, config values, SCALE-Sim's run time and the
  parsed rows of COMPUTE_REPORT.csv, BANDWIDTH_REPORT.csv and DETAILED_ACCESS_REPORT.csv (with
  SCALE-Sim's exact column names);
* ``cases/<id>/``: the raw report CSVs, byte for byte as SCALE-Sim wrote them.

It must run under the SCALE-Sim interpreter (``scripts/setup_scalesim_venv.sh`` makes it)::

    .venv-scalesim/bin/python scripts/scalesim_reference.py [--jobs 2] [--only ID_SUBSTRING]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUT_DIR = REPO / "tests" / "data" / "scalesim"
REPORTS = ("COMPUTE_REPORT.csv", "BANDWIDTH_REPORT.csv", "DETAILED_ACCESS_REPORT.csv")

CONV_HEADER = (
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
    "Num Filter, Strides,"
)
GEMM_HEADER = "Layer, M, N, K,"

# Conv layers: name, ifmap h, ifmap w, filter h, filter w, channels, num filters, stride.
CONV_LAYERS: list[tuple[str, int, int, int, int, int, int, int]] = [
    ("conv3x3", 14, 14, 3, 3, 16, 32, 1),
    ("conv3x3s2", 13, 13, 3, 3, 8, 24, 2),
    ("conv1x1", 7, 7, 1, 1, 64, 40, 1),
    ("conv5x5", 20, 20, 5, 5, 3, 10, 1),
]
# GEMM layers: name, M, N, K (SCALE-Sim maps them to ifmap M x K, filter K x N).
GEMM_LAYERS: list[tuple[str, int, int, int]] = [
    ("gemm64", 64, 64, 64),
    ("gemm100x37x50", 100, 37, 50),
    ("gemm17x130x33", 17, 130, 33),
    ("gemm128x16x200", 128, 16, 200),
]
ARRAYS: list[tuple[int, int]] = [(8, 8), (16, 16), (32, 32), (128, 128), (16, 32)]
# Larger, network-sized layers, run on the larger arrays only (SCALE-Sim's cost grows with
# simulated cycles and SRAM accesses).
BIG_LAYERS: list[tuple[str, dict[str, Any]]] = [
    (
        "conv",
        {
            "Layer name": "resnet_conv3",
            "IFMAP Height": 28,
            "IFMAP Width": 28,
            "Filter Height": 3,
            "Filter Width": 3,
            "Channels": 128,
            "Num Filter": 128,
            "Strides": 1,
        },
    ),
    ("gemm", {"Layer": "gemm256", "M": 256, "N": 256, "K": 256}),
]
BIG_ARRAYS: list[tuple[int, int]] = [(32, 32), (128, 128), (64, 128)]
DATAFLOWS = ("ws", "os", "is")


@dataclass(frozen=True)
class Case:
    """One SCALE-Sim run: one layer on one configuration."""

    id: str
    kind: str  # "conv" or "gemm"
    topology: dict[str, Any]
    config: dict[str, Any] = field(default_factory=dict)


def base_config(rows: int, cols: int, dataflow: str, **over: Any) -> dict[str, Any]:
    """A SCALE-Sim configuration; large SRAMs unless overridden (every operand fits)."""
    cfg: dict[str, Any] = {
        "run_name": "ref",
        "InterfaceBandwidth": "CALC",
        "UseRamulatorTrace": "False",
        "ArrayHeight": rows,
        "ArrayWidth": cols,
        "IfmapSramSzkB": 512,
        "FilterSramSzkB": 512,
        "OfmapSramSzkB": 1024,
        "IfmapOffset": 0,
        "FilterOffset": 10000000,
        "OfmapOffset": 20000000,
        "Bandwidth": 10,
        "Dataflow": dataflow,
        "ReadRequestBuffer": 32,
        "WriteRequestBuffer": 32,
        "IfmapCustomLayout": "False",
        "FilterCustomLayout": "False",
        "IfmapSRAMBankBandwidth": 10,
        "IfmapSRAMBankNum": 10,
        "IfmapSRAMBankPort": 2,
        "FilterSRAMBankBandwidth": 10,
        "FilterSRAMBankNum": 10,
        "FilterSRAMBankPort": 2,
        "SparsitySupport": "false",
    }
    cfg.update(over)
    return cfg


def conv_topology(layer: tuple[str, int, int, int, int, int, int, int]) -> dict[str, Any]:
    name, ih, iw, fh, fw, ch, nf, st = layer
    return {
        "Layer name": name,
        "IFMAP Height": ih,
        "IFMAP Width": iw,
        "Filter Height": fh,
        "Filter Width": fw,
        "Channels": ch,
        "Num Filter": nf,
        "Strides": st,
    }


def gemm_topology(layer: tuple[str, int, int, int]) -> dict[str, Any]:
    name, m, n, k = layer
    return {"Layer": name, "M": m, "N": n, "K": k}


def all_cases() -> list[Case]:
    """The reference set: a full grid on big SRAMs plus small-SRAM / low-bandwidth cases."""
    cases: list[Case] = []
    layers: list[tuple[str, dict[str, Any]]] = [("conv", conv_topology(x)) for x in CONV_LAYERS]
    layers += [("gemm", gemm_topology(x)) for x in GEMM_LAYERS]
    for kind, topo in layers:
        name = topo.get("Layer name", topo.get("Layer"))
        for rows, cols in ARRAYS:
            for df in DATAFLOWS:
                cid = f"{name}_{rows}x{cols}_{df}"
                cases.append(Case(cid, kind, topo, base_config(rows, cols, df)))
    for kind, topo in BIG_LAYERS:
        name = topo.get("Layer name", topo.get("Layer"))
        for rows, cols in BIG_ARRAYS:
            for df in DATAFLOWS:
                cid = f"{name}_{rows}x{cols}_{df}"
                cfg = base_config(rows, cols, df, OfmapSramSzkB=8192)
                cases.append(Case(cid, kind, topo, cfg))
    # Stress cases: small SRAMs and/or a user-given (limited) bandwidth, where SCALE-Sim's
    # stall and DRAM-traffic quirks show.
    conv3 = conv_topology(CONV_LAYERS[0])
    conv1 = conv_topology(CONV_LAYERS[2])
    g64 = gemm_topology(GEMM_LAYERS[0])
    g100 = gemm_topology(GEMM_LAYERS[1])
    small = {"IfmapSramSzkB": 2, "FilterSramSzkB": 2, "OfmapSramSzkB": 2}
    user_lo = {"InterfaceBandwidth": "USER", "Bandwidth": 2}
    stress: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
        ("user_bw2_gemm64_16x16_ws", "gemm", g64, base_config(16, 16, "ws", **user_lo)),
        ("user_bw2_gemm64_16x16_os", "gemm", g64, base_config(16, 16, "os", **user_lo)),
        ("user_bw2_gemm64_16x16_is", "gemm", g64, base_config(16, 16, "is", **user_lo)),
        (
            "user_bw4_conv3x3_32x32_ws",
            "conv",
            conv3,
            base_config(32, 32, "ws", InterfaceBandwidth="USER", Bandwidth=4),
        ),
        ("calc_small_conv3x3_16x16_ws", "conv", conv3, base_config(16, 16, "ws", **small)),
        ("calc_small_gemm100_16x16_os", "gemm", g100, base_config(16, 16, "os", **small)),
        (
            "user_small_conv1x1_32x32_is",
            "conv",
            conv1,
            base_config(32, 32, "is", **small, **user_lo),
        ),
        ("user_small_gemm64_16x16_ws", "gemm", g64, base_config(16, 16, "ws", **small, **user_lo)),
        (
            "user_ofmap4k_bw1_gemm64_16x16_ws",
            "gemm",
            g64,
            base_config(16, 16, "ws", InterfaceBandwidth="USER", Bandwidth=1, OfmapSramSzkB=4),
        ),
        (
            "user_ofmap4k_bw4_conv3x3_16x16_os",
            "conv",
            conv3,
            base_config(16, 16, "os", InterfaceBandwidth="USER", Bandwidth=4, OfmapSramSzkB=4),
        ),
        (
            "user_ofmap1k_bw8_gemm100_32x32_is",
            "gemm",
            g100,
            base_config(32, 32, "is", InterfaceBandwidth="USER", Bandwidth=8, OfmapSramSzkB=1),
        ),
    ]
    # CALC mode with read SRAMs smaller than the operands: pins down the epoch-flip reuse of
    # ReadBufferEstimateBw (periodic flips over the os filter's column folds, cycling operands).
    g17 = gemm_topology(GEMM_LAYERS[2])
    g128 = gemm_topology(GEMM_LAYERS[3])
    kb3 = {"IfmapSramSzkB": 3, "FilterSramSzkB": 3, "OfmapSramSzkB": 2}
    kb4 = {"IfmapSramSzkB": 4, "FilterSramSzkB": 4, "OfmapSramSzkB": 4}
    stress += [
        ("calc_small_gemm17x130x33_8x8_os", "gemm", g17, base_config(8, 8, "os", **small)),
        ("calc_small_gemm128x16x200_16x16_is", "gemm", g128, base_config(16, 16, "is", **small)),
        ("calc_small4k_gemm64_16x16_os", "gemm", g64, base_config(16, 16, "os", **kb4)),
        ("calc_small3k_gemm100_8x8_os", "gemm", g100, base_config(8, 8, "os", **kb3)),
        ("calc_small3k_gemm100_8x8_ws", "gemm", g100, base_config(8, 8, "ws", **kb3)),
        ("calc_small_conv1x1_8x8_ws", "conv", conv1, base_config(8, 8, "ws", **small)),
    ]
    # USER mode with read SRAMs smaller than the prefetch matrices: pins down the replay of
    # read_buffer's ring of sets (window walks round the ring at fold changes) in every dataflow,
    # 1-4 KB SRAMs, ragged folds, a short ring (n < 2 active windows) and a row wider than a set.
    ring = {"InterfaceBandwidth": "USER", "Bandwidth": 2}
    kb1 = {"IfmapSramSzkB": 1, "FilterSramSzkB": 1, "OfmapSramSzkB": 2}
    g70 = gemm_topology(("gemm70x90x40", 70, 90, 40))
    g50 = gemm_topology(("gemm50", 50, 50, 50))
    stress += [
        ("user_ring_gemm100_16x32_os", "gemm", g100, base_config(16, 32, "os", **small, **ring)),
        (
            "user_ring_gemm128x16x200_16x16_os",
            "gemm",
            g128,
            base_config(16, 16, "os", **kb3, **ring),
        ),
        ("user_ring_gemm70x90x40_32x16_ws", "gemm", g70, base_config(32, 16, "ws", **kb1, **ring)),
        ("user_ring_gemm50_8x16_is", "gemm", g50, base_config(8, 16, "is", **kb1, **ring)),
        ("user_ring_conv1x1_32x32_os", "conv", conv1, base_config(32, 32, "os", **small, **ring)),
        ("user_ring_gemm100_8x8_ws", "gemm", g100, base_config(8, 8, "ws", **kb1, **ring)),
    ]
    # Stall replay: ofmap SRAM drains during the run (write-buffer stalls, CALC drains
    # ArrayWidth words/cycle) alone and together with read-buffer refills.
    wb_user = {"InterfaceBandwidth": "USER"}
    stress += [
        (
            "user_wb_ofmap2k_bw2_gemm100_16x16_os",
            "gemm",
            g100,
            base_config(16, 16, "os", **wb_user, Bandwidth=2, OfmapSramSzkB=2),
        ),
        (
            "user_wb_ofmap1k_bw4_conv3x3_8x8_is",
            "conv",
            conv3,
            base_config(8, 8, "is", **wb_user, Bandwidth=4, OfmapSramSzkB=1),
        ),
        ("calc_wb_ofmap1k_gemm64_8x8_ws", "gemm", g64, base_config(8, 8, "ws", OfmapSramSzkB=1)),
        ("user_ring_wb_gemm64_8x8_is", "gemm", g64, base_config(8, 8, "is", **kb1, **ring)),
    ]
    cases += [Case(cid, kind, topo, cfg) for cid, kind, topo, cfg in stress]
    return cases


def write_cfg(path: Path, cfg: dict[str, Any]) -> None:
    """Write a SCALE-Sim .cfg with every section its parser reads."""
    text = f"""[general]
run_name = {cfg["run_name"]}

[architecture_presets]
ArrayHeight : {cfg["ArrayHeight"]}
ArrayWidth : {cfg["ArrayWidth"]}
IfmapSramSzkB : {cfg["IfmapSramSzkB"]}
FilterSramSzkB : {cfg["FilterSramSzkB"]}
OfmapSramSzkB : {cfg["OfmapSramSzkB"]}
IfmapOffset : {cfg["IfmapOffset"]}
FilterOffset : {cfg["FilterOffset"]}
OfmapOffset : {cfg["OfmapOffset"]}
Bandwidth : {cfg["Bandwidth"]}
Dataflow : {cfg["Dataflow"]}
ReadRequestBuffer : {cfg["ReadRequestBuffer"]}
WriteRequestBuffer : {cfg["WriteRequestBuffer"]}

[layout]
IfmapCustomLayout : {cfg["IfmapCustomLayout"]}
IfmapSRAMBankBandwidth : {cfg["IfmapSRAMBankBandwidth"]}
IfmapSRAMBankNum : {cfg["IfmapSRAMBankNum"]}
IfmapSRAMBankPort : {cfg["IfmapSRAMBankPort"]}
FilterCustomLayout : {cfg["FilterCustomLayout"]}
FilterSRAMBankBandwidth : {cfg["FilterSRAMBankBandwidth"]}
FilterSRAMBankNum : {cfg["FilterSRAMBankNum"]}
FilterSRAMBankPort : {cfg["FilterSRAMBankPort"]}

[sparsity]
SparsitySupport : {cfg["SparsitySupport"]}
SparseRep : ellpack_block
OptimizedMapping : false
BlockSize : 8
RandomNumberGeneratorSeed : 40

[run_presets]
InterfaceBandwidth : {cfg["InterfaceBandwidth"]}
UseRamulatorTrace : {cfg["UseRamulatorTrace"]}
"""
    path.write_text(text)


def write_topology(path: Path, kind: str, topo: dict[str, Any]) -> None:
    """Write the one-layer topology CSV; every row ends with a comma (SCALE-Sim drops the last
    field otherwise)."""
    header = CONV_HEADER if kind == "conv" else GEMM_HEADER
    row = ", ".join(str(v) for v in topo.values()) + ","
    path.write_text(header + "\n" + row + "\n")


def parse_report(path: Path) -> list[dict[str, Any]]:
    """Rows of a SCALE-Sim report CSV as dicts keyed by its exact (stripped) column names."""
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    names = [c.strip() for c in lines[0].split(",")]
    rows = []
    for ln in lines[1:]:
        vals = [c.strip() for c in ln.split(",")]
        row: dict[str, Any] = {}
        for name, val in zip(names, vals, strict=False):
            if not name:
                continue
            try:
                num = float(val)
                row[name] = int(num) if num.is_integer() and "." not in val else num
            except ValueError:
                row[name] = val
        rows.append(row)
    return rows


def run_case(case: Case) -> dict[str, Any]:
    """Run SCALE-Sim on one case; copy its reports and return the manifest entry."""
    from scalesim.scale_sim import scalesim  # imported in the worker (SCALE-Sim venv only)

    with tempfile.TemporaryDirectory(prefix="scalesim_ref_") as tmp:
        work = Path(tmp)
        cfg_path, topo_path, layout_path = work / "c.cfg", work / "t.csv", work / "l.csv"
        write_cfg(cfg_path, case.config)
        write_topology(topo_path, case.kind, case.topology)
        layout_path.write_text(
            "Layer name, IFMAP Height Intraline Factor, IFMAP Width Intraline Factor, "
            "Channel Intraline Factor, IFMAP Height Intraline Order, IFMAP Width Intraline "
            "Order, Channel Intraline Order, IFMAP Height Interline Order, IFMAP Width "
            "Interline Order, Channel Interline Order,\n"
        )
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink):
            sim = scalesim(
                save_disk_space=True,
                verbose=False,
                config=str(cfg_path),
                topology=str(topo_path),
                layout=str(layout_path),
                input_type_gemm=case.kind == "gemm",
            )
            t0 = time.perf_counter()
            sim.run_scale(top_path=str(work / "out"))
            elapsed = time.perf_counter() - t0
        report_dir = work / "out" / case.config["run_name"]
        dest = OUT_DIR / "cases" / case.id
        dest.mkdir(parents=True, exist_ok=True)
        reports: dict[str, list[dict[str, Any]]] = {}
        for name in REPORTS:
            shutil.copyfile(report_dir / name, dest / name)
            reports[name] = parse_report(report_dir / name)
    return {
        "id": case.id,
        "kind": case.kind,
        "topology": case.topology,
        "config": case.config,
        "scalesim_seconds": round(elapsed, 4),
        "reports": reports,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--only", default="", help="run only cases whose id contains this")
    parser.add_argument("--list", action="store_true", help="list the case ids and exit")
    args = parser.parse_args(argv)

    cases = [c for c in all_cases() if args.only in c.id]
    if args.list:
        print("\n".join(c.id for c in cases))
        return 0
    try:
        import scalesim  # noqa: F401
    except ImportError:
        print("scalesim is not importable: run with .venv-scalesim/bin/python", file=sys.stderr)
        return 2

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    manifest_path = OUT_DIR / "manifest.json"
    previous: dict[str, Any] = {}
    if args.only and manifest_path.exists():
        previous = {c["id"]: c for c in json.loads(manifest_path.read_text())["cases"]}

    t0 = time.perf_counter()
    results: dict[str, Any] = {}
    ctx = mp.get_context("spawn")
    with ctx.Pool(processes=args.jobs, maxtasksperchild=1) as pool:
        for entry in pool.imap_unordered(run_case, cases):
            results[entry["id"]] = entry
            print(f"{entry['id']:40s} {entry['scalesim_seconds']:8.2f} s", flush=True)
    previous.update(results)
    order = [c.id for c in all_cases()]
    merged = [previous[i] for i in order if i in previous]

    import numpy
    import pandas

    manifest = {
        "generator": "scripts/scalesim_reference.py",
        "scalesim_version": "3.0.0",
        "numpy_version": numpy.__version__,
        "pandas_version": pandas.__version__,
        "report_files": list(REPORTS),
        "cases": merged,
    }
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"{len(results)} cases in {time.perf_counter() - t0:.1f} s -> {manifest_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
