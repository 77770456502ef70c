#!/usr/bin/env python
"""Throughput of the analytical systolic model, and its speed against SCALE-Sim 3.0.0.

Evaluates every reference layer of ``tests/data/scalesim/manifest.json`` against a grid of
>= 10,000 design points (array rows x cols x dataflow x SRAM size x bandwidth) on one core and
prints (layer, design point) pairs per second. Then times SCALE-Sim itself on a few reference
cases through ``.venv-scalesim/bin/python`` (when that venv exists; otherwise it uses the run
times recorded in the manifest and says so) and the model on the same cases, and prints the
ratio.

    .venv/bin/python benchmarks/bench_systolic.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from codesign_playground.perf.systolic import FAST, conv_gemm_view, simulate  # noqa: E402

MANIFEST = REPO / "tests" / "data" / "scalesim" / "manifest.json"
SCALESIM_PY = REPO / ".venv-scalesim" / "bin" / "python"
TIMED_CASES = (
    "gemm64_16x16_ws",
    "conv3x3_32x32_os",
    "gemm100x37x50_16x32_is",
    "conv5x5_16x16_ws",
    "resnet_conv3_128x128_ws",
    # replayed (operands overflow their SRAMs, ofmap drains, conv windows over the edge)
    "user_ring_gemm100_8x8_ws",
    "calc_small_conv3x3_16x16_ws",
    "user_wb_ofmap1k_bw4_conv3x3_8x8_is",
)


def layer_arrays(cases: list[dict[str, object]]) -> tuple[np.ndarray, ...]:
    """Unique reference layers as (m, n, k, ifmap footprint) columns."""
    seen: dict[str, tuple[int, ...]] = {}
    for case in cases:
        t = case["topology"]
        assert isinstance(t, dict)
        if case["kind"] == "gemm":
            row = (t["M"], t["K"], 1, t["K"], 1, t["N"], 1)
        else:
            row = (
                t["IFMAP Height"],
                t["IFMAP Width"],
                t["Filter Height"],
                t["Filter Width"],
                t["Channels"],
                t["Num Filter"],
                t["Strides"],
            )
        seen[json.dumps(t, sort_keys=True)] = row
    cols = np.array(list(seen.values()), dtype=np.int64).T
    view = conv_gemm_view(*cols)
    return view.m, view.n, view.k, view.ifmap_footprint_words


def design_grid() -> dict[str, np.ndarray]:
    """>= 10,000 design points: rows x cols x dataflow x SRAM KB x bandwidth."""
    rows = np.array([4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256])
    cols = rows
    dfs = np.array([0, 1, 2])
    sram = np.array([16, 32, 64, 128, 256, 512])
    bw = np.array([1, 2, 4, 8, 16])
    g = np.meshgrid(rows, cols, dfs, sram, bw, indexing="ij")
    return {name: a.reshape(1, -1) for name, a in zip(("r", "c", "df", "kb", "bw"), g, strict=True)}


def model_throughput(
    cases: list[dict[str, object]], *, replays: bool = True
) -> tuple[int, int, float]:
    """Best of 5 over the grid; ``replays=False`` is the fast mode of native estimates and
    exploration (SCALE-Sim's buffer-ring replays off: their closed-form estimates instead)."""
    m, n, k, fp = layer_arrays(cases)
    d = design_grid()
    args = {"ifmap_footprint_words": fp[:, None]}
    kw = dict(
        array_rows=d["r"],
        array_cols=d["c"],
        dataflow=d["df"],
        ifmap_sram_kb=d["kb"],
        filter_sram_kb=d["kb"],
        ofmap_sram_kb=d["kb"],
        user_bandwidth=True,
        bandwidth_words_per_cycle=d["bw"],
        ifmap_fill_bw_words_per_cycle=d["bw"],
        filter_fill_bw_words_per_cycle=d["bw"],
    )
    if not replays:
        kw.update(FAST)
    simulate(m[:, None], n[:, None], k[:, None], **args, **kw)  # warm-up
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        res = simulate(m[:, None], n[:, None], k[:, None], **args, **kw)
        best = min(best, time.perf_counter() - t0)
    assert res.total_cycles.shape == (m.size, d["r"].size)
    return m.size, d["r"].size, best


def regime_throughput(cases: list[dict[str, object]]) -> dict[str, tuple[int, float]]:
    """Pairs/s of the USER grid in the fast mode, split by regime: "ordinary" (both read operands
    fit the active half of their SRAM: the closed forms are SCALE-Sim's figures) and "overflow"
    (an operand's prefetch matrix beyond the active half: closed-form estimates; the exact mode
    replays such pairs one by one), each evaluated as a flat batch of its pairs."""
    m, n, k, fp = layer_arrays(cases)
    d = design_grid()
    b = np.broadcast_arrays(m[:, None], n[:, None], k[:, None], fp[:, None], *d.values())
    mm, nn, kk, ff, r, c, df, kb, bw = (x.ravel() for x in b)
    sr = np.where(df == 0, mm, kk)
    sc = np.where(df == 2, mm, nn)
    t = np.where(df == 1, mm, np.where(df == 0, kk, nn))
    words = kb * 1024
    e = -(-words // 100)
    half = -(-words // 2)
    act_sets = -(-half // e)
    val_if = np.where(df == 2, sr * sc, sr * t)
    val_fi = np.where(df == 1, sr * sc, np.where(df == 0, t * sc, t * sr))
    fits = (val_if // e + 1 <= act_sets) & (val_fi // e + 1 <= act_sets)
    out: dict[str, tuple[int, float]] = {}
    for name, sel in (("ordinary", fits), ("overflow (fast)", ~fits)):
        args = dict(
            ifmap_footprint_words=ff[sel],
            array_rows=r[sel],
            array_cols=c[sel],
            dataflow=df[sel],
            ifmap_sram_kb=kb[sel],
            filter_sram_kb=kb[sel],
            ofmap_sram_kb=kb[sel],
            user_bandwidth=True,
            bandwidth_words_per_cycle=bw[sel],
            ifmap_fill_bw_words_per_cycle=bw[sel],
            filter_fill_bw_words_per_cycle=bw[sel],
        )
        simulate(mm[sel], nn[sel], kk[sel], **args, **FAST)  # warm-up
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            simulate(mm[sel], nn[sel], kk[sel], **args, **FAST)
            best = min(best, time.perf_counter() - t0)
        out[name] = (int(sel.sum()), best)
    return out


def model_time_per_case(case: dict[str, object]) -> float:
    """Time the model on one reference case (single pair; dominated by NumPy call overhead)."""
    from codesign_playground.perf.scalesim_compat import (
        ScaleSimConfig,
        TopologyLayer,
        simulate_layers,
    )

    t, g = case["topology"], case["config"]
    assert isinstance(t, dict) and isinstance(g, dict)
    if case["kind"] == "gemm":
        layer = TopologyLayer(t["Layer"], t["M"], t["K"], 1, t["K"], 1, t["N"], 1, 1)
    else:
        layer = TopologyLayer(
            t["Layer name"],
            t["IFMAP Height"],
            t["IFMAP Width"],
            t["Filter Height"],
            t["Filter Width"],
            t["Channels"],
            t["Num Filter"],
            t["Strides"],
            t["Strides"],
        )
    cfg = ScaleSimConfig(
        interface_bandwidth=g["InterfaceBandwidth"],
        array_rows=g["ArrayHeight"],
        array_cols=g["ArrayWidth"],
        ifmap_sram_kb=g["IfmapSramSzkB"],
        filter_sram_kb=g["FilterSramSzkB"],
        ofmap_sram_kb=g["OfmapSramSzkB"],
        dataflow=g["Dataflow"],
        bandwidths=(g["Bandwidth"],),
    )
    t0 = time.perf_counter()
    simulate_layers([layer], cfg)
    once = time.perf_counter() - t0
    reps = max(1, min(200, int(1.0 / max(once, 1e-6))))  # about a second per case
    t0 = time.perf_counter()
    for _ in range(reps):
        simulate_layers([layer], cfg)
    return (time.perf_counter() - t0) / reps


def scalesim_times(ids: list[str]) -> tuple[dict[str, float], str]:
    """SCALE-Sim run times: measured now if its venv exists, else those in the manifest."""
    if SCALESIM_PY.exists():
        code = (
            "import json, sys; sys.path.insert(0, 'scripts');"
            "import scalesim_reference as s;"
            "cases = {c.id: c for c in s.all_cases()};"
            "out = {};\n"
            "for i in sys.argv[1:]:\n"
            "    import tempfile, shutil\n"
            "    s.OUT_DIR = s.Path(tempfile.mkdtemp())\n"
            "    out[i] = s.run_case(cases[i])['scalesim_seconds']\n"
            "    shutil.rmtree(s.OUT_DIR)\n"
            "print(json.dumps(out))"
        )
        proc = subprocess.run(
            [str(SCALESIM_PY), "-c", code, *ids],
            cwd=REPO,
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
        return json.loads(proc.stdout.strip().splitlines()[-1]), "measured now (.venv-scalesim)"
    cases = {c["id"]: c for c in json.loads(MANIFEST.read_text())["cases"]}
    return (
        {i: float(cases[i]["scalesim_seconds"]) for i in ids},
        "recorded in the manifest (.venv-scalesim not found)",
    )


def main() -> int:
    cases = json.loads(MANIFEST.read_text())["cases"]
    n_layers, n_designs, fast_secs = model_throughput(cases, replays=False)
    pairs = n_layers * n_designs
    print(
        f"fast mode (estimates, exploration): {n_layers} layers x {n_designs} design points = "
        f"{pairs:,} pairs in {fast_secs * 1e3:.1f} ms -> {pairs / fast_secs:,.0f} pairs/s "
        "(one core; target >= 1,000,000)"
    )
    secs = fast_secs
    print(
        "SCALE-Sim-exact mode: closed forms where operands fit, else one memory replay per pair "
        "(timed per case below)"
    )

    for name, (count, t) in regime_throughput(cases).items():
        print(
            f"  {name:12s} regime: {count:,} pairs in {t * 1e3:.1f} ms -> {count / t:,.0f} pairs/s"
        )

    by_id = {c["id"]: c for c in cases}
    ids = [i for i in TIMED_CASES if i in by_id]
    ref, how = scalesim_times(ids)
    print(f"\nSCALE-Sim 3.0.0 times {how}; model timed per single case (no batching):")
    print(f"{'case':28s} {'SCALE-Sim s':>12s} {'model s':>12s} {'ratio':>10s}")
    tot_ref = tot_model = 0.0
    for i in ids:
        tm = model_time_per_case(by_id[i])
        tot_ref += ref[i]
        tot_model += tm
        print(f"{i:28s} {ref[i]:12.4f} {tm:12.6f} {ref[i] / tm:10.0f}x")
    print(f"{'total':28s} {tot_ref:12.4f} {tot_model:12.6f} {tot_ref / tot_model:10.0f}x")
    batched = tot_ref / len(ids) / (secs / pairs)
    print(
        f"per pair in the batched grid the model is {batched:,.0f}x faster than SCALE-Sim's "
        "mean time on these cases"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
