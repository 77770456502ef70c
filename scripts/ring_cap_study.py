#!/usr/bin/env python
"""How far the systolic fast mode is from the exact replay on an exploration space, and what
its USER-mode ring replay costs, for several fold caps (``systolic._RING_FOLDS``).

Exploration prices every systolic design in SCALE-Sim's USER bandwidth mode at the DRAM
level's bandwidth (``systolic_fast.SystolicConfig.of``), so this is the fast mode's accuracy
where users meet it. For each cap it prints the CPU time of the space's whole grid evaluation
and, on ``--samples`` (layer, design) pairs drawn uniformly from that evaluation, the share
within 1% and 10% of the exact replay (total cycles, ifmap and filter DRAM reads) and the
worst error::

    PYTHONPATH=src python scripts/ring_cap_study.py examples/resnet50_systolic.yaml \\
        --caps 16 1024 4096 65536 --samples 120

The exact replay takes about a second a pair on ResNet-50's layers; 120 samples take ~2 min.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

from codesign_playground.explore import load_space
from codesign_playground.explore.evaluator import Evaluator
from codesign_playground.perf import systolic, systolic_fast

FIGURES = ("total_cycles", "ifmap_dram_reads_words", "filter_dram_reads_words")
GEOMETRY = ("ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels", "stride_h", "stride_w")


def _set_cap(cap: int) -> None:
    systolic._RING_FOLDS = cap
    systolic._RING_STALL_FOLDS = cap


def _one_pair(args: tuple[Any, ...], kwargs: dict[str, Any], g: int, d: int, shape: Any) -> Any:
    """The ``simulate`` arguments of pair ``(g, d)`` of a broadcast call."""

    def pick(x: Any) -> Any:
        x = np.asarray(x)
        return np.broadcast_to(x, shape)[g : g + 1, d : d + 1] if x.ndim == 2 else x

    kw = {
        k: pick(v)
        for k, v in kwargs.items()
        if k != "replay" and not isinstance(v, systolic.ConvGeometry)
    }
    conv = kwargs["conv"]
    kw["conv"] = systolic.ConvGeometry(*(pick(getattr(conv, f)) for f in GEOMETRY))
    return [pick(x) for x in args], kw


def _error(fast: Any, exact: Any, figure: str) -> float:
    got, want = (float(np.ravel(getattr(r, figure))[0]) for r in (fast, exact))
    return abs(got - want) / max(abs(want), 1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("space", type=Path)
    parser.add_argument("--caps", type=int, nargs="+", default=[16, 1024, 4096, 65536])
    parser.add_argument("--samples", type=int, default=120)
    parser.add_argument("--seed", type=int, default=1)
    opts = parser.parse_args()
    default_cap = systolic._RING_FOLDS
    space = load_space(opts.space)
    calls: list[tuple[tuple[Any, ...], dict[str, Any], Any]] = []
    namespace = vars(systolic_fast)  # where exploration looks ``simulate`` up
    real = namespace["simulate"]

    def spy(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        calls.append((args, kwargs, np.shape(out.total_cycles)))
        return out

    cpu = {}
    for cap in opts.caps:
        _set_cap(cap)
        ev = Evaluator(space)
        idx = ev.grid_rows(0, ev.grid_total)
        ev.evaluate(idx[:10])  # builds the network variants
        calls.clear()
        namespace["simulate"] = spy
        start = time.process_time()
        ev.evaluate(idx)
        cpu[cap] = time.process_time() - start
        namespace["simulate"] = real
    rng = np.random.default_rng(opts.seed)
    errors: dict[int, list[float]] = {cap: [] for cap in opts.caps}
    for _ in range(opts.samples):
        args, kwargs, shape = calls[int(rng.integers(len(calls)))]
        g, d = int(rng.integers(shape[0])), int(rng.integers(shape[1]))
        a, kw = _one_pair(args, kwargs, g, d, shape)
        exact = real(*a, **kw, replay=True)
        for cap in opts.caps:
            _set_cap(cap)
            fast = real(*a, **kw, replay=False)
            errors[cap].append(
                max(
                    abs(
                        float(np.ravel(getattr(fast, f))[0]) - float(np.ravel(getattr(exact, f))[0])
                    )
                    / max(abs(float(np.ravel(getattr(exact, f))[0])), 1.0)
                    for f in FIGURES
                )
            )
    _set_cap(default_cap)
    print(f"{opts.space.name}: {opts.samples} pairs drawn uniformly (seed {opts.seed})")
    for cap in opts.caps:
        e = np.array(errors[cap])
        print(
            f"  cap {cap:6d} folds: grid evaluation {cpu[cap]:6.2f} s CPU; within 1% "
            f"{np.mean(e <= 0.01):4.0%}, within 10% {np.mean(e <= 0.1):4.0%}, worst {e.max():.1%}"
        )


if __name__ == "__main__":
    main()
