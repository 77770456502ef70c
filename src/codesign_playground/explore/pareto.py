"""Pareto fronts, hypervolume, knee points and a constraint-honouring ranking.

All functions take objective matrices ``F`` of shape ``(n, m)`` to be **minimized** (negate
maximized objectives first: :func:`to_minimization`).

* :func:`nondominated_mask` / :func:`nondominated_ranks`: Pareto dominance (Deb et al., "A fast
  and elitist multiobjective genetic algorithm: NSGA-II", IEEE TEVC 6(2), 2002): ``a`` dominates
  ``b`` when it is no worse in every objective and better in one.
* :func:`hypervolume`: the Lebesgue measure of the region dominated by the points and bounded
  by a reference point (Zitzler & Thiele, "Multiobjective optimization using evolutionary
  algorithms — a comparative case study", PPSN V, 1998); exact, by a sweep in 2-D and by
  slicing along the last objective (HSO, While et al., IEEE TEVC 10(1), 2006) in higher
  dimensions.
* :func:`knee_index`: after normalizing the front to [0, 1] per objective, the point farthest
  (towards the ideal point) from the line/hyperplane through the extreme points (the
  convex hull of individual minima of Das, "On characterizing the knee of the Pareto curve
  based on normal-boundary intersection", Struct. Optim. 18, 1999; the distance-based knee of
  Branke et al., "Finding knees in multi-objective optimization", PPSN VIII, 2004).
* :func:`constrained_order`: feasible points first (by Pareto rank, then by distance to the
  normalized ideal point), then infeasible points by total constraint violation (Deb's
  constraint-domination rule).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from codesign_playground.units import BoolArray, FloatArray, IntArray

__all__ = [
    "constrained_order",
    "hypervolume",
    "knee_index",
    "nondominated_mask",
    "nondominated_ranks",
    "normalize",
    "to_minimization",
]


def to_minimization(values: FloatArray, directions: Sequence[str]) -> FloatArray:
    """Objective columns with maximized ones negated (shape ``(n, m)``)."""
    sign = np.array([-1.0 if d == "max" else 1.0 for d in directions])
    return np.asarray(np.asarray(values, dtype=np.float64) * sign, dtype=np.float64)


def nondominated_mask(F: FloatArray) -> BoolArray:
    """True for the points no other point dominates (duplicates of a front point included).

    Sorted lexicographically, the first remaining point is dominated by no later one; each
    step keeps it and drops, in one vectorized comparison, every remaining point it
    dominates: O(n * front size) comparisons.
    """
    F = np.asarray(F, dtype=np.float64)
    n = F.shape[0]
    mask = np.zeros(n, dtype=bool)
    if n == 0:
        return mask
    order = np.lexsort(F.T[::-1])
    rest = order
    while rest.size:
        head = rest[0]
        mask[head] = True
        cand = F[rest[1:]]
        p = F[head]
        dominated = np.all(cand >= p, axis=1) & np.any(cand > p, axis=1)
        rest = rest[1:][~dominated]
    return mask


def nondominated_ranks(F: FloatArray, max_fronts: int | None = None) -> IntArray:
    """Front index of every point (0 = Pareto front), by repeated front extraction; with
    ``max_fronts``, points behind the first ``max_fronts`` fronts all get ``max_fronts``."""
    F = np.asarray(F, dtype=np.float64)
    ranks = np.full(F.shape[0], -1, dtype=np.int64)
    remaining = np.arange(F.shape[0])
    r = 0
    while remaining.size:
        if max_fronts is not None and r >= max_fronts:
            ranks[remaining] = max_fronts
            break
        m = nondominated_mask(F[remaining])
        ranks[remaining[m]] = r
        remaining = remaining[~m]
        r += 1
    return ranks


def _hv2(points: FloatArray, ref: FloatArray) -> float:
    pts = points[np.all(points < ref, axis=1)]
    if pts.size == 0:
        return 0.0
    pts = pts[np.lexsort((pts[:, 1], pts[:, 0]))]
    best_y = np.minimum.accumulate(pts[:, 1])
    # staircase: each x-interval [x_i, x_{i+1}) is covered up to ref_y from best_y so far
    xs = np.append(pts[:, 0], ref[0])
    widths = np.diff(xs)
    return float(np.sum(widths * (ref[1] - best_y)))


def _hv(points: FloatArray, ref: FloatArray) -> float:
    m = points.shape[1]
    pts = points[np.all(points < ref, axis=1)]
    if pts.size == 0:
        return 0.0
    if m == 1:
        return float(ref[0] - pts[:, 0].min())
    if m == 2:
        return _hv2(pts, ref)
    # slice along the last objective: between consecutive levels the cross-section is the
    # (m-1)-D hypervolume of the points at or below that level
    pts = pts[np.argsort(pts[:, -1], kind="stable")]
    levels = np.append(pts[:, -1], ref[-1])
    total = 0.0
    for i in range(pts.shape[0]):
        depth = levels[i + 1] - levels[i]
        if depth <= 0:
            continue
        sub = pts[: i + 1, :-1]
        sub = sub[nondominated_mask(sub)]
        total += depth * _hv(sub, ref[:-1])
    return total


def hypervolume(F: FloatArray, reference: Sequence[float] | FloatArray) -> float:
    """Exact hypervolume dominated by ``F`` (minimized) up to ``reference``.

    Points not strictly better than the reference in every objective add nothing.
    """
    F = np.asarray(F, dtype=np.float64)
    ref = np.asarray(reference, dtype=np.float64)
    if F.ndim != 2 or F.shape[1] != ref.size:
        raise ValueError("hypervolume: F must be (n, m) with m = len(reference)")
    if F.shape[0] == 0:
        return 0.0
    F = F[np.all(np.isfinite(F), axis=1)]
    F = F[nondominated_mask(F)] if F.shape[0] else F
    return _hv(np.unique(F, axis=0), ref)


def normalize(F: FloatArray, ideal: FloatArray, nadir: FloatArray) -> FloatArray:
    """``(F - ideal) / (nadir - ideal)``, a zero span counting as 1."""
    span = np.where(nadir - ideal > 0, nadir - ideal, 1.0)
    return np.asarray((F - ideal) / span, dtype=np.float64)


def knee_index(F: FloatArray) -> int:
    """Index (into ``F``, a Pareto front, minimized) of the knee point.

    Normalize to [0, 1] per objective; take the hyperplane through the ``m`` extreme points
    (each minimizing one objective); the knee is the point farthest from it on the ideal
    side. When the extremes do not span a hyperplane (fewer distinct extremes than
    objectives, or a flat front) the plane ``sum(f) = 1`` is used; ties go to the point
    closest to the ideal point.
    """
    F = np.asarray(F, dtype=np.float64)
    n, m = F.shape
    if n == 0:
        raise ValueError("knee_index: empty front")
    if n <= 2:
        Z = normalize(F, F.min(axis=0), F.max(axis=0))
        return int(np.argmin(np.linalg.norm(Z, axis=1)))
    Z = normalize(F, F.min(axis=0), F.max(axis=0))
    extremes = Z[np.argmin(Z, axis=0)]  # (m, m): row i minimizes objective i
    normal: FloatArray
    try:
        normal = np.linalg.solve(extremes, np.ones(m))  # plane: normal . z = 1
        if not np.all(np.isfinite(normal)):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        normal = np.ones(m)
    # an elementwise row sum, not a BLAS product: the same point gives the same distance
    # whatever the front's size (chunked and single runs pick the same knee)
    dist = (1.0 - (Z * normal).sum(axis=1)) / np.linalg.norm(normal)
    best = np.max(dist)
    cands = np.flatnonzero(np.isclose(dist, best, rtol=0, atol=1e-12))
    return int(cands[np.argmin(np.linalg.norm(Z[cands], axis=1))])


def constrained_order(F: FloatArray, violation: FloatArray, max_fronts: int | None = 3) -> IntArray:
    """Indices of all points, best first: feasible (violation 0) by Pareto rank (fronts
    beyond ``max_fronts`` share one rank) then by distance to the ideal point in normalized
    objectives; then infeasible by violation.

    Rows of ``F`` with non-finite values (an objective missing, e.g. no accuracy) rank after
    the feasible finite rows and before the infeasible ones.
    """
    F = np.asarray(F, dtype=np.float64)
    v = np.asarray(violation, dtype=np.float64)
    n = F.shape[0]
    finite = np.all(np.isfinite(F), axis=1)
    feas = (v <= 0) & finite
    rank = np.zeros(n, dtype=np.int64)
    dist = np.zeros(n)
    if feas.any():
        Ff = F[feas]
        rank[feas] = nondominated_ranks(Ff, max_fronts)
        Z = normalize(Ff, Ff.min(axis=0), Ff.max(axis=0))
        dist[feas] = np.linalg.norm(Z, axis=1)
    group = np.where(feas, 0, np.where(v <= 0, 1, 2))
    return np.lexsort((np.arange(n), dist, np.where(group == 2, v, 0.0), rank, group)).astype(
        np.int64
    )
