"""Closed-form cycle count of the generated systolic-array RTL (``codesign_playground.rtl``).

The generated controller is fully deterministic: a GEMM ``C[M,N] = A[M,K] @ B[K,N]`` on an
``R x C`` array runs as a sequence of equal-length folds followed by a fixed pipeline tail, so
its cycle count (the ``CYCLES`` register: clock edges from the one that samples the start write
to the one that raises ``done``) is

    ws:  ceil(K/R) * ceil(N/C) * (R + M + (R + C - 2)) + 2
    os:  ceil(M/R) * ceil(N/C) * (K + (R + C - 2) + R) + 1

Term by term, per fold (``T`` is SCALE-Sim's temporal dimension: ``M`` for ws, ``K`` for os):

* **ws** - ``R`` cycles read one B row each and shift it into the weight columns (the preload;
  SCALE-Sim's first ``R``); ``T = M`` cycles read one A word each (the stream); ``R + C - 2``
  cycles let the last activation cross the skew and the array (the fill/drain skew). The next
  fold's weight shift may start only after PE ``(R-1, C-1)`` has used the old weight. That is
  SCALE-Sim's ws fold, ``2R + C + T - 2``, exactly. The outputs of a fold leave the array while
  the next fold preloads, so the accumulate (read-modify-write of C) never adds a per-fold
  cycle; after the last fold the pipeline tail adds **2** cycles (one of buffer read latency,
  one for the accumulate's read-then-write).
* **os** - ``T = K`` cycles read one A and one B word each; ``R + C - 2`` cycles until PE
  ``(R-1, C-1)`` has its last product; then ``R`` cycles shift the C tile out of the bottom row
  (the drain). SCALE-Sim's os fold is ``T + R + C - 2``: it does not charge the drain, which it
  treats as overlapped with the next fold. The RTL does not overlap it because the
  accumulators are also the drain shift register (a second, shadow register per PE would be
  needed), so each fold costs ``R`` more. The next fold's first buffer read overlaps the last
  drain cycle, so the final fold adds **1** cycle.

Hence, with ``S`` = SCALE-Sim's compute cycles for the same shapes (``folds * fold - 1``, see
:func:`codesign_playground.perf.systolic.simulate`):

    ws:  rtl = S + 3
    os:  rtl = S + R * folds + 2

(SCALE-Sim's ws fold has one cycle of slack in this RTL: the weight read latency would let the
next preload start one cycle earlier. The controller keeps SCALE-Sim's count instead.)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from codesign_playground.perf.systolic import dataflow_code

__all__ = ["RTL_DATAFLOWS", "rtl_gemm_cycle_terms", "rtl_gemm_cycles", "scalesim_fold_cycles"]

IntArray = npt.NDArray[np.int64]

RTL_DATAFLOWS = ("ws", "os")
"""Dataflows the generated RTL implements."""

_WS_TAIL = 2
_OS_TAIL = 1


def _ceil_div(a: IntArray, b: IntArray) -> IntArray:
    out: IntArray = -(-a // b)
    return out


def _operands(
    m: npt.ArrayLike,
    n: npt.ArrayLike,
    k: npt.ArrayLike,
    rows: npt.ArrayLike,
    cols: npt.ArrayLike,
    dataflow: npt.ArrayLike,
) -> tuple[IntArray, ...]:
    code = dataflow_code(dataflow)
    if np.any(code == 2):
        raise ValueError("dataflow must be 'ws' or 'os' for the RTL ('is' is not generated)")
    arrays = np.broadcast_arrays(
        np.asarray(m, dtype=np.int64),
        np.asarray(n, dtype=np.int64),
        np.asarray(k, dtype=np.int64),
        np.asarray(rows, dtype=np.int64),
        np.asarray(cols, dtype=np.int64),
        code,
    )
    for name, arr in zip(("m", "n", "k", "rows", "cols"), arrays[:5], strict=True):
        if np.any(arr < 1):
            raise ValueError(f"{name} must be >= 1, got {int(arr.min())}")
    return tuple(np.asarray(a, dtype=np.int64) for a in arrays)


def rtl_gemm_cycle_terms(
    m: npt.ArrayLike,
    n: npt.ArrayLike,
    k: npt.ArrayLike,
    rows: npt.ArrayLike,
    cols: npt.ArrayLike,
    dataflow: npt.ArrayLike,
) -> dict[str, IntArray]:
    """The terms of :func:`rtl_gemm_cycles`, broadcast over all arguments.

    Returns ``folds``, and per fold ``preload`` (ws: ``R``; os: 0), ``stream`` (``T``),
    ``skew`` (``R + C - 2``), ``drain`` (os: ``R``; ws: 0) and ``fold`` (their sum), plus the
    run's ``tail`` (ws: 2, os: 1) and ``total = folds * fold + tail``.
    """
    mm, nn, kk, rr, cc, code = _operands(m, n, k, rows, cols, dataflow)
    is_os = code == 0
    folds = np.where(is_os, _ceil_div(mm, rr), _ceil_div(kk, rr)) * _ceil_div(nn, cc)
    preload = np.where(is_os, 0, rr)
    stream = np.where(is_os, kk, mm)
    skew = rr + cc - 2
    drain = np.where(is_os, rr, 0)
    fold = preload + stream + skew + drain
    tail = np.where(is_os, _OS_TAIL, _WS_TAIL)
    return {
        "folds": folds,
        "preload": preload,
        "stream": stream,
        "skew": skew,
        "drain": drain,
        "fold": fold,
        "tail": tail,
        "total": folds * fold + tail,
    }


def rtl_gemm_cycles(
    m: npt.ArrayLike,
    n: npt.ArrayLike,
    k: npt.ArrayLike,
    rows: npt.ArrayLike,
    cols: npt.ArrayLike,
    dataflow: npt.ArrayLike,
) -> IntArray:
    """Cycles the generated RTL takes for ``C[M,N] = A[M,K] @ B[K,N]`` (vectorized).

    All arguments broadcast; ``dataflow`` holds ``"ws"``/``"os"`` (or SCALE-Sim codes 1/0).
    Equal to the simulated ``CYCLES`` register for every shape (tests/rtl check this).
    """
    return rtl_gemm_cycle_terms(m, n, k, rows, cols, dataflow)["total"]


def scalesim_fold_cycles(
    m: npt.ArrayLike,
    n: npt.ArrayLike,
    k: npt.ArrayLike,
    rows: npt.ArrayLike,
    cols: npt.ArrayLike,
    dataflow: npt.ArrayLike,
) -> IntArray:
    """SCALE-Sim's compute cycles for the same GEMM (``folds * fold_lines - 1``).

    ``rtl_gemm_cycles - scalesim_fold_cycles`` is ``3`` for ws and ``rows * folds + 2`` for os.
    """
    t = rtl_gemm_cycle_terms(m, n, k, rows, cols, dataflow)
    lines = t["stream"] + t["skew"] + t["preload"]  # os: T + R + C - 2; ws: 2R + C + T - 2
    out: IntArray = t["folds"] * lines - 1
    return out
