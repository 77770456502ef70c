#!/usr/bin/env python
"""Speed of the exact SCALE-Sim memory replay (``perf/scalesim_replay.py::replay_layer``).

Times ``replay_layer`` on the grid cases where the fast mode misses the exact mode by more than
1% (``tests/data/scalesim/fast_mode_misses.txt``, ids of ``grid.jsonl``): the pairs on which
the fast mode falls back to the replay. Each case's replay arguments are captured from one
exact-mode ``simulate_layers`` run; the replay is then timed alone, best of ``--repeat`` runs
per case, on one core. Prints the total over the cases and the per-case median.

With ``--baseline REV`` (default: ``372d7ea``, the replay before its vectorization) the same
cases are also replayed by that revision's ``scalesim_replay.py`` (read with ``git show``,
loaded as a separate module), interleaved with the current one, every result checked to be
identical, and the speedup printed. ``--baseline ''`` times the current code alone.

    .venv/bin/python benchmarks/bench_replay.py [--repeat 3] [--baseline REV] [--all]

``--all`` times every replayed reference case (grid, random, spot) instead of the misses.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

import codesign_playground.perf.systolic as systolic  # noqa: E402
from codesign_playground.perf import scalesim_replay  # noqa: E402
from codesign_playground.perf.scalesim_compat import (  # noqa: E402
    config_from_keys,
    layer_from_row,
    simulate_layers,
)

DATA = REPO / "tests" / "data" / "scalesim"
REPLAY_PATH = "src/codesign_playground/perf/scalesim_replay.py"


def load_cases(names: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Reference cases by id (the last line of an id wins, as in the tests)."""
    cases: dict[str, dict[str, Any]] = {}
    for name in names:
        for line in (DATA / name).read_text().splitlines():
            if line.strip():
                case = json.loads(line)
                if "config" in case and "reports" in case:
                    cases[case["id"]] = case
    return cases


def miss_ids() -> list[str]:
    text = (DATA / "fast_mode_misses.txt").read_text().splitlines()
    return [x.strip() for x in text if x.strip() and not x.startswith("#")]


def capture(cases: dict[str, dict[str, Any]], ids: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """The ``replay_layer`` keyword arguments of each case's exact-mode run."""
    calls: list[tuple[str, dict[str, Any]]] = []
    real = scalesim_replay.replay_layer
    current = ""

    def record(**kw: Any) -> scalesim_replay.ReplayResult:
        calls.append((current, kw))
        return real(**kw)

    setattr(systolic, "replay_layer", record)  # noqa: B010 (systolic's imported name)
    try:
        for case_id in ids:
            case = cases[case_id]
            current = case_id
            rows = case["topology"] if isinstance(case["topology"], list) else [case["topology"]]
            layers = [layer_from_row(case["kind"], row) for row in rows]
            simulate_layers(layers, config_from_keys(case["config"]))
    finally:
        setattr(systolic, "replay_layer", real)  # noqa: B010
    return calls


def baseline_module(rev: str) -> ModuleType:
    """``scalesim_replay.py`` at git revision ``rev`` as a separate module."""
    source = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{rev}:{REPLAY_PATH}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "scalesim_replay_baseline.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("scalesim_replay_baseline", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def best_of(fn: Any, kw: dict[str, Any], repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(**kw)
        best = min(best, time.perf_counter() - t0)
    return best, out


def summary(label: str, times: list[float]) -> str:
    return (
        f"{label:>9}: total {sum(times):8.3f} s, median {statistics.median(times) * 1e3:7.2f} ms,"
        f" max {max(times) * 1e3:7.1f} ms"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--repeat", type=int, default=3, help="runs per case (best counts)")
    ap.add_argument("--baseline", default="372d7ea", help="git revision to compare with")
    ap.add_argument("--all", action="store_true", help="every replayed reference case")
    args = ap.parse_args()

    if args.all:
        cases = load_cases(("grid.jsonl", "random.jsonl", "spot.jsonl"))
        ids = list(cases)
    else:
        cases = load_cases(("grid.jsonl",))
        ids = miss_ids()
    calls = capture(cases, ids)
    what = "replayed reference cases" if args.all else "fast_mode_misses.txt cases"
    print(f"{len(calls)} replays ({what}), best of {args.repeat} each, one core")

    base = baseline_module(args.baseline) if args.baseline else None
    new_t: list[float] = []
    old_t: list[float] = []
    slow: list[tuple[float, float, str]] = []
    for case_id, kw in calls:
        t_new, got = best_of(scalesim_replay.replay_layer, kw, args.repeat)
        new_t.append(t_new)
        if base is not None:
            t_old, ref = best_of(base.replay_layer, kw, args.repeat)
            old_t.append(t_old)
            if dataclasses.astuple(got) != dataclasses.astuple(ref):
                raise SystemExit(f"{case_id}: results differ from {args.baseline}")
            slow.append((t_old, t_new, case_id))
    if base is not None:
        print(summary(args.baseline, old_t))
    print(summary("current", new_t))
    if base is not None:
        ratios = sorted(o / n for o, n, _ in slow)
        print(
            f"  speedup: total {sum(old_t) / sum(new_t):.1f}x, per-case median "
            f"{statistics.median(ratios):.1f}x (min {ratios[0]:.1f}x, max {ratios[-1]:.1f}x);"
            " every result identical"
        )
        print("  slowest before -> now:")
        for t_old, t_new, case_id in sorted(slow, reverse=True)[:5]:
            print(f"    {case_id:48s} {t_old * 1e3:7.1f} ms -> {t_new * 1e3:6.1f} ms")


if __name__ == "__main__":
    main()
