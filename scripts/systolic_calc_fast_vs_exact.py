#!/usr/bin/env python
"""The systolic fast mode against the exact mode on random CALC-mode convolutions.

SCALE-Sim's grid (``tests/data/scalesim/grid.jsonl``) holds a few dozen CALC convs whose ifmap
overflows the read SRAM; this draws many more (seeded: filters 1-5 x 1-5, strides 1-3, ifmaps
up to 40 x 40, 1-128 channels, arrays 4-128 a side, all dataflows, 1-64 KiB ifmap SRAM) and
compares the fast mode (``simulate_layers(fast=True)``, exploration's code path) with the exact
mode (SCALE-Sim's buffers replayed) in total cycles and SRAM and DRAM reads and writes::

    PYTHONPATH=src python scripts/systolic_calc_fast_vs_exact.py [--cases 400] [--seed 7]

It prints how many cases are more than 1% and 5% off and the worst ones (a few minutes: the
exact mode replays each case).
"""

from __future__ import annotations

import argparse

import numpy as np

from codesign_playground.perf.scalesim_compat import (
    FAST_FIGURES,
    config_from_keys,
    layer_from_row,
    simulate_layers,
)


def random_cases(n: int, seed: int) -> list[tuple[dict[str, object], dict[str, object]]]:
    """``n`` (topology row, config keys) pairs in SCALE-Sim's format."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        fh, fw = int(rng.integers(1, 6)), int(rng.integers(1, 6))
        topo = {
            "Layer name": "r",
            "IFMAP Height": int(rng.integers(fh, 40)),
            "IFMAP Width": int(rng.integers(fw, 40)),
            "Filter Height": fh,
            "Filter Width": fw,
            "Channels": int(rng.choice([1, 3, 8, 16, 32, 64, 128])),
            "Num Filter": int(rng.integers(1, 80)),
            "Strides": int(rng.integers(1, 4)),
        }
        cfg = {
            "run_name": "r",
            "InterfaceBandwidth": "CALC",
            "ArrayHeight": int(rng.choice([4, 8, 16, 32, 64, 128])),
            "ArrayWidth": int(rng.choice([4, 8, 16, 32, 64, 128])),
            "IfmapSramSzkB": int(rng.choice([1, 2, 4, 8, 16, 64])),
            "FilterSramSzkB": 64,
            "OfmapSramSzkB": 64,
            "Dataflow": str(rng.choice(["os", "ws", "is"])),
            "Bandwidth": 10,
        }
        out.append((topo, cfg))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    errors: list[tuple[float, str, dict[str, object], dict[str, object]]] = []
    for topo, keys in random_cases(args.cases, args.seed):
        layer, cfg = layer_from_row("conv", topo), config_from_keys(keys)
        fast = simulate_layers([layer], cfg, fast=True)
        exact = simulate_layers([layer], cfg)
        err, name = max(
            (
                abs(
                    float(np.asarray(getattr(fast, f))[0])
                    / max(float(np.asarray(getattr(exact, f))[0]), 1.0)
                    - 1.0
                ),
                f,
            )
            for f in FAST_FIGURES
        )
        errors.append((err, name, topo, keys))
    errors.sort(key=lambda e: -e[0])
    over1 = sum(e[0] > 0.01 for e in errors)
    over5 = sum(e[0] > 0.05 for e in errors)
    print(f"{len(errors)} random CALC convs: {over1} more than 1% off, {over5} more than 5%")
    for err, name, topo, keys in errors[:10]:
        conv = "x".join(str(topo[k]) for k in ("IFMAP Height", "IFMAP Width", "Channels"))
        window = f"{topo['Filter Height']}x{topo['Filter Width']}/s{topo['Strides']}"
        array = f"{keys['ArrayHeight']}x{keys['ArrayWidth']} {keys['Dataflow']}"
        print(f"  {err:7.1%} {name}: {conv} {window} on {array}, {keys['IfmapSramSzkB']} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
