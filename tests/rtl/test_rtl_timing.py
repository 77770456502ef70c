"""The closed-form RTL cycle model and its relation to SCALE-Sim's formula."""

from __future__ import annotations

import numpy as np
import pytest

from codesign_playground.perf.rtl_timing import (
    rtl_gemm_cycle_terms,
    rtl_gemm_cycles,
    scalesim_fold_cycles,
)
from codesign_playground.perf.systolic import simulate

pytestmark = pytest.mark.rtl


def test_hand_computed_values() -> None:
    # ws 2x2, 3x5x7: ceil(7/2)*ceil(5/2) = 12 folds of 2*2 + 2 + 3 - 2 = 7, plus 2
    assert rtl_gemm_cycles(3, 5, 7, 2, 2, "ws") == 12 * 7 + 2
    # os 3x2, 7x3x8: ceil(7/3)*ceil(3/2) = 6 folds of 8 + 2*3 + 2 - 2 = 14, plus 1
    assert rtl_gemm_cycles(7, 3, 8, 3, 2, "os") == 6 * 14 + 1
    assert rtl_gemm_cycles(1, 1, 1, 2, 2, "ws") == 7
    assert rtl_gemm_cycles(1, 1, 1, 3, 2, "os") == 8


def test_vectorized_over_shapes_and_designs() -> None:
    m = np.array([[1], [17], [40]])
    rows = np.array([2, 4, 8, 16])
    out = rtl_gemm_cycles(m, 9, 33, rows, rows, np.array(["ws", "os", "ws", "os"]))
    assert out.shape == (3, 4)
    for i in range(3):
        for j in range(4):
            df = ["ws", "os", "ws", "os"][j]
            assert out[i, j] == rtl_gemm_cycles(int(m[i, 0]), 9, 33, rows[j], rows[j], df)


def test_terms_add_up() -> None:
    t = rtl_gemm_cycle_terms([5, 50], 7, [3, 30], 4, 2, ["ws", "os"])
    np.testing.assert_array_equal(t["fold"], t["preload"] + t["stream"] + t["skew"] + t["drain"])
    np.testing.assert_array_equal(t["total"], t["folds"] * t["fold"] + t["tail"])
    np.testing.assert_array_equal(t["preload"], [4, 0])
    np.testing.assert_array_equal(t["drain"], [0, 4])


def test_relation_to_scalesim() -> None:
    rng = np.random.default_rng(3)
    m, n, k = (rng.integers(1, 300, size=200) for _ in range(3))
    rows = rng.choice([2, 4, 8, 16, 32], size=200)
    cols = rng.choice([2, 4, 8, 16, 32], size=200)
    for df in ("ws", "os"):
        rtl = rtl_gemm_cycles(m, n, k, rows, cols, df)
        ss = scalesim_fold_cycles(m, n, k, rows, cols, df)
        ref = simulate(m, n, k, array_rows=rows, array_cols=cols, dataflow=df)
        np.testing.assert_array_equal(ss, ref.compute_cycles)
        if df == "ws":
            np.testing.assert_array_equal(rtl - ss, 3)
        else:
            np.testing.assert_array_equal(rtl - ss, rows * ref.folds + 2)


def test_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="'is' is not generated"):
        rtl_gemm_cycles(1, 1, 1, 2, 2, "is")
    with pytest.raises(ValueError, match="m must be >= 1, got 0"):
        rtl_gemm_cycles(0, 1, 1, 2, 2, "ws")
