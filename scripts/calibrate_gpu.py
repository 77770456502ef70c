"""Fit the GPU kernel model (``perf/gpu_kernels.py``) to H200 kernels timed as CUDA-graph
replays, and write the constants and the error tables.

Reads ``kernels-graph.json`` (default: ``tests/data/h200/``, a copy of
``shared/data/h200/``). A FIXED quarter of every (family, dtype) group is held out:
rows sorted by a stable shape label, every 4th (``perf/gpu_bench.holdout_mask``). Each
family's constants are fitted on its training rows alone (log-space least squares, so every
kernel weighs the same whatever its duration); constants measured directly (the achievable
DRAM fraction from the device-to-device copy) or fixed by the model's structure are not
fitted. Writes ``src/codesign_playground/hardware/data/gpu_calibration.yaml`` (values,
origin of each, errors) and ``docs/validation-gpu.md`` (error tables per family and dtype,
worst cases, every kernel, and the whole-network composition of ``models-dev.json``).

    .venv/bin/python scripts/calibrate_gpu.py [--data DIR] [--check]

``--check`` fits and prints without writing (the tests use it to rerun the fit).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from scipy.optimize import least_squares

from codesign_playground.hardware.catalog import get_chip
from codesign_playground.perf import gpu_kernels
from codesign_playground.perf.gpu_bench import (
    FAMILIES,
    KernelSet,
    holdout_mask,
    kernel_set,
    predict,
)
from codesign_playground.perf.gpu_kernels import GpuParams, gpu_facts

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = REPO / "tests" / "data" / "h200"
OUT_YAML = REPO / "src" / "codesign_playground" / "hardware" / "data" / "gpu_calibration.yaml"
OUT_DOC = REPO / "docs" / "validation-gpu.md"
CHIP = "h200-sxm"

#: Start values (order of magnitude) and bounds of every constant; ``None`` bounds: fixed.
START: dict[str, tuple[float, float | None, float | None, str]] = {
    "mem.bw_eff": (
        0.848,
        None,
        None,
        "measured: d2d copy 4071.6 GB/s (read + write) / 4.8 TB/s (models-dev.json device)",
    ),
    "mem.l2_resident_frac": (
        0.5,
        None,
        None,
        "structure: half the L2 (one of Hopper's two L2 partitions); "
        "the 32 MiB GEMV operands stream at HBM speed",
    ),
    "mem.l2_bw_ratio": (2.5, 1.0, 8.0, "fit: memory"),
    "ew.t0_s.add": (1.2e-6, 1e-7, 2e-5, "fit: memory"),
    "ew.t0_s.gelu": (1.4e-6, 1e-7, 2e-5, "fit: memory"),
    "ew.t0_s.softmax": (2.9e-6, 1e-7, 2e-5, "fit: memory"),
    "ew.t0_s.norm": (5e-6, 1e-7, 2e-5, "fit: memory"),
    "ew.elem_s.add": (1e-14, 1e-16, 1e-11, "fit: memory"),
    "ew.elem_s.gelu": (1.2e-12, 1e-15, 1e-10, "fit: memory"),
    "ew.elem_s.softmax": (3.1e-12, 1e-15, 1e-10, "fit: memory"),
    "ew.elem_s.norm": (1.3e-12, 1e-15, 1e-10, "fit: memory"),
    "ew.combine_p": (2.0, 1.0, 8.0, "fit: memory"),
    "gemm.t0_s": (1.5e-6, 1e-7, 2e-5, "fit: gemm"),
    "gemm.eff.fp16": (1.0, 0.02, 1.3, "fit: gemm"),
    "gemm.wave_s.fp16": (1e-6, 1e-8, 2e-5, "fit: gemm"),
    "gemm.throttle.fp16": (0.2, 1e-3, 2.0, "fit: gemm"),
    "gemm.eff.bf16": (1.0, 0.02, 1.3, "fit: gemm"),
    "gemm.wave_s.bf16": (1e-6, 1e-8, 2e-5, "fit: gemm"),
    "gemm.throttle.bf16": (0.2, 1e-3, 2.0, "fit: gemm"),
    "gemm.eff.fp32": (0.8, 0.02, 1.3, "fit: gemm"),
    "gemm.wave_s.fp32": (1e-6, 1e-8, 2e-5, "fit: gemm"),
    "gemm.throttle.fp32": (0.2, 1e-3, 2.0, "fit: gemm"),
    "gemm.eff.tf32": (0.8, 0.02, 1.3, "fit: gemm"),
    "gemm.wave_s.tf32": (1e-6, 1e-8, 2e-5, "fit: gemm"),
    "gemm.throttle.tf32": (0.2, 1e-3, 2.0, "fit: gemm"),
    "gemm.eff.int8": (0.07, 0.02, 1.3, "fit: gemm"),
    "gemm.wave_s.int8": (1e-6, 1e-8, 2e-5, "fit: gemm"),
    "gemm.throttle.int8": (0.2, 1e-3, 2.0, "fit: gemm"),
    "gemm.tile_beta": (0.7, 0.3, 3.0, "fit: gemm"),
    "gemm.unaligned_eff": (0.6, 0.05, 1.0, "fit: gemm (fraction of the fp32 CUDA-core peak)"),
    "conv.t0_s": (3e-6, 1e-7, 2e-5, "fit: conv"),
    "conv.eff.fp16": (0.6, 0.02, 1.3, "fit: conv"),
    "conv.eff.tf32": (0.5, 0.02, 1.3, "fit: conv"),
    "conv.eff.fp32": (
        0.7,
        None,
        None,
        "assumed: fp32 convolutions with TF32 off are not in the data; the fp32 GEMM fraction",
    ),
    "conv.throttle.fp16": (0.0, None, None, "assumed: no throttling term for convolutions"),
    "conv.throttle.tf32": (0.0, None, None, "assumed: no throttling term for convolutions"),
    "conv.throttle.fp32": (0.0, None, None, "assumed: no throttling term for convolutions"),
    "conv.wave_s.fp16": (1e-6, 1e-8, 2e-5, "fit: conv"),
    "conv.wave_s.tf32": (1e-6, 1e-8, 2e-5, "fit: conv"),
    "conv.wave_s.fp32": (1e-6, None, None, "assumed: as tf32"),
    "conv.tile_beta": (0.7, 0.3, 3.0, "fit: conv"),
    "conv.unaligned_eff": (0.3, 0.01, 1.0, "fit: conv (fraction of the fp32 CUDA-core peak)"),
    "conv.layout.fp16": (1.0, 0.01, 6.0, "fit: conv"),
    "conv.layout.tf32": (1.0, 0.01, 6.0, "fit: conv"),
    "conv.layout_s.fp16": (1e-6, 1e-8, 2e-5, "fit: conv"),
    "conv.layout_s.tf32": (1e-6, 1e-8, 2e-5, "fit: conv"),
    "conv.layout_s.fp32": (1e-6, None, None, "assumed: as tf32"),
    "conv.layout.fp32": (1.0, None, None, "assumed: as tf32 (same NCHW fp32 tensors)"),
    "dwconv.t0_s": (
        1.5e-6,
        None,
        None,
        "structure: the fixed cost of an elementwise kernel (ew.t0_s.add), as a direct "
        "convolution is one thread per output element",
    ),
    "dwconv.eff.fp16": (0.05, 1e-4, 2.0, "fit: conv (fraction of the fp32 CUDA-core peak)"),
    "dwconv.eff.tf32": (
        0.03,
        1e-4,
        2.0,
        "fit: conv (fraction of the fp32 CUDA-core peak; fp32 data, no TF32)",
    ),
    "dwconv.eff.fp32": (0.03, None, None, "assumed: as tf32 (the same CUDA-core kernel)"),
    "dwconv.out_flops.fp16": (5.0, 0.01, 1e3, "fit: conv (flop equivalents per output)"),
    "dwconv.out_flops.tf32": (
        20.0,
        0.01,
        1e3,
        "fit: conv (flop equivalents per output; fp32 data, no TF32)",
    ),
    "dwconv.out_flops.fp32": (20.0, None, None, "assumed: as tf32 (the same CUDA-core kernel)"),
    "dwconv.max_cpg": (
        4.0,
        None,
        None,
        "structure: <= 4 input channels per group run as direct convolutions "
        "(data: 1 and 2 direct, 16+ implicit GEMM)",
    ),
    "attn.t0_s": (4e-6, 1e-7, 3e-5, "fit: attention"),
    "attn.eff.fp16": (0.6, 0.05, 1.0, "fit: attention"),
    "attn.eff.bf16": (0.6, 0.05, 1.0, "fit: attention"),
    "attn.d_gamma": (0.3, 0.01, 2.0, "fit: attention"),
    "decode.t0_s": (2e-6, 1e-7, 3e-5, "fit: attention"),
}

# conv rows fit after the GEMM and memory constants they share (bandwidth, L2)
_ORDER = ("memory", "gemm", "conv", "attention")


def _fit_family(
    ks: KernelSet, fam: str, train: np.ndarray, gpu: Any, params: GpuParams
) -> GpuParams:
    names = [n for n, (_, lo, _, why) in START.items() if lo is not None and why == f"fit: {fam}"]
    names += [
        n
        for n, (_, lo, _, why) in START.items()
        if lo is not None and why.startswith(f"fit: {fam} ")
    ]
    idx = [i for i in range(len(ks.family)) if ks.family[i] == fam and train[i]]
    meas = np.log(ks.graph_s[idx])
    lo = np.log([START[n][1] for n in names])  # type: ignore[arg-type]
    hi = np.log([START[n][2] for n in names])  # type: ignore[arg-type]
    x0 = np.clip(np.log([params[n] for n in names]), lo + 1e-9, hi - 1e-9)

    def resid(x: np.ndarray) -> np.ndarray:
        p = params.with_values(dict(zip(names, np.exp(x), strict=True)))
        return np.asarray(np.log(predict(ks, gpu, p, idx)) - meas)

    best = None
    for jitter in (0.0, 0.3, -0.3):
        xs = np.clip(x0 + jitter * (np.arange(x0.size) % 2), lo + 1e-9, hi - 1e-9)
        res = least_squares(
            resid, xs, bounds=(lo, hi), loss="soft_l1", f_scale=0.1, diff_step=1e-3, max_nfev=600
        )
        if best is None or res.cost < best.cost:
            best = res
    assert best is not None
    return params.with_values(dict(zip(names, np.exp(best.x), strict=True)))


def eager_overheads(ks: KernelSet, train: np.ndarray) -> dict[str, float]:
    """Per-kernel host cost of eager PyTorch by family: the median of ``eager_ms -
    graph_ms`` over the training kernels whose GPU time is under 20 us (longer kernels
    hide part of the launch behind the GPU work)."""
    out = {}
    for fam in FAMILIES:
        sel = train & (np.asarray(ks.family) == fam) & (ks.graph_s < 20e-6)
        d = ks.eager_s[sel] - ks.graph_s[sel]
        out[f"launch.eager_s.{fam}"] = float(np.median(d))
        START[f"launch.eager_s.{fam}"] = (
            out[f"launch.eager_s.{fam}"], None, None,
            f"measured: median eager_ms - graph_ms of {int(sel.sum())} "
            f"training {fam} kernels under 20 us",
        )  # fmt: skip
    return out


def fit(ks: KernelSet) -> tuple[GpuParams, np.ndarray]:
    """Fitted constants and the held-out mask."""
    gpu = gpu_facts(get_chip(CHIP))
    held = holdout_mask(ks)
    params = GpuParams({n: v[0] for n, v in START.items()}, source="start values")
    for fam in _ORDER:
        if fam == "conv":
            params = params.with_values({"dwconv.t0_s": params["ew.t0_s.add"]})
        params = _fit_family(ks, fam, ~held, gpu, params)
    # constants assumed equal to their TF32 counterparts (the same kernels on fp32 data)
    same = {
        n: params[n.replace(".fp32", ".tf32")]
        for n, v in START.items()
        if v[3].startswith("assumed: as tf32") and n.endswith(".fp32")
    }
    params = params.with_values(same)
    return params.with_values(eager_overheads(ks, ~held)), held


def error_table(ks: KernelSet, pred: np.ndarray, mask: np.ndarray) -> list[dict[str, Any]]:
    """Median and largest absolute error per (family, dtype) over ``mask``."""
    ape = np.abs(pred / ks.graph_s - 1.0) * 100.0
    rows = []
    for fam in FAMILIES:
        for dt in sorted({d for f, d in zip(ks.family, ks.dtype, strict=True) if f == fam}):
            sel = mask & (np.asarray(ks.family) == fam) & (np.asarray(ks.dtype) == dt)
            if not sel.any():
                continue
            worst = int(np.flatnonzero(sel)[np.argmax(ape[sel])])
            rows.append(
                {
                    "family": fam,
                    "dtype": dt,
                    "n": int(sel.sum()),
                    "median_ape_pct": round(float(np.median(ape[sel])), 1),
                    "max_ape_pct": round(float(ape[worst]), 1),
                    "worst": ks.label[worst],
                }
            )
    return rows


def _sig(v: float) -> float:
    return float(f"{v:.4g}")


def write_yaml(params: GpuParams, held_rows: list[dict[str, Any]], n: int) -> None:
    doc = {
        "source": (
            f"fit to tests/data/h200/kernels-graph.json (copy of shared/data/h200), {n} kernels "
            "timed as CUDA-graph replays on one H200 SXM, PyTorch 2.11.0+cu130; every 4th "
            "kernel of each (family, dtype) by shape label held out (scripts/calibrate_gpu.py)"
        ),
        "device": "NVIDIA H200 SXM (132 SMs, 60 MiB L2, HBM3e)",
        "applies_to": (
            "Hopper (H200, H100) through each GPU's own SMs, peaks, bandwidth and L2; other "
            "GPUs (A100, Orin) are not calibrated: the same fractions over their published specs"
        ),
        "parameters": {k: _sig(float(v)) for k, v in params.values.items()},
        "origin": {k: START[k][3] for k in params.values},
        "held_out_errors": held_rows,
    }
    header = (
        "# GPU kernel model constants (perf/gpu_kernels.py). Generated by\n"
        "# scripts/calibrate_gpu.py; do not edit by hand. Seconds are GPU time per kernel\n"
        "# (CUDA-graph replay), no launch overhead.\n"
    )
    OUT_YAML.write_text(header + yaml.safe_dump(doc, sort_keys=False, width=100), encoding="utf-8")


def _md_table(rows: Sequence[dict[str, Any]]) -> str:
    out = [
        "| family | dtype | n | median abs error | worst | worst case |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    out += [
        f"| {r['family']} | {r['dtype']} | {r['n']} | {r['median_ape_pct']:.1f}% | "
        f"{r['max_ape_pct']:.1f}% | {r['worst']} |"
        for r in rows
    ]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA_DIR)
    ap.add_argument("--check", action="store_true", help="fit and print, write nothing")
    args = ap.parse_args(argv)
    data = json.loads((args.data / "kernels-graph.json").read_text())
    ks = kernel_set(data)
    params, held = fit(ks)
    pred = predict(ks, gpu_facts(get_chip(CHIP)), params)
    held_rows = error_table(ks, pred, held)
    train_rows = error_table(ks, pred, ~held)
    for r in held_rows:
        print(
            f"held-out {r['family']:9s} {r['dtype']:5s} n={r['n']:2d} median "
            f"{r['median_ape_pct']:5.1f}%  worst {r['max_ape_pct']:5.1f}% ({r['worst']})"
        )
    if args.check:
        return
    write_yaml(params, held_rows, len(ks.family))
    gpu_kernels.load_calibration.cache_clear()
    from codesign_playground.perf.gpu_validation import validation_markdown

    OUT_DOC.write_text(
        validation_markdown(ks, pred, held, held_rows, train_rows, args.data), encoding="utf-8"
    )
    print(f"wrote {OUT_YAML.relative_to(REPO)} and {OUT_DOC.relative_to(REPO)}")


if __name__ == "__main__":
    main()
