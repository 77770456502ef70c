"""The fast mode's ofmap drains stepped one by one (``systolic._joint_stall``) on runs of more
than 256 drain batches, against the exact replay (``scalesim_replay``, which equals SCALE-Sim
3.0.0 on the reference grid).

Up to 256 batches the fast mode stepped the drains; longer runs took closed forms that miss
whole-line drains (quirk 8), drains idling in a fold's ramp (a drain starts on a write) and
read and write stalls adding up: 1-2% of the total cycles off on these 1x1 convs and GEMMs
(drawn at random, USER bandwidth), 5% on the grid's ResNet-18 1x1 stride-2 convs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from codesign_playground.perf import systolic
from codesign_playground.perf.batch import Workload
from codesign_playground.perf.scalesim_compat import (
    ScaleSimConfig,
    config_from_keys,
    layer_from_row,
    layer_op,
    simulate_layers,
)
from codesign_playground.perf.systolic_fast import SystolicConfig, fast_gemm_figures
from codesign_playground.workload.ir import Network

BASE = {
    "run_name": "drain",
    "InterfaceBandwidth": "USER",
    "UseRamulatorTrace": "False",
    "IfmapOffset": 0,
    "FilterOffset": 10000000,
    "OfmapOffset": 20000000,
    "ReadRequestBuffer": 32,
    "WriteRequestBuffer": 32,
    "IfmapCustomLayout": "False",
    "FilterCustomLayout": "False",
    "IfmapSRAMBankNum": 10,
    "IfmapSRAMBankPort": 2,
    "FilterSRAMBankNum": 10,
    "FilterSRAMBankPort": 2,
    "SparsitySupport": "false",
}


def _conv(h: int, c: int, f: int, s: int) -> tuple[str, dict[str, Any]]:
    top = {"Layer name": "c", "IFMAP Height": h, "IFMAP Width": h, "Filter Height": 1}
    top |= {"Filter Width": 1, "Channels": c, "Num Filter": f, "Strides": s}
    return "conv", top


# (layer, dataflow, array rows x cols, ifmap/filter/ofmap SRAM KiB, DRAM words/cycle)
CASES = [
    (_conv(14, 128, 128, 1), "is", (4, 32), (8, 2, 2), 2),
    (("gemm", {"Layer": "g", "M": 548, "N": 103, "K": 250}), "ws", (32, 64), (4, 1, 2), 8),
    (_conv(56, 16, 64, 1), "ws", (4, 32), (2, 4, 2), 10),
    (_conv(14, 128, 256, 1), "ws", (32, 32), (4, 4, 1), 4),
    (_conv(14, 32, 256, 1), "ws", (4, 16), (2, 4, 2), 10),
]


def _config(df: str, array: tuple[int, int], srams: tuple[int, ...], bw: int) -> ScaleSimConfig:
    keys = BASE | {"Dataflow": df, "ArrayHeight": array[0], "ArrayWidth": array[1]}
    keys |= dict(zip(("IfmapSramSzkB", "FilterSramSzkB", "OfmapSramSzkB"), srams, strict=True))
    keys |= {"Bandwidth": bw, "IfmapSRAMBankBandwidth": bw, "FilterSRAMBankBandwidth": bw}
    return config_from_keys(keys)


@pytest.mark.parametrize(("layer", "df", "array", "srams", "bw"), CASES)
def test_long_drain_runs_match_the_exact_replay(
    layer: tuple[str, dict[str, Any]],
    df: str,
    array: tuple[int, int],
    srams: tuple[int, ...],
    bw: int,
) -> None:
    """Between 256 and ``_WRITE_BATCHES`` drain batches: total cycles within 0.5% of the
    exact replay (the stepping is the replay's loop on the lines where something happens)."""
    top = layer_from_row(*layer)
    cfg = _config(df, array, srams, bw)
    exact = simulate_layers([top], cfg)
    fast = fast_gemm_figures(
        Workload.of(Network(top.name, (layer_op(top),))), SystolicConfig.from_scalesim(cfg)
    )
    words = int(np.asarray(exact.ofmap_sram_writes_words).ravel()[0])
    buf = srams[2] * 1024
    half = buf - (buf + 1) // 2
    batches = -(-(words - buf) // half)
    assert 256 < batches <= systolic._WRITE_BATCHES
    want, got = (float(np.asarray(r.total_cycles).ravel()[0]) for r in (exact, fast))
    assert abs(got / want - 1) <= 0.005, (got, want)
