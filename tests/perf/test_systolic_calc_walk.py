"""The CALC-mode epoch walk of the systolic fast mode against SCALE-Sim's read buffer replayed."""

from __future__ import annotations

import numpy as np
import pytest

from codesign_playground.perf import systolic
from codesign_playground.perf.scalesim_compat import (
    config_from_keys,
    layer_from_row,
    simulate_layers,
)

# (ifmap h, w, channels, filter, stride, filters), (dataflow, rows, cols, ifmap SRAM KiB):
# os/is convs with overlapping windows, many channels against the fold, a few epochs a pass
CASES = [
    ((14, 14, 64, 3, 1, 8), ("is", 8, 8, 4)),
    ((12, 12, 128, 3, 2, 4), ("is", 16, 32, 8)),
    ((10, 10, 64, 3, 2, 20), ("os", 4, 8, 4)),
    ((9, 11, 96, 2, 1, 3), ("os", 8, 4, 16)),
]


def _layer_cfg(conv: tuple[int, ...], design: tuple[object, ...]) -> tuple[object, object]:
    ih, iw, ch, f, s, nf = conv
    df, rows, cols, kb = design
    topo = {
        "Layer name": "c",
        "IFMAP Height": ih,
        "IFMAP Width": iw,
        "Filter Height": f,
        "Filter Width": f,
        "Channels": ch,
        "Num Filter": nf,
        "Strides": s,
    }
    keys = {
        "run_name": "c",
        "InterfaceBandwidth": "CALC",
        "ArrayHeight": rows,
        "ArrayWidth": cols,
        "IfmapSramSzkB": kb,
        "FilterSramSzkB": 64,
        "OfmapSramSzkB": 64,
        "Dataflow": df,
        "Bandwidth": 10,
    }
    return layer_from_row("conv", topo), config_from_keys(keys)


@pytest.mark.parametrize(("conv", "design"), CASES)
def test_epoch_walk_within_one_percent_of_replay(
    conv: tuple[int, ...], design: tuple[object, ...]
) -> None:
    layer, cfg = _layer_cfg(conv, design)
    exact = int(np.asarray(simulate_layers([layer], cfg).ifmap_dram_reads_words)[0])
    fast = int(np.asarray(simulate_layers([layer], cfg, fast=True).ifmap_dram_reads_words)[0])
    assert exact > 0
    assert abs(fast / exact - 1.0) <= 0.01


def test_epoch_walk_gate() -> None:
    """is walks where the channels fill a position fold (C >= Rows), os where a cell's C lines
    are 8 pixel folds long; elsewhere the average estimate is returned unchanged."""
    i64 = np.int64
    geometry = tuple(np.array([v, v], dtype=i64) for v in (14, 14, 3, 3, 64, 1, 1))
    dataflow = np.array([2, 2], dtype=i64)  # is
    rows = np.array([8, 128], dtype=i64)
    cols = np.array([8, 8], dtype=i64)
    m = np.array([144, 144], dtype=i64)
    passes = np.array([1, 1], dtype=i64)
    epoch = np.array([50 * (4096 // 100)] * 2, dtype=i64)
    average = np.array([50_000, 50_000], dtype=i64)
    reads, walked = systolic._calc_conv_epoch_walk(
        dataflow, rows, cols, m, geometry, passes, epoch, average
    )
    assert walked.tolist() == [True, False]
    assert reads[1] == average[1]
