"""The fast mode's USER-mode ring replay skips periodic and refill-free stretches of folds
(``systolic._RingPeriod``); the skips must change nothing: every figure equals the fold-by-fold
replay's on random long runs of every dataflow, GEMMs and convs, SRAMs from 2 KiB."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from codesign_playground.perf import systolic
from codesign_playground.perf.systolic import ConvGeometry, SystolicResult, simulate

FIELDS = tuple(SystolicResult.__dataclass_fields__)


def _pairs(seed: int, n: int) -> tuple[dict[str, Any], ConvGeometry]:
    """``n`` random (layer, design) pairs in USER mode whose operands overflow their SRAMs."""
    rng = np.random.default_rng(seed)
    h = rng.choice([7, 14, 28, 56], n)
    fh = rng.choice([1, 1, 3], n)
    stride = np.where(fh == 1, rng.choice([1, 2], n), 1)
    ch = rng.choice([16, 64, 128, 256], n)
    oh = -(-(h - fh + stride) // stride)
    gemm = rng.random(n) < 0.3
    m = np.where(gemm, rng.integers(1, 400, n), oh * oh)
    k = np.where(gemm, rng.integers(64, 2048, n), fh * fh * ch)
    geo = ConvGeometry(
        ifmap_h=np.where(gemm, m, h),
        ifmap_w=np.where(gemm, k, h),
        filter_h=np.where(gemm, 1, fh),
        filter_w=np.where(gemm, k, fh),
        channels=np.where(gemm, 1, ch),
        stride_h=np.where(gemm, 1, stride),
        stride_w=np.where(gemm, 1, stride),
    )
    args = dict(
        m=m,
        n=rng.choice([16, 64, 256, 1000], n),
        k=k,
        array_rows=rng.choice([8, 16, 24, 32], n),
        array_cols=rng.choice([8, 16, 24, 32], n),
        dataflow=rng.choice(np.array(["ws", "os", "is"]), n),
        ifmap_sram_kb=rng.choice([2, 8, 32, 128], n),
        filter_sram_kb=rng.choice([2, 8, 32, 128], n),
        ofmap_sram_kb=rng.choice([2, 16, 64], n),
        user_bandwidth=True,
        bandwidth_words_per_cycle=rng.choice([1, 4, 10, 32], n),
        ifmap_fill_bw_words_per_cycle=rng.choice([1, 4, 10, 32], n),
        filter_fill_bw_words_per_cycle=rng.choice([1, 4, 10, 32], n),
    )
    return args, geo


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_skipped_folds_change_nothing(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    args, geo = _pairs(seed, 400)
    skips = []
    step = systolic._RingPeriod.step

    def counting(self: Any, pairs: Any, fp: Any, *rest: Any) -> None:
        before = fp.copy()
        step(self, pairs, fp, *rest)
        skips.append(int(np.count_nonzero(fp > before)))

    monkeypatch.setattr(systolic._RingPeriod, "step", counting)
    fast = simulate(**args, conv=geo, replay=False)
    assert sum(skips) > 0, "no stretch was skipped: the test does not exercise the skips"
    monkeypatch.setattr(systolic._RingPeriod, "step", lambda *a, **k: None)
    slow = simulate(**args, conv=geo, replay=False)
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name), err_msg=name)
