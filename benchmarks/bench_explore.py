#!/usr/bin/env python
"""Speed and quality figures of design-space exploration (printed, never asserted).

1. Exhaustive (grid) evaluation of the 10,000-point systolic hardware space on ResNet-50
   (``examples/resnet50_systolic.yaml``) on one core: the vectorized evaluator alone and the
   whole ``run_exploration`` (front, hypervolume, knee included).
2. NSGA-II with 10 % of the grid's evaluations on the same space: its front's hypervolume as a
   fraction of the exhaustive front's (both normalized with the exhaustive run's bounds).

    .venv/bin/python benchmarks/bench_explore.py
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

import numpy as np  # noqa: E402

from codesign_playground.explore import (  # noqa: E402
    hypervolume_with_bounds,
    load_space,
    run_exploration,
)
from codesign_playground.explore.evaluator import Evaluator  # noqa: E402
from codesign_playground.explore.search import _grid_rows  # noqa: E402

warnings.filterwarnings("ignore")


def main() -> None:
    space = load_space(REPO / "examples" / "resnet50_systolic.yaml")
    ev = Evaluator(space)
    total = int(np.prod(ev.sizes))
    order = ev.model_cols + ev.hw_cols
    idx = _grid_rows(tuple(int(ev.sizes[c]) for c in order), order, 0, total)
    ev.evaluate(idx[:10])  # builds the network variant once
    best = min(_timed(lambda: ev.evaluate(idx)) for _ in range(3))
    print(
        f"grid evaluation, {total} points of resnet50 on systolic: {best:.3f} s "
        f"({total / best:,.0f} points/s)"
    )
    t = _timed(lambda: run_exploration(space, strategy="grid"))
    print(f"run_exploration(grid) end to end incl. network build, front, HV, knee: {t:.3f} s")
    grid = run_exploration(space, strategy="grid")
    budget = total // 10
    for seed in (0, 1, 2):
        t0 = time.perf_counter()
        ga = run_exploration(space, strategy="nsga2", budget=budget, seed=seed)
        el = time.perf_counter() - t0
        ratio = hypervolume_with_bounds(ga, grid.hv_ideal, grid.hv_nadir) / grid.hypervolume
        print(
            f"nsga2 seed {seed}: {ga.evaluations} evaluations ({ga.evaluations / total:.0%} "
            f"of {total}) in {el:.2f} s; hypervolume {ratio:.4f} of the exhaustive front's "
            f"({grid.hypervolume:.4f})"
        )


def _timed(fn: object) -> float:
    t0 = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
