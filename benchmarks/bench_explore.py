#!/usr/bin/env python
"""Speed and quality figures of design-space exploration (printed, never asserted).

1. Exhaustive (grid) evaluation of the 10,000-point systolic hardware space on ResNet-50
   (``examples/resnet50_systolic.yaml``) on one core: the evaluator alone and the whole
   ``run_exploration`` (front, hypervolume, knee included).
2. NSGA-II with 10 % of the grid's evaluations on the same space: its front's hypervolume as a
   fraction of the exhaustive front's (both normalized with the exhaustive run's bounds).
3. The 10,000-point spatial grid on ResNet-50 (``examples/resnet50_spatial.yaml``): the
   mapper runs once per distinct geometry, designs sharing one are re-timed together.
4. The systolic fast mode where its USER-bandwidth ring replay does the work: 2,000 seeded
   random designs of the ResNet-50 space in one call, the same space in 20 batches of 5 (what a
   service search asking a few designs at a time pays), and 500 random designs on SCALE-Sim's
   own topology file (``examples/scalesim/topo.csv``: its stride-2 layers have ``ceil``
   outputs, so their ifmaps are ragged).

Times are wall clock and process CPU time (the CPU time is what one core spends, and does not
grow when other processes share the machine).

    .venv/bin/python benchmarks/bench_explore.py
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import yaml

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))


from codesign_playground.explore import (  # noqa: E402
    hypervolume_with_bounds,
    load_space,
    run_exploration,
)
from codesign_playground.explore.evaluator import Evaluator  # noqa: E402
from codesign_playground.explore.space import space_from_dict  # noqa: E402

warnings.filterwarnings("ignore")


def main() -> None:
    space = load_space(REPO / "examples" / "resnet50_systolic.yaml")
    ev = Evaluator(space)
    total = ev.grid_total
    idx = ev.grid_rows(0, total)
    ev.evaluate(idx[:10])  # builds the network variant once
    runs = [_timed_cpu(lambda: ev.evaluate(idx)) for _ in range(3)]
    best, cpu = min(r[0] for r in runs), min(r[1] for r in runs)
    print(
        f"grid evaluation, {total} points of resnet50 on systolic: {best:.3f} s wall, "
        f"{cpu:.3f} s CPU ({total / cpu:,.0f} points per CPU second)"
    )
    _ring_figures(ev)
    spatial = load_space(REPO / "examples" / "resnet50_spatial.yaml")
    wall, cpu = _timed_cpu(lambda: run_exploration(spatial, strategy="grid"))
    n = Evaluator(spatial).grid_total
    print(
        f"run_exploration(grid), {n} points of resnet50 on spatial (mapper per geometry "
        f"included): {wall:.2f} s wall, {cpu:.2f} s CPU"
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


def _ring_figures(ev: Evaluator) -> None:
    """Section 4: random designs, small batches and a SCALE-Sim topology (CPU seconds)."""
    rng = np.random.default_rng(0)
    rows = ev.grid_rows_at(rng.choice(ev.grid_total, size=2000, replace=False))
    _, cpu = _timed_cpu(lambda: ev.evaluate(rows))
    print(f"2,000 random designs of resnet50 on systolic, one call: {cpu:.2f} s CPU")
    _, cpu = _timed_cpu(lambda: [ev.evaluate(rows[i : i + 5]) for i in range(0, 100, 5)])
    print(f"20 batches of 5 random designs of resnet50 on systolic: {cpu:.2f} s CPU")
    data = yaml.safe_load((REPO / "examples" / "resnet50_systolic.yaml").read_text())
    data["name"] = "scalesim-topology-systolic"
    data["model"] = {"name": str(REPO / "examples" / "scalesim" / "topo.csv"), "bits": 8}
    topo = Evaluator(space_from_dict(data))
    picked = topo.grid_rows_at(rng.choice(topo.grid_total, size=500, replace=False))
    topo.evaluate(picked[:2])  # builds the network once
    _, cpu = _timed_cpu(lambda: topo.evaluate(picked))
    print(f"500 random designs of examples/scalesim/topo.csv on systolic: {cpu:.2f} s CPU")


def _timed_cpu(fn: object) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    fn()  # type: ignore[operator]
    return time.perf_counter() - t0, time.process_time() - c0


def _timed(fn: object) -> float:
    t0 = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
