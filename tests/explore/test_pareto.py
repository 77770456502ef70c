from __future__ import annotations

import numpy as np
import pytest

from codesign_playground.explore.pareto import (
    constrained_order,
    hypervolume,
    knee_index,
    nondominated_mask,
    nondominated_ranks,
)


def test_nondominated_mask_hand_case() -> None:
    F = np.array([[1, 5], [2, 2], [5, 1], [3, 3], [2, 2], [6, 6]], dtype=float)
    assert nondominated_mask(F).tolist() == [True, True, True, False, True, False]
    assert nondominated_ranks(F).tolist() == [0, 0, 0, 1, 0, 2]


def test_hypervolume_hand_cases() -> None:
    # two boxes [1,3]x[2,3] and [2,3]x[1,3]: 2 + 2 - 1 = 3
    assert hypervolume(np.array([[1.0, 2.0], [2.0, 1.0]]), [3, 3]) == pytest.approx(3.0)
    assert hypervolume(np.array([[1.0, 1.0, 1.0]]), [2, 2, 2]) == pytest.approx(1.0)
    # 3-D: unit cubes at (0,0,1),(0,1,0),(1,0,0) in a 2x2x2 box: 3 * (2*2*1) - 3*(2*1*1) + 1
    F = np.array([[0, 0, 1], [0, 1, 0], [1, 0, 0]], dtype=float)
    assert hypervolume(F, [2, 2, 2]) == pytest.approx(12 - 6 + 1)
    # dominated and out-of-reference points add nothing
    F2 = np.array([[1, 2], [2, 1], [2.5, 2.5], [4, 0.5]], dtype=float)
    assert hypervolume(F2, [3, 3]) == pytest.approx(3.0)


@pytest.mark.parametrize("m", [2, 3, 4])
def test_hypervolume_matches_optuna(m: int) -> None:
    optuna_hv = pytest.importorskip("optuna._hypervolume")
    rng = np.random.default_rng(m)
    F = rng.random((60, m))
    ref = np.full(m, 1.1)
    expected = optuna_hv.compute_hypervolume(F[nondominated_mask(F)], ref)
    assert hypervolume(F, ref) == pytest.approx(expected, rel=1e-12)


def test_knee_is_the_bend() -> None:
    F = np.array([[0, 1], [0.1, 0.3], [0.5, 0.2], [1, 0.0]])
    assert knee_index(F) == 1


def test_constrained_order_feasible_first_then_violation() -> None:
    F = np.array([[1, 1], [0, 0], [2, 2], [0.5, 3]], dtype=float)
    viol = np.array([0.0, 0.5, 0.0, 0.1])
    order = constrained_order(F, viol).tolist()
    assert order[:2] == [0, 2]
    assert order[2:] == [3, 1]
