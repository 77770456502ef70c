"""The sweep-move line of stacked skewed blocks (``systolic._skew_diag``): its band shortcut
gives the same anti-diagonal as a bisection on the entry count everywhere."""

from __future__ import annotations

import numpy as np

from codesign_playground.perf.systolic import _box_pairs, _skew_diag


def test_skew_diag_equals_bisection_on_random_stacks() -> None:
    rng = np.random.default_rng(5)
    n = 20_000
    width = rng.integers(1, 70, n)
    t = rng.integers(1, 300, n)
    blocks = rng.integers(1, 12, n)
    narrower = np.minimum(width, rng.integers(1, 70, n))
    w_last = np.where(rng.random(n) < 0.5, width, narrower)
    full_rows = (blocks - 1) * t
    b = (rng.random(n) * blocks).astype(np.int64)
    wb = np.where(b >= blocks - 1, w_last, width)
    b_t, span_d = b * t, t + wb - 2

    def count(d: np.ndarray) -> np.ndarray:
        x = b_t + d
        return _box_pairs(x, width, full_rows) + _box_pairs(x - full_rows, w_last, t)

    first, last = count(np.zeros(n, dtype=np.int64)), count(span_d + 1) - 1
    pos = first + (rng.random(n) * (last - first + 1)).astype(np.int64)
    lo, hi = np.zeros(n, dtype=np.int64), span_d.copy()
    while np.any(lo < hi):  # the largest D with count(b_t + D) <= pos
        mid = (lo + hi + 1) // 2
        below = count(mid) <= pos
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid - 1)
    with np.errstate(invalid="ignore"):
        got = _skew_diag(pos, b_t, span_d, width, w_last, t, full_rows)
    np.testing.assert_array_equal(got, lo)
