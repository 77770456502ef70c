#!/usr/bin/env python
"""Speed of the GPU model: whole-network estimates per second on H200.

Prices zoo networks (ResNet-50, MobileNetV2, BERT-base, Llama-2-7B decode, 1,034 ops) with
``perf/gpu.gpu_kernels`` and the full ``estimate(..., mode="gpu")`` on one core, and prints
milliseconds per call and calls per second.

    .venv/bin/python benchmarks/bench_gpu.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from codesign_playground.hardware.catalog import get_chip  # noqa: E402
from codesign_playground.perf.estimate import estimate  # noqa: E402
from codesign_playground.perf.gpu import gpu_kernels  # noqa: E402
from codesign_playground.workload.zoo import build_zoo_model  # noqa: E402

MODELS = ("resnet50", "mobilenet_v2", "bert_base", "llama2_7b_decode")
REPEATS = 5


def _best_ms(fn: object) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - t0)
    return best * 1e3


def main() -> None:
    spec = get_chip("h200-sxm")
    print(
        f"{'model':18s} {'ops':>5s} {'kernels ms':>11s} {'estimate ms':>12s} {'estimates/s':>12s}"
    )
    for name in MODELS:
        net = build_zoo_model(name, precision="fp16")
        k_ms = _best_ms(lambda net=net: gpu_kernels(net, spec))
        e_ms = _best_ms(lambda net=net: estimate(net, spec, mode="gpu"))
        print(f"{name:18s} {len(net.ops):5d} {k_ms:11.1f} {e_ms:12.1f} {1e3 / e_ms:12.1f}")


if __name__ == "__main__":
    main()
