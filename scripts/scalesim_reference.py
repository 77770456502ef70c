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
    topology: dict[str, Any] | list[dict[str, Any]]  # one layer, or a list (multi-layer)
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


# --- Full grid over SCALE-Sim's own topologies ------------------------------------------------
# Layers copied from SCALE-Sim's repository (github.com/scalesim-project/scale-sim-v2, commit
# 22f88b17f1dd3160e18bff5df165035bf8146e83): topologies/conv_nets/Resnet18.csv,
# topologies/conv_nets/mobilenet.csv and topologies/GEMM_mnk/{NCF,gnmt,gpt2,test_mnk_input,
# transformer_partial}.csv (unet2d.csv's layers are too large to simulate). Rows with the same
# shape are kept once.
RESNET18: list[tuple[str, int, int, int, int, int, int, int]] = [
    ("Conv1", 224, 224, 7, 7, 3, 64, 2),
    ("Conv2_1a", 56, 56, 3, 3, 64, 64, 1),
    ("Conv3_1a", 56, 56, 3, 3, 64, 128, 2),
    ("Conv3_1b", 28, 28, 3, 3, 128, 128, 1),
    ("Conv3_s", 56, 56, 1, 1, 64, 128, 2),
    ("Conv4_1a", 28, 28, 3, 3, 128, 256, 2),
    ("Conv4_1b", 14, 14, 3, 3, 256, 256, 1),
    ("Conv4_s", 28, 28, 1, 1, 128, 256, 2),
    ("Conv5_1a", 14, 14, 3, 3, 256, 512, 2),
    ("Conv5_1b", 7, 7, 3, 3, 512, 512, 1),
    ("Conv5_s", 14, 14, 1, 1, 256, 512, 2),
    ("FC", 1, 1, 1, 1, 512, 1000, 1),
]
MOBILENET: list[tuple[str, int, int, int, int, int, int, int]] = [
    ("Conv1", 224, 224, 3, 3, 3, 32, 2),
    ("Conv2", 112, 112, 3, 3, 32, 1, 1),
    ("Conv3", 112, 112, 1, 1, 32, 64, 1),
    ("Conv4", 112, 112, 3, 3, 64, 1, 2),
    ("Conv5", 56, 56, 1, 1, 64, 128, 1),
    ("Conv6", 56, 56, 3, 3, 128, 1, 1),
    ("Conv7", 56, 56, 1, 1, 128, 128, 1),
    ("Conv8", 56, 56, 3, 3, 128, 1, 2),
    ("Conv9", 28, 28, 1, 1, 128, 256, 1),
    ("Conv10", 28, 28, 3, 3, 256, 1, 1),
    ("Conv11", 28, 28, 1, 1, 256, 256, 1),
    ("Conv12", 28, 28, 3, 3, 256, 1, 2),
    ("Conv13", 14, 14, 1, 1, 256, 512, 1),
    ("Conv14", 14, 14, 3, 3, 512, 1, 1),
    ("Conv15", 14, 14, 1, 1, 512, 512, 1),
    ("Conv24", 14, 14, 3, 3, 512, 1, 2),
    ("Conv25", 7, 7, 1, 1, 512, 1024, 1),
    ("Conv26", 7, 7, 3, 3, 1024, 1, 2),
    ("Conv27", 7, 7, 1, 1, 1024, 1024, 1),
]
GEMM_MNK: list[tuple[str, int, int, int]] = [
    ("NCF_1", 256, 128, 2048),
    ("NCF_2", 128, 64, 2048),
    ("NCF_3", 256, 256, 2048),
    ("NCF_4", 2048, 256, 256),
    ("NCF_6", 2048, 128, 256),
    ("NCF_7", 2048, 256, 128),
    ("NCF_8", 2048, 128, 64),
    ("NCF_9", 2048, 64, 128),
    ("NCF_10", 128, 1, 2048),
    ("NCF_11", 2048, 1, 128),
    ("NCF_12", 2048, 128, 1),
    ("gnmt_1", 2048, 4096, 32),
    ("gnmt_3", 2048, 1024, 32),
    ("gnmt_4", 32, 2048, 4096),
    ("gnmt_6", 32, 2048, 1024),
    ("gnmt_11", 32, 1024, 2048),
    ("gpt2_QKT", 1024, 1024, 64),
    ("gpt2_QKTV", 1024, 64, 1024),
    ("test_mnk_1", 128, 64, 256),
    ("tr_MH_FC_DimReduce_VKQ_0", 128, 512, 1536),
    ("tr_SD_MatMul_QK_00", 128, 64, 128),
    ("tr_MH_FC_DimRecast_0", 128, 512, 512),
    ("tr_FF_A_0", 128, 512, 2048),
]
GRID_ARRAYS: list[tuple[int, int]] = [
    (8, 8),
    (16, 16),
    (32, 32),
    (64, 64),
    (128, 128),
    (8, 32),
    (32, 16),
]
# (name, ifmap KB, filter KB, ofmap KB): operands fit; medium; the 16 KiB of the issue; tiny
# (read-buffer replays and ofmap drains on nearly every layer).
GRID_SRAMS: list[tuple[str, int, int, int]] = [
    ("L", 512, 512, 256),
    ("M", 64, 64, 32),
    ("S", 16, 16, 16),
    ("T", 2, 2, 2),
]
# (name, config overrides): CALC (estimated bandwidth) and USER (given bandwidth; drain rate
# ``Bandwidth``, fill rate 10 words/cycle per read SRAM).
GRID_MODES: list[tuple[str, dict[str, Any]]] = [
    ("calc", {"InterfaceBandwidth": "CALC"}),
    ("user", {"InterfaceBandwidth": "USER"}),
]
GRID_USER_BANDWIDTHS = (10, 4)  # rotated over the layer slots
GRID_COST_CAP_S = 1.5  # estimated SCALE-Sim seconds per case (layers above it are not picked)


def gemm_dims(kind: str, topo: dict[str, Any]) -> tuple[int, int, int]:
    """SCALE-Sim's GEMM view (M, N, K) of a topology row (no padding, ceil output size)."""
    if kind == "gemm":
        return int(topo["M"]), int(topo["N"]), int(topo["K"])
    s = int(topo["Strides"])
    oh = -(-(int(topo["IFMAP Height"]) - int(topo["Filter Height"]) + s) // s)
    ow = -(-(int(topo["IFMAP Width"]) - int(topo["Filter Width"]) + s) // s)
    k = int(topo["Filter Height"]) * int(topo["Filter Width"]) * int(topo["Channels"])
    return oh * ow, int(topo["Num Filter"]), k


def estimated_seconds(kind: str, topo: dict[str, Any], rows: int, cols: int, df: str) -> float:
    """SCALE-Sim's run time, roughly: 65 us per demand line plus 3 us per SRAM access."""
    m, n, k = gemm_dims(kind, topo)
    sr, sc, t = {"os": (m, n, k), "ws": (k, n, m), "is": (k, m, n)}[df]
    rf, cf = -(-sr // rows), -(-sc // cols)
    lines = rf * cf * (t + rows + cols - 2 if df == "os" else 2 * rows + cols + t - 2)
    accesses = m * k * cf + k * n * rf + m * n
    return 65e-6 * lines + 3e-6 * accesses


def grid_cases() -> list[Case]:
    """dataflow x array x SRAM sizes x bandwidth mode, one ResNet-18, one MobileNet and one GEMM
    layer each (rotating over the layers SCALE-Sim runs in seconds on that array)."""
    pools: list[list[tuple[str, dict[str, Any]]]] = [
        [("conv", conv_topology(("rn18_" + x[0], *x[1:]))) for x in RESNET18],
        [("conv", conv_topology(("mobilenet_" + x[0], *x[1:]))) for x in MOBILENET],
        [("gemm", gemm_topology(x)) for x in GEMM_MNK],
    ]
    slots: list[list[Case]] = [[], [], []]
    combo = 0
    for mode, mode_cfg in GRID_MODES:
        for sram, ikb, fkb, okb in GRID_SRAMS:
            for rows, cols in GRID_ARRAYS:
                for df in DATAFLOWS:
                    for slot, pool in enumerate(pools):
                        cost = [estimated_seconds(kd, tp, rows, cols, df) for kd, tp in pool]
                        ok = [i for i, c in enumerate(cost) if c <= GRID_COST_CAP_S]
                        if not ok:
                            ok = [min(range(len(pool)), key=cost.__getitem__)]
                        kind, topo = pool[ok[(combo * 7 + slot * 3) % len(ok)]]
                        over: dict[str, Any] = dict(mode_cfg)
                        over.update(IfmapSramSzkB=ikb, FilterSramSzkB=fkb, OfmapSramSzkB=okb)
                        tag = mode
                        if mode == "user":
                            bw = GRID_USER_BANDWIDTHS[(combo + slot) % len(GRID_USER_BANDWIDTHS)]
                            over["Bandwidth"] = bw
                            tag = f"user{bw}"
                        name = topo.get("Layer name", topo.get("Layer"))
                        cid = f"grid_{tag}_{sram}_{rows}x{cols}_{df}_{name}"
                        slots[slot].append(
                            Case(cid, kind, topo, base_config(rows, cols, df, **over))
                        )
                    combo += 1
    # Slot-major order: a partial run covers every combination once before the second layer.
    return [c for cases in slots for c in cases]


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


def write_topology(path: Path, kind: str, topo: dict[str, Any] | list[dict[str, Any]]) -> None:
    """Write the topology CSV (one layer, or a list of layers); every row ends with a comma
    (SCALE-Sim drops the last field otherwise)."""
    header = CONV_HEADER if kind == "conv" else GEMM_HEADER
    layers = topo if isinstance(topo, list) else [topo]
    rows = [", ".join(str(v) for v in layer.values()) + "," for layer in layers]
    path.write_text(header + "\n" + "\n".join(rows) + "\n")


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


def run_case(case: Case, keep_raw: bool = True) -> dict[str, Any]:
    """Run SCALE-Sim on one case; copy its reports (``keep_raw``) and return the manifest entry."""
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
        reports: dict[str, list[dict[str, Any]]] = {}
        for name in REPORTS:
            if keep_raw:
                dest = OUT_DIR / "cases" / case.id
                dest.mkdir(parents=True, exist_ok=True)
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


# --- Seeded random cases (held-out style checks) --------------------------------------------
RANDOM_ARRAY_SIDES = (1, 2, 3, 4, 5, 7, 8, 12, 16, 20, 24, 32)
WIDE_ARRAY_SIDES = (1, 6, 17, 48, 64, 100, 128, 130, 256)
WIDE_SRAM_KB = (1, 5, 7, 9, 13, 33, 100, 1000)
RANDOM_SRAM_KB = (1, 2, 3, 4, 6, 8, 16, 64, 512)
RANDOM_COST_CAP_S = 8.0  # estimated SCALE-Sim seconds per case (redrawn above it)


def random_cases(count: int, seed: int, big: bool = False, wide: bool = False) -> list[Case]:
    """``count`` seeded random cases: conv layers with odd sizes, strides 1-4, non-square
    filters, channel counts that are not multiples of the array, 1-channel (depthwise-like)
    layers and GEMMs with tiny, non-power-of-two M/N/K, on square, non-square, 1xN and Nx1
    arrays, unequal SRAM sizes from 1 KiB, CALC and USER bandwidth (drain 1..64 words/cycle,
    bank bandwidths 1..64 with a bank count that divides them, as SCALE-Sim asserts), all three
    dataflows and random non-negative address offsets. Cases SCALE-Sim would take longer than
    ``RANDOM_COST_CAP_S`` (estimate) are redrawn. ``big``: layers up to about 10x larger and
    SRAMs of 1-16 KiB, so that operands overflow their SRAMs and refill or drain. ``wide``:
    arrays up to 256 (incl. 1xN, Nx1 and odd sides) and odd SRAM sizes 1 KiB-1000 KiB."""
    sides = WIDE_ARRAY_SIDES if wide else RANDOM_ARRAY_SIDES
    import random

    rng = random.Random(seed)
    out: list[Case] = []
    while len(out) < count:
        i = len(out)
        df = rng.choice(DATAFLOWS)
        if rng.random() < 0.15:
            side = rng.choice(sides[2:])
            rows, cols = (1, side) if rng.random() < 0.5 else (side, 1)
        else:
            rows, cols = rng.choice(sides), rng.choice(sides)
        kind = "gemm" if rng.random() < 0.4 else "conv"
        if kind == "gemm":
            m, n, k = (
                rng.choice((1, 2, 3, 5, 7))
                if rng.random() < 0.3
                else rng.randint(1, 300 if big else 90)
                for _ in range(3)
            )
            topo = gemm_topology((f"g{m}x{n}x{k}", m, n, k))
        else:
            ih, iw = rng.randint(1, 57 if big else 23), rng.randint(1, 57 if big else 23)
            fh, fw = rng.randint(1, min(5, ih)), rng.randint(1, min(5, iw))
            st = rng.choice((1, 1, 2, 2, 3, 4))
            ch = 1 if rng.random() < 0.2 else rng.randint(1, 97 if big else 37)
            nf = rng.randint(1, 131 if big else 41)
            topo = conv_topology(
                (f"c{ih}x{iw}f{fh}x{fw}c{ch}n{nf}s{st}", ih, iw, fh, fw, ch, nf, st)
            )
        if estimated_seconds(kind, topo, rows, cols, df) > RANDOM_COST_CAP_S * (2 if big else 1):
            continue
        user = rng.random() < 0.5
        srams = WIDE_SRAM_KB if wide else RANDOM_SRAM_KB[:7] if big else RANDOM_SRAM_KB
        over: dict[str, Any] = {
            "InterfaceBandwidth": "USER" if user else "CALC",
            "IfmapSramSzkB": rng.choice(srams),
            "FilterSramSzkB": rng.choice(srams),
            "OfmapSramSzkB": rng.choice(srams),
            "Bandwidth": rng.choice((1, 2, 3, 4, 5, 7, 8, 10, 13, 16, 32, 64)),
            "IfmapOffset": rng.choice((0, 0, 1, 123457)),
            "FilterOffset": rng.choice((10000000, 0, 7, 5000000)),
            "OfmapOffset": rng.choice((20000000, 0, 99)),
            "ReadRequestBuffer": rng.choice((1, 32, 60)),
            "WriteRequestBuffer": rng.choice((1, 32, 60)),
        }
        for op in ("Ifmap", "Filter"):
            bank_bw = rng.choice((1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 32, 64))
            divisors = [d for d in range(1, bank_bw + 1) if bank_bw % d == 0]
            over[f"{op}SRAMBankBandwidth"] = bank_bw
            over[f"{op}SRAMBankNum"] = rng.choice(divisors)
            over[f"{op}SRAMBankPort"] = rng.choice((1, 2, 4))
        tag = "user" if user else "calc"
        flavor = ("big" if big else "") + ("wide" if wide else "")
        cid = f"rand{flavor}_s{seed}_{i:03d}_{tag}_{rows}x{cols}_{df}_{kind}"
        out.append(Case(cid, kind, topo, base_config(rows, cols, df, **over)))
    return out


def multi_cases() -> list[Case]:
    """Multi-layer topologies (the reports' rows per layer): a conv net whose first layer's name
    contains ``DP`` (SCALE-Sim runs it as one single-channel layer per channel) and a GEMM
    chain, each under a CALC and a USER configuration with small SRAMs and under a large one."""
    conv = [
        conv_topology(("dw_DP", 15, 15, 3, 3, 3, 2, 1)),
        conv_topology(("pw", 13, 13, 1, 1, 3, 8, 1)),
        conv_topology(("c2", 9, 11, 2, 3, 5, 7, 2)),
    ]
    gemm = [
        gemm_topology(("g1", 30, 20, 10)),
        gemm_topology(("g2", 7, 64, 33)),
        gemm_topology(("g3", 1, 5, 90)),
    ]
    small = {"IfmapSramSzkB": 1, "FilterSramSzkB": 1, "OfmapSramSzkB": 1}
    configs = [
        ("calc_8x8_ws", base_config(8, 8, "ws", **small)),
        (
            "user_4x12_os",
            base_config(
                4,
                12,
                "os",
                InterfaceBandwidth="USER",
                Bandwidth=3,
                IfmapSramSzkB=2,
                FilterSramSzkB=1,
                OfmapSramSzkB=4,
            ),
        ),
        ("calc_16x4_is", base_config(16, 4, "is")),
    ]
    return [
        Case(f"multi_{kind}_{tag}", kind, topo, cfg)
        for kind, topo in (("conv", conv), ("gemm", gemm))
        for tag, cfg in configs
    ]


GRID_FILE = OUT_DIR / "grid.jsonl"
GRID_TIMEOUT_S = 600


def run_grid(
    jobs: int,
    only: str,
    cheap_first: bool = False,
    *,
    cases: list[Case] | None = None,
    out_file: Path = GRID_FILE,
    case_args: tuple[str, ...] = (),
    timeout_s: int = GRID_TIMEOUT_S,
) -> int:
    """Run the grid cases (or ``cases``) not yet in ``out_file``, one process per case (killed
    after ``timeout_s``), appending each result as one JSON line as soon as it finishes, so a
    partial or interrupted run is usable and a rerun resumes. Timed-out cases are recorded with
    ``"timed_out": true`` and no reports. ``case_args`` are the options that let ``--run-one``
    rebuild ``cases``."""
    import subprocess
    import threading
    from concurrent.futures import ThreadPoolExecutor

    GRID_FILE = out_file
    GRID_TIMEOUT_S = timeout_s
    done: set[str] = set()
    if GRID_FILE.exists():
        done = {json.loads(ln)["id"] for ln in GRID_FILE.read_text().splitlines() if ln}
    pool_cases = grid_cases() if cases is None else cases
    todo = [c for c in pool_cases if only in c.id and c.id not in done]
    if cheap_first:

        def cost(c: Case) -> float:
            g = c.config
            return estimated_seconds(
                c.kind, c.topology, g["ArrayHeight"], g["ArrayWidth"], g["Dataflow"]
            )

        todo.sort(key=cost)
    lock = threading.Lock()
    print(f"{len(todo)} grid cases to run ({len(done)} already in {GRID_FILE.name})", flush=True)

    def one(case: Case) -> None:
        cmd = [sys.executable, str(Path(__file__).resolve()), *case_args, "--run-one", case.id]
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=GRID_TIMEOUT_S, check=False
            )
            if proc.returncode != 0:
                print(f"{case.id}: failed\n{proc.stderr[-2000:]}", file=sys.stderr, flush=True)
                return
            entry = json.loads(proc.stdout.strip().splitlines()[-1])
        except subprocess.TimeoutExpired:
            entry = {"id": case.id, "timed_out": True, "timeout_s": GRID_TIMEOUT_S}
        with lock, GRID_FILE.open("a") as fh:
            fh.write(json.dumps(entry, separators=(",", ":")) + "\n")
        print(f"{case.id:60s} {entry.get('scalesim_seconds', 'timeout')}", flush=True)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(one, todo))
    return 0


def record_set(key: str, entry: dict[str, Any]) -> None:
    """Record in ``manifest.json`` (list ``key``, replacing an entry with the same id prefix)
    which SCALE-Sim version and command made a set of cases kept in a ``.jsonl`` file."""
    from importlib.metadata import version

    path = OUT_DIR / "manifest.json"
    manifest = json.loads(path.read_text())
    entry = {
        **entry,
        "scalesim_version": version("scalesim"),
        "numpy_version": version("numpy"),
        "pandas_version": version("pandas"),
    }
    kept = [e for e in manifest.get(key, []) if e["id_prefix"] != entry["id_prefix"]]
    manifest[key] = [*kept, entry]
    path.write_text(json.dumps(manifest, indent=1) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--only", default="", help="run only cases whose id contains this")
    parser.add_argument("--list", action="store_true", help="list the case ids and exit")
    parser.add_argument("--grid", action="store_true", help="run the grid into grid.jsonl")
    parser.add_argument("--cheap-first", action="store_true", help="grid: fastest cases first")
    parser.add_argument(
        "--random", type=int, default=0, metavar="N", help="run N seeded random cases"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of --random")
    parser.add_argument("--big", action="store_true", help="--random: larger layers, small SRAMs")
    parser.add_argument(
        "--wide", action="store_true", help="--random: arrays up to 256, odd SRAM sizes"
    )
    parser.add_argument(
        "--out", default="random.jsonl", help="--random: output file in tests/data/scalesim"
    )
    parser.add_argument("--timeout", type=int, default=180, help="--random: seconds per case")
    parser.add_argument(
        "--multi", action="store_true", help="run the multi-layer cases into multilayer.jsonl"
    )
    parser.add_argument("--run-one", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_one:
        if args.random:
            pool = random_cases(args.random, args.seed, args.big, args.wide)
        else:
            pool = multi_cases() if args.multi else grid_cases()
        case = next(c for c in pool if c.id == args.run_one)
        entry = run_case(case, keep_raw=False)
        del entry["reports"]["BANDWIDTH_REPORT.csv"]
        print(json.dumps(entry, separators=(",", ":")))
        return 0
    if args.multi:
        record_set(
            "multilayer_sets",
            {
                "id_prefix": "multi_",
                "file": "multilayer.jsonl",
                "count": len(multi_cases()),
                "command": ".venv-scalesim/bin/python scripts/scalesim_reference.py --multi",
            },
        )
        return run_grid(
            args.jobs,
            args.only,
            cases=multi_cases(),
            out_file=OUT_DIR / "multilayer.jsonl",
            case_args=("--multi",),
            timeout_s=args.timeout,
        )
    if args.random:
        cases = random_cases(args.random, args.seed, args.big, args.wide)
        if args.list:
            print("\n".join(c.id for c in cases if args.only in c.id))
            return 0
        command = (
            f".venv-scalesim/bin/python scripts/scalesim_reference.py --random {args.random} "
            f"--seed {args.seed}{' --big' if args.big else ''}{' --wide' if args.wide else ''} "
            f"--out {args.out}"
        )
        record_set(
            "random_sets",
            {
                "id_prefix": cases[0].id.split("_000_")[0] + "_",
                "file": args.out,
                "count": args.random,
                "seed": args.seed,
                "big": args.big,
                "wide": args.wide,
                "command": command,
            },
        )
        return run_grid(
            args.jobs,
            args.only,
            cases=cases,
            out_file=OUT_DIR / args.out,
            case_args=(
                "--random",
                str(args.random),
                "--seed",
                str(args.seed),
                *(("--big",) if args.big else ()),
                *(("--wide",) if args.wide else ()),
            ),
            timeout_s=args.timeout,
        )
    if args.grid:
        if args.list:
            print("\n".join(c.id for c in grid_cases() if args.only in c.id))
            return 0
        return run_grid(args.jobs, args.only, args.cheap_first)

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

    kept = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    manifest = {
        "generator": "scripts/scalesim_reference.py",
        "scalesim_version": "3.0.0",
        "numpy_version": numpy.__version__,
        "pandas_version": pandas.__version__,
        "report_files": list(REPORTS),
        "cases": merged,
        **{k: v for k, v in kept.items() if k.endswith("_sets")},
    }
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"{len(results)} cases in {time.perf_counter() - t0:.1f} s -> {manifest_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
