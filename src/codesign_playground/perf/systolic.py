"""Analytical systolic-array model that reproduces SCALE-Sim 3.0.0 in closed form.

SCALE-Sim (Samajdar et al., ISPASS 2020; SCALE-Sim v3, 2025) builds cycle-by-cycle demand
matrices and replays them through double-buffered SRAM models. Every figure it reports for a
layer is a function of a few integers (the GEMM view of the layer, the array shape, the dataflow
and the SRAM/bandwidth settings), so this module evaluates those functions directly, vectorized
over any broadcastable grid of (layer, design point) pairs. See ``docs/models.md``
("Systolic-array model") for
the equations, their derivation from SCALE-Sim's source and the SCALE-Sim quirks reproduced.

GEMM view (SCALE-Sim's naming): ifmap operand ``M x K``, filter operand ``K x N`` and ofmap
``M x N`` with ``M`` = ofmap pixels per filter, ``N`` = number of filters and ``K`` = filter
window ``R*S*C``. Dataflows are coded ``0 = os``, ``1 = ws``, ``2 = is`` (:data:`DATAFLOWS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from codesign_playground.errors import InputError

__all__ = [
    "CALC_FILL_BW_WORDS_PER_CYCLE",
    "DATAFLOWS",
    "FAST",
    "ConvGemmView",
    "SystolicResult",
    "conv_gemm_view",
    "dataflow_code",
    "simulate",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
ArrayLike = npt.ArrayLike

DATAFLOWS: tuple[str, str, str] = ("os", "ws", "is")
"""Dataflow names in code order: ``os`` = 0, ``ws`` = 1, ``is`` = 2."""

CALC_FILL_BW_WORDS_PER_CYCLE = 10
"""SCALE-Sim's fixed ifmap/filter DRAM fill rate in CALC (estimate-bandwidth) mode."""

_ACTIVE_SETS = 50  # SCALE-Sim splits read SRAMs in 100 sets, half of them active (frac 0.5)


def dataflow_code(dataflow: ArrayLike) -> IntArray:
    """Map dataflow names (``"os"``, ``"ws"``, ``"is"``) or codes to integer codes 0/1/2.

    Raises :class:`~codesign_playground.errors.InputError` (a ``ValueError``) naming the
    ``dataflow`` field for anything else.
    """
    arr = np.asarray(dataflow)
    if arr.dtype.kind in "iu":
        codes = arr.astype(np.int64)
    else:
        names = np.char.lower(np.char.strip(arr.astype(str)))
        codes = np.full(names.shape, -1, dtype=np.int64)
        for code, name in enumerate(DATAFLOWS):
            codes[names == name] = code
    bad = (codes < 0) | (codes > 2)
    if np.any(bad):
        got = np.asarray(arr)[bad].ravel()[0].item()
        raise InputError(
            f"field 'dataflow': must be one of 'os', 'ws', 'is' (codes 0, 1, 2), got {got!r}"
        )
    return codes


@dataclass(frozen=True)
class ConvGemmView:
    """SCALE-Sim's GEMM view of conv layers (arrays) plus the ifmap's distinct-word count."""

    m: IntArray
    """Ofmap pixels per filter (``M``; SCALE-Sim's ``Sr`` in os)."""
    n: IntArray
    """Number of filters (``N``)."""
    k: IntArray
    """Filter window ``R*S*C`` (``K``)."""
    ifmap_footprint_words: IntArray
    """Distinct ifmap words the layer touches (what DRAM must deliver at least once)."""


def conv_gemm_view(
    ifmap_h: ArrayLike,
    ifmap_w: ArrayLike,
    filter_h: ArrayLike,
    filter_w: ArrayLike,
    channels: ArrayLike,
    num_filters: ArrayLike,
    stride_h: ArrayLike = 1,
    stride_w: ArrayLike | None = None,
) -> ConvGemmView:
    """GEMM view of a convolution as SCALE-Sim derives it (no padding; ``ceil`` output size).

    A GEMM row ``M, N, K`` of a SCALE-Sim topology is the conv ``M x K`` ifmap with a ``1 x K``
    filter, one channel, ``N`` filters and stride 1, which this maps back to ``m, n, k = M, N, K``.
    """
    ih, iw = np.asarray(ifmap_h, np.int64), np.asarray(ifmap_w, np.int64)
    fh, fw = np.asarray(filter_h, np.int64), np.asarray(filter_w, np.int64)
    ch, nf = np.asarray(channels, np.int64), np.asarray(num_filters, np.int64)
    sh = np.asarray(stride_h, np.int64)
    sw = sh if stride_w is None else np.asarray(stride_w, np.int64)
    oh = -((ih - fh + sh) // -sh)  # ceil((H - R + s) / s), as SCALE-Sim's topology_utils
    ow = -((iw - fw + sw) // -sw)
    # Rows (cols) of the ifmap that some window touches: union of [o*s, o*s + R).
    rows_touched = np.where(sh >= fh, oh * fh, (oh - 1) * sh + fh)
    cols_touched = np.where(sw >= fw, ow * fw, (ow - 1) * sw + fw)
    m, n, k, fp = np.broadcast_arrays(oh * ow, nf, fh * fw * ch, rows_touched * cols_touched * ch)
    return ConvGemmView(m.copy(), n.copy(), k.copy(), fp.copy())


@dataclass(frozen=True)
class SystolicResult:
    """Per (layer, design point) figures, named and counted as SCALE-Sim reports them.

    Cycle counts follow SCALE-Sim: ``total_cycles`` is its "Total Cycles" (the index of the last
    ofmap write, stalls included), ``compute_cycles = total_cycles - stall_cycles``. Counts are in
    words (SCALE-Sim uses 1-byte words). ``*_exact`` flags say whether the figure is in the regime
    the closed form reproduces exactly (operands fit the SRAMs, see the docs); elsewhere it is an
    estimate.
    """

    row_folds: IntArray
    col_folds: IntArray
    folds: IntArray
    compute_cycles: IntArray
    stall_cycles: IntArray
    total_cycles: IntArray
    total_cycles_incl_prefetch: IntArray
    utilization: FloatArray
    """SCALE-Sim's "Overall Util" as a fraction: MACs / (total_cycles * rows * cols)."""
    mapping_efficiency: FloatArray
    """Mean over folds of the fraction of PEs mapped."""
    compute_utilization: FloatArray
    """SCALE-Sim's "Compute Util" (mean over folds of MACs / PE-cycles of the fold)."""
    ifmap_sram_reads_words: IntArray
    filter_sram_reads_words: IntArray
    ofmap_sram_writes_words: IntArray
    ifmap_dram_reads_words: IntArray
    filter_dram_reads_words: IntArray
    ofmap_dram_writes_words: IntArray
    ifmap_sram_start_cycle: IntArray
    ifmap_sram_stop_cycle: IntArray
    filter_sram_start_cycle: IntArray
    filter_sram_stop_cycle: IntArray
    ofmap_sram_start_cycle: IntArray
    ofmap_sram_stop_cycle: IntArray
    ifmap_dram_start_cycle: IntArray
    ifmap_dram_stop_cycle: IntArray
    filter_dram_start_cycle: IntArray
    filter_dram_stop_cycle: IntArray
    ofmap_dram_start_cycle: IntArray
    ofmap_dram_stop_cycle: IntArray
    avg_ifmap_sram_bw_words_per_cycle: FloatArray
    avg_filter_sram_bw_words_per_cycle: FloatArray
    avg_ofmap_sram_bw_words_per_cycle: FloatArray
    avg_ifmap_dram_bw_words_per_cycle: FloatArray
    avg_filter_dram_bw_words_per_cycle: FloatArray
    avg_ofmap_dram_bw_words_per_cycle: FloatArray
    ifmap_dram_exact: BoolArray
    filter_dram_exact: BoolArray
    stall_exact: BoolArray


def _ceil_div(a: IntArray, b: IntArray) -> IntArray:
    """Integer ceil(a / b) for positive b."""
    return -(a // -b)


def _i64(x: ArrayLike) -> IntArray:
    return np.asarray(x, dtype=np.int64)


def _calc_epoch_reads(
    epoch: IntArray, groups: IntArray, d_full: IntArray, d_last: IntArray, passes: IntArray
) -> IntArray:
    """DRAM reads of SCALE-Sim's CALC-mode read buffer (``ReadBufferEstimateBw``), exactly.

    The buffer inserts every demanded address that is not in its current *epoch* and empties
    the epoch each time it holds ``epoch = 50*floor(S/100)`` insertions (the hit window is only
    the sets completed since the last prefetch), so reads = insertions. The demand stream is
    ``groups`` disjoint groups of distinct addresses, ``d_full`` words each (the last
    ``d_last``), each streamed ``passes`` times in a row in the same order. Per group, with
    ``f`` = insertions so far mod ``epoch``: ``D >= epoch`` misses every pass (``p*D``);
    ``f + D < epoch`` hits after the first pass (``D``); otherwise the epoch flips during the
    first pass and the second pass re-inserts what the flip dropped (``D + epoch - f``), after
    which the group fits. For ``D < epoch`` the fill sequence is periodic, which gives the
    closed form below.
    """
    e = np.maximum(epoch, 1)
    full = groups - 1
    d = np.maximum(d_full, 1)
    big = d >= e
    j_period = np.maximum(_ceil_div(e, d) - 1, 1)
    flips = np.where(full >= 1, (groups - 2) // j_period, 0)
    small_cost = full * d + (e - j_period * d) * flips
    small_f = np.where(full >= 1, (1 + (groups - 2) % j_period) * d, 0)
    big_cost = full * passes * d
    cost_full = np.where(big, big_cost, small_cost)
    f = np.where(big, big_cost % e, small_f)
    last = np.where(d_last >= e, passes * d_last, np.where(f + d_last < e, d_last, d_last + e - f))
    once = full * d_full + d_last
    return np.where(passes <= 1, once, cost_full + last)


USER_RING_REPLAY_MAX_EVENTS = 128
"""Most replay steps (folds, or missing demand lines of row-block operands) the USER-mode
small-SRAM read-buffer replay runs per pair; pairs that need more keep the estimate."""


def _tri(x: IntArray, h: IntArray) -> IntArray:
    """``sum_{y <= x} clip(y, 0, h)`` over integers ``y``."""
    x = np.maximum(x, 0)
    xm = np.minimum(x, h)
    return _i64(xm * (xm + 1) // 2 + (x - xm) * h)


def _diag_word(
    r: IntArray, c: IntArray, t: IntArray, g: IntArray, w: IntArray, ul: IntArray
) -> IntArray:
    """Valid-word index of element ``(r, c)`` of SCALE-Sim's diagonal prefetch stream.

    The prefetch matrix stacks ``g`` blocks of ``t`` rows x ``w`` columns (the last block has
    ``ul`` valid columns, the rest ``-1``) and is read along anti-diagonals, row descending.
    """
    d = r + c
    h1 = g * t
    h2 = (g - 1) * t

    def span(c0: IntArray, c1: IntArray, h: IntArray) -> IntArray:
        return _tri(d - c0, h) - _tri(d - np.maximum(c1, c0), h)

    def count(c0: IntArray, c1: IntArray, h: IntArray) -> IntArray:
        return _i64(np.maximum(np.minimum(c1, d + 1) - np.maximum(c0, d - h + 1), 0))

    zero = np.zeros_like(d)
    before = span(zero, ul, h1) + span(ul, w, h2)
    return _i64(before + count(zero, np.minimum(c, ul), h1) + count(ul, c, h2))


def _ring_refills(
    rowblock: BoolArray,
    block_is_col_fold: BoolArray,
    sr: IntArray,
    sc: IntArray,
    t: IntArray,
    rr: IntArray,
    cc: IntArray,
    elems_per_set: IntArray,
    sets: IntArray,
    active_sets: IntArray,
    step_sets: IntArray,
    max_events: int,
    fold_lines: IntArray | None = None,
    diag_line0: IntArray | None = None,
    events: list[tuple[IntArray, IntArray]] | None = None,
) -> tuple[IntArray, BoolArray]:
    """Refills (``new_prefetch`` calls) of SCALE-Sim's USER-mode ``read_buffer``, by replay.

    1-D inputs, one entry per pair. The prefetch stream is hashed into ``sets`` sets of
    ``elems_per_set`` valid words; the active window is ``active_sets`` consecutive sets (mod
    ``sets``) from ``s`` and a miss moves it by ``step_sets``. A demanded set ``p`` at ring
    distance ``d = (p - s) mod sets >= active_sets`` costs ``ceil((d - A + 1)/step)`` refills
    (a set just behind the window walks it round the ring). Folds run column fold outer, row
    fold inner. Diagonal operands (os/ws ifmap, os/is filter) demand each fold in ascending
    stream order from its first to its last word: one step per fold. Row-block operands (ws
    filter, is ifmap) demand a fold's rows top row first, each row ascending; the replay jumps
    from one missing row to the next (rows in between lie inside the window). Returns the
    refills and whether the replay finished within ``max_events`` steps. With ``events`` (a
    list), also appends ``(pair, demand line)`` arrays, one entry per refill: the demand-matrix
    line whose request triggers it (``fold_lines`` lines per fold; a diagonal operand's
    stream starts at line ``diag_line0`` of its fold, a row-block row ``k`` sits on line
    ``Rows - 1 - (k - first row of the fold)``).
    """
    size = sr.shape[0]
    refills = np.zeros(size, dtype=np.int64)
    done = np.zeros(size, dtype=bool)
    rf = _ceil_div(sr, rr)
    cf = _ceil_div(sc, cc)
    folds = rf * cf
    idx = np.arange(size)
    s: IntArray = np.zeros(size, dtype=np.int64)
    miss: IntArray = np.zeros(size, dtype=np.int64)
    fold = np.zeros(size, dtype=np.int64)
    line = np.full(size, -1, dtype=np.int64)
    one = np.ones(1, dtype=np.int64)
    for _ in range(max_events):
        if idx.size == 0:
            break
        rb, colb = rowblock[idx], block_is_col_fold[idx]
        t_, r_, c_, sr_, sc_ = t[idx], rr[idx], cc[idx], sr[idx], sc[idx]
        e, n, a, p = elems_per_set[idx], sets[idx], active_sets[idx], step_sets[idx]
        rf_, cf_ = rf[idx], cf[idx]
        fc, fr = np.divmod(fold, rf_)
        # Diagonal operands: the fold's first and last word in the stream.
        b = np.where(colb, fc, fr)
        g = np.where(colb, cf_, rf_)
        w = np.where(colb, c_, r_)
        ul = np.where(colb, sc_ - (cf_ - 1) * c_, sr_ - (rf_ - 1) * r_)
        ub = np.where(b < g - 1, w, ul)
        first = _diag_word(b * t_, 0 * b, t_, g, w, ul)
        last = _diag_word(b * t_ + t_ - 1, ub - 1, t_, g, w, ul)
        # Row-block operands: row ``k`` of column block ``fc`` is words base + k*u .. + u - 1.
        u = np.minimum(c_, sc_ - fc * c_)
        base = fc * sr_ * c_
        bottom = fr * r_
        k = np.where(line < 0, bottom + np.minimum(r_, sr_ - bottom) - 1, line)
        lo = np.where(rb, base + k * u, first) // e
        hi = np.where(rb, base + k * u + u - 1, last) // e
        d = (lo - s) % n
        k1 = np.where(d >= a, _ceil_div(d - a + 1, p), 0)
        s = _i64((s + k1 * p) % n)
        off = (lo - s) % n
        rel = off + hi - lo
        k2 = np.where(rel >= a, _ceil_div(rel - a + 1, p), 0)
        s = _i64((s + k2 * p) % n)
        miss = miss + k1 + k2
        if events is not None and fold_lines is not None and diag_line0 is not None:
            base_line = fold * fold_lines[idx]
            walk_line = np.where(rb, base_line + r_ - 1 - (k - bottom), base_line + diag_line0[idx])
            _emit(events, idx, walk_line, np.where(rb, k1 + k2, k1))
            dg = ~rb & (k2 > 0)
            if np.any(dg):
                q_max = int(k2[dg].max())
                q = np.arange(q_max)[None, :]
                sel = dg[:, None] & (q < k2[:, None])
                pi, qi = np.nonzero(sel)
                thr = (lo - off)[pi] + a[pi] + qi * p[pi]
                j = _first_line_reaching(
                    thr * e[pi], b[pi] * t_[pi], t_[pi], g[pi], w[pi], ul[pi], ub[pi]
                )
                _emit(events, idx[pi], base_line[pi] + diag_line0[idx][pi] + j, np.ones_like(j))
        # Next row that misses: the first one (going down) starting below the window.
        win = lo - off + k2 * p
        nxt = np.minimum(k - 1, _ceil_div(win * e - base, np.maximum(u, one)) - 1)
        fold_done = ~rb | (nxt < bottom)
        fold = fold + fold_done
        line = np.where(fold_done, -1, nxt)
        fin = fold >= folds[idx]
        if np.any(fin):
            refills[idx[fin]] = miss[fin]
            done[idx[fin]] = True
            keep = ~fin
            idx, s, miss, fold, line = idx[keep], s[keep], miss[keep], fold[keep], line[keep]
    return refills, done


def _emit(
    events: list[tuple[IntArray, IntArray]], pair: IntArray, line: IntArray, count: IntArray
) -> None:
    """Append ``count`` refill events at ``line`` for each ``pair`` (local indices)."""
    if np.any(count > 0):
        events.append((np.repeat(pair, count), np.repeat(line, count)))


def _first_line_reaching(
    word: IntArray,
    row0: IntArray,
    t: IntArray,
    g: IntArray,
    w: IntArray,
    ul: IntArray,
    ub: IntArray,
) -> IntArray:
    """First stream line ``j`` of a diagonal fold (rows ``row0 .. row0 + t - 1``, ``ub`` used
    columns) whose last demanded word (lowest row of anti-diagonal ``row0 + j``) is ``>= word``;
    binary search over ``j`` in ``[0, t + ub - 2]``."""
    lo = np.zeros_like(word)
    hi = t + ub - 2
    while np.any(lo < hi):
        mid = (lo + hi) // 2
        d = row0 + mid
        r = np.maximum(row0, d - ub + 1)
        last = _diag_word(r, d - r, t, g, w, ul)
        ok = last >= word
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid + 1)
    return lo


def _user_ring(
    need: BoolArray,
    sram_words: IntArray,
    valid_words: IntArray,
    rowblock: BoolArray,
    block_is_col_fold: BoolArray,
    dims: tuple[IntArray, IntArray, IntArray, IntArray, IntArray],
    max_events: int,
    fold_lines: IntArray,
    diag_line0: IntArray,
) -> tuple[IntArray, BoolArray, tuple[IntArray, IntArray]]:
    """Run :func:`_ring_refills` on the pairs in ``need`` (USER mode, prefetch beyond the active
    half); returns full-shape refills, a mask of the pairs it finished and the refill events
    ``(flat pair index, demand line)``, one per refill."""
    refills = np.zeros(need.shape, dtype=np.int64)
    replayed = np.zeros(need.shape, dtype=bool)
    empty = np.zeros(0, dtype=np.int64)
    if not np.any(need) or max_events <= 0:
        return refills, replayed, (empty, empty)
    sel = need  # boolean mask indexing also works on 0-d arrays
    sr, sc, t, rr, cc = (x[sel] for x in dims)
    words = sram_words[sel]
    e = np.maximum(_ceil_div(words, _i64(100)), 1)
    active = _ceil_div(words, _i64(2))
    n = valid_words[sel] // e + 1
    a = np.minimum(_ceil_div(active, e), n)
    p = np.maximum(np.minimum(_ceil_div(words - active, e), n - a), 1)
    events: list[tuple[IntArray, IntArray]] = []
    got, ok = _ring_refills(
        rowblock[sel],
        block_is_col_fold[sel],
        sr,
        sc,
        t,
        rr,
        cc,
        e,
        n,
        a,
        p,
        max_events,
        fold_lines[sel],
        diag_line0[sel],
        events,
    )
    refills[sel] = got
    replayed[sel] = ok
    flat = np.flatnonzero(np.reshape(need, -1))
    if events:
        pair = flat[np.concatenate([x[0] for x in events])]
        line = np.concatenate([x[1] for x in events])
    else:
        pair, line = empty, empty
    return refills, replayed, (_i64(pair), _i64(line))


STALL_REPLAY_MAX_EVENTS = 256
"""Most stall-replay steps (demand lines with read refills, ofmap drains and write stalls) run
per pair; pairs that need more keep the stall estimate (``stall_exact = False``)."""

FAST: dict[str, int] = {"replay_max_events": 0, "stall_max_events": 0}
"""Keyword arguments of :func:`simulate` for native estimates and exploration: SCALE-Sim's
buffer-ring replays off. Compute cycles and SRAM counts stay exact; DRAM refetches and stalls
of operands that overflow their SRAM take the closed-form estimates (flagged by the
``*_exact`` fields), which follow the physics rather than SCALE-Sim's read-buffer artefacts
and run ~40x faster on such pairs. The SCALE-Sim report format uses the default (exact)."""

_INF = np.int64(2**62)
_PAD_SLOTS = 4  # partial ofmap lines remembered by the write-buffer replay


@dataclass(frozen=True)
class _OfmapStream:
    """The ofmap demand of the replayed pairs (1-D, one entry per pair): per fold a band of
    anti-diagonals, ``h`` rows x ``w`` columns, starting at line ``start`` of the fold."""

    is_os: BoolArray
    sr: IntArray
    sc: IntArray
    t: IntArray
    rr: IntArray
    cc: IntArray
    rf: IntArray
    folds: IntArray
    fold_lines: IntArray
    words: IntArray

    def fold(self, f: IntArray) -> tuple[IntArray, IntArray, IntArray, IntArray]:
        """``(h, w, start, writes before fold f)`` (folds: column fold outer, row fold inner)."""
        fc, fr = np.divmod(f, self.rf)
        ur = np.minimum(self.rr, self.sr - fr * self.rr)
        uc = np.minimum(self.cc, self.sc - fc * self.cc)
        h = np.where(self.is_os, ur, self.t)
        start = np.where(self.is_os, self.t - 1 + self.rr - ur, 2 * self.rr - 1)
        base = np.where(
            self.is_os,
            fc * self.sr * self.cc + fr * self.rr * uc,
            fc * self.rf * self.t * self.cc + fr * self.t * uc,
        )
        return _i64(h), _i64(uc), _i64(start), _i64(base)

    @staticmethod
    def band(j: IntArray, h: IntArray, w: IntArray) -> IntArray:
        """Writes on band lines ``0..j``: cells ``r + c <= j`` of an ``h x w`` block."""
        return _i64(_tri(j + 1, h) - _tri(j + 1 - w, h))

    def line_of(self, n: IntArray) -> IntArray:
        """Demand line of the ``n``-th ofmap write (1-based); ``_INF`` beyond the last."""
        nn = np.clip(n, 1, self.words) - 1
        col_block = np.where(self.is_os, self.sr * self.cc, self.rf * self.t * self.cc)
        fc = np.minimum(nn // col_block, _ceil_div(self.sc, self.cc) - 1)
        rest = nn - fc * col_block
        uc = np.minimum(self.cc, self.sc - fc * self.cc)
        fold_words = np.where(self.is_os, self.rr * uc, self.t * uc)
        fr = np.minimum(rest // fold_words, self.rf - 1)
        f = fc * self.rf + fr
        h, w, start, base = self.fold(f)
        m = nn - base
        lo = np.zeros_like(m)
        hi = h + w - 2
        while np.any(lo < hi):
            mid = (lo + hi) // 2
            ok = self.band(mid, h, w) > m
            hi = np.where(ok, mid, hi)
            lo = np.where(ok, lo, mid + 1)
        return np.where(n > self.words, _INF, f * self.fold_lines + start + lo)

    def before(self, i: IntArray) -> IntArray:
        """Ofmap writes on demand lines ``< i``."""
        f = np.minimum(i // self.fold_lines, self.folds - 1)
        h, w, start, base = self.fold(f)
        jj = i - f * self.fold_lines - start
        got = base + np.where(jj > 0, self.band(jj - 1, h, w), 0)
        return np.where(i >= self.folds * self.fold_lines, self.words, got)

    def next_line(self, i: IntArray) -> IntArray:
        """First demand line ``>= i`` with an ofmap write (``_INF`` if none)."""
        i = np.maximum(i, 0)
        f = np.minimum(i // self.fold_lines, self.folds - 1)
        h, w, start, _ = self.fold(f)
        jj = i - f * self.fold_lines - start
        f2 = np.minimum(f + 1, self.folds - 1)
        _, _, start2, _ = self.fold(f2)
        nxt = np.where(f + 1 < self.folds, (f + 1) * self.fold_lines + start2, _INF)
        return np.where(jj < 0, f * self.fold_lines + start, np.where(jj >= h + w - 1, nxt, i))


def _group_refills(
    pairs: IntArray, events: tuple[tuple[IntArray, IntArray], tuple[IntArray, IntArray]]
) -> tuple[IntArray, IntArray, IntArray, IntArray, IntArray, IntArray, IntArray, IntArray]:
    """Refill events of both read buffers grouped by (pair, demand line), sorted.

    ``pairs`` are the sorted flat indices of the replayed pairs. Returns per group its line,
    refills of each buffer on it and refills of each buffer before it, and per pair the first
    group and the number of groups."""
    (ip, il), (fp, fl) = events
    pair = np.searchsorted(pairs, np.concatenate([ip, fp]))
    line = np.concatenate([il, fl])
    buf = np.concatenate([np.zeros(ip.size, np.int64), np.ones(fp.size, np.int64)])
    order = np.lexsort((line, pair))
    pair, line, buf = pair[order], line[order], buf[order]
    new = np.ones(pair.size, dtype=bool)
    new[1:] = (pair[1:] != pair[:-1]) | (line[1:] != line[:-1])
    gid = np.cumsum(new) - 1
    groups = int(gid[-1]) + 1 if gid.size else 0
    g_pair = pair[new]
    g_line = line[new]
    r_if = _i64(np.bincount(gid, weights=buf == 0, minlength=groups))
    r_fi = _i64(np.bincount(gid, weights=buf == 1, minlength=groups))
    first = np.searchsorted(g_pair, np.arange(pairs.size))
    count = np.searchsorted(g_pair, np.arange(pairs.size), side="right") - first
    cum_if, cum_fi = np.cumsum(r_if) - r_if, np.cumsum(r_fi) - r_fi
    k0_if = cum_if - cum_if[np.minimum(first, max(groups - 1, 0))][g_pair] if groups else cum_if
    k0_fi = cum_fi - cum_fi[np.minimum(first, max(groups - 1, 0))][g_pair] if groups else cum_fi
    return g_line, r_if, r_fi, _i64(k0_if), _i64(k0_fi), _i64(first), _i64(count), g_pair


def _read_line_stall(c: IntArray, k0: IntArray, r: IntArray, lines: IntArray) -> IntArray:
    """Stall of one read buffer on a demand line at cycle ``c`` with refills ``k0+1 .. k0+r``.

    ``read_buffer.service_reads``: the offset starts at the hit latency (1); per refill
    ``pot = ready - (c + offset)``, ``offset += pot`` and once more if ``pot > 0`` (so an early
    refill lowers it); refill ``k`` is ready at ``-1 + k*(lines + 1)``. Returns offset - 1."""
    o = np.ones_like(c)
    for q in range(int(r.max()) if r.size else 0):
        x = -1 + (k0 + q + 1) * (lines + 1) - c
        o = np.where(q < r, x + np.maximum(x - o, 0), o)
    return o - 1


def _stall_replay(
    pairs: IntArray,
    read_events: tuple[tuple[IntArray, IntArray], tuple[IntArray, IntArray]],
    refill_lines: tuple[IntArray, IntArray],
    write: BoolArray,
    ofmap: _OfmapStream,
    buf_words: IntArray,
    drain_bw: IntArray,
    max_events: int,
) -> tuple[IntArray, BoolArray]:
    """Stall cycles of SCALE-Sim's ``service_memory_requests`` for the pairs ``pairs`` (sorted
    flat indices; every other argument is 1-D over them), replayed over the demand lines where
    something happens, in line order.

    Per demand line ``i`` (cycle ``c = i + S``, ``S`` the stalls so far) SCALE-Sim adds
    ``max(ifmap, filter, ofmap stall)``. Read stalls come from the refills triggered on the
    line (``read_events``, see :func:`_read_line_stall`); lines without refills stall 0 (an
    early refill's negative stall is clipped by the max). Writes (pairs in ``write``): the
    ofmap ``write_buffer`` holds ``B`` words; a drain starts at the first write, at or after
    the previous drain's end ``E``, that leaves more than ``D = B - ceil(B/2)`` words held, and
    takes ``ceil(D/bw)`` trace lines (``bw``-word lines; the partial line is flushed, padding
    included, at each drain) for ``E = start + lines``; it frees the lines' slots except the
    padding of its last line. A write that fills the buffer before ``E`` stalls the array until
    ``E`` and the next write starts the next drain. Returns the stalls and whether the pair
    finished within ``max_events`` steps."""
    size = pairs.size
    g_line, r_if, r_fi, k0_if, k0_fi, g_first, g_count, _ = _group_refills(pairs, read_events)
    nl_if, nl_fi = refill_lines
    half = _ceil_div(buf_words, _i64(2))
    drain = buf_words - half
    drain_lines = np.maximum(_ceil_div(drain, drain_bw), 1)
    stall = np.zeros(size, dtype=np.int64)
    ptr = np.zeros(size, dtype=np.int64)
    n_k = np.zeros(size, dtype=np.int64)
    free = buf_words.copy()
    end = np.zeros(size, dtype=np.int64)
    n_o = np.where(write, drain + 1, _INF)
    n_s = np.where(write, buf_words, _INF)
    pad_tot = np.zeros(size, dtype=np.int64)
    drained = np.zeros(size, dtype=np.int64)
    reg_idx = np.full((size, _PAD_SLOTS), -1, dtype=np.int64)
    reg_pad = np.zeros((size, _PAD_SLOTS), dtype=np.int64)
    done = np.zeros(size, dtype=bool)
    last = np.full(size, -1, dtype=np.int64)
    idx = np.arange(size)
    of = ofmap
    for _ in range(max_events):
        if idx.size == 0:
            break
        sub = _OfmapStream(*(getattr(of, f)[idx] for f in of.__dataclass_fields__))
        s_ = stall[idx]
        has_r = ptr[idx] < g_count[idx]
        gi = np.where(has_r, g_first[idx] + ptr[idx], 0)
        i_r = np.where(has_r, g_line[gi] if g_line.size else 0, _INF)
        # The write buffer's next event: a drain at n_d or a stall at n_s.
        e_ = end[idx]
        no, ns = n_o[idx], n_s[idx]
        lo_line = sub.line_of(no)
        # (not before a line already replayed: S only grows, E - S may fall behind)
        from_line = np.maximum(e_ - s_, last[idx] + 1)
        i_d = np.where(lo_line >= from_line, lo_line, sub.next_line(from_line))
        i_d = np.where(no > sub.words, _INF, i_d)
        n_d = np.where(i_d == lo_line, no, sub.before(np.minimum(i_d, _INF - 1)) + 1)
        n_d = np.where(i_d >= _INF, _INF, n_d)
        is_drain = n_d <= ns
        i_s = sub.line_of(ns)
        i_w = np.where(is_drain, i_d, np.where(ns <= sub.words, i_s, _INF))
        i = np.minimum(i_r, i_w)
        live = i < _INF
        c = i + s_
        # Reads.
        at_r = live & (i == i_r)
        rif = np.where(at_r, r_if[gi] if r_if.size else 0, 0)
        rfi = np.where(at_r, r_fi[gi] if r_fi.size else 0, 0)
        s_if = _read_line_stall(c, k0_if[gi] if k0_if.size else rif, rif, nl_if[idx])
        s_fi = _read_line_stall(c, k0_fi[gi] if k0_fi.size else rfi, rfi, nl_fi[idx])
        # Writes.
        at_w = live & (i == i_w)
        stalled = at_w & ~is_drain
        s_of = np.where(stalled, e_ - c, 0)
        follow = stalled & (ns + 1 <= sub.words)
        follow &= sub.line_of(np.where(follow, ns + 1, 1)) == i
        wait = stalled & ~follow
        n_o[idx[wait]] = ns[wait] + 1
        n_s[idx[wait]] = ns[wait] + 1
        dr = (at_w & is_drain) | follow
        if np.any(dr):
            j = idx[dr]
            n_at = np.where(follow, ns + 1, n_d)[dr]
            t_at = np.where(follow, e_, c)[dr]
            bw = drain_bw[j]
            free_b = free[j] - (n_at - n_k[j])
            slots = n_at + pad_tot[j]
            pad = (bw - slots % bw) % bw
            push = pad > 0
            ri, rp = reg_idx[j], reg_pad[j]
            ri = np.where(push[:, None], np.roll(ri, 1, axis=1), ri)
            rp = np.where(push[:, None], np.roll(rp, 1, axis=1), rp)
            ri[:, 0] = np.where(push, slots // bw, ri[:, 0])
            rp[:, 0] = np.where(push, pad, rp[:, 0])
            reg_idx[j], reg_pad[j] = ri, rp
            pad_tot[j] += pad
            lines_now = (slots + pad) // bw
            nl = np.minimum(drain_lines[j], lines_now - drained[j])
            last_line = drained[j] + nl - 1
            credit = nl * bw - np.sum(np.where(ri == last_line[:, None], rp, 0), axis=1)
            drained[j] += nl
            free[j] = free_b + credit
            n_k[j] = n_at
            end[j] = t_at + nl - 1
            n_o[j] = n_at + np.maximum(free[j] - half[j] + 1, 1)
            n_s[j] = n_at + np.maximum(free[j], 1)
        step = np.maximum(np.maximum(s_if, s_fi), np.maximum(s_of, 0))
        stall[idx] = s_ + np.where(live, step, 0)
        last[idx] = i
        ptr[idx] += at_r
        fin = ~live
        if np.any(fin):
            done[idx[fin]] = True
            idx = idx[~fin]
    return stall, done


def _read_dram(
    user: BoolArray,
    sram_words: IntArray,
    fill_bw: IntArray,
    footprint: IntArray,
    prefetch_words: IntArray,
    prefetch_valid_words: IntArray,
    sram_reads: IntArray,
    passes: IntArray,
    calc_stream: tuple[IntArray, IntArray, IntArray, IntArray],
    calc_exact: BoolArray,
    calc_estimate: IntArray,
    ring: tuple[IntArray, BoolArray, BoolArray],
) -> tuple[IntArray, IntArray, IntArray, BoolArray]:
    """DRAM reads and start/stop cycles of one read SRAM (ifmap or filter).

    CALC mode (``ReadBufferEstimateBw``): 100 sets of ``floor(S/100)`` words; reads follow
    :func:`_calc_epoch_reads` on the operand's demand stream ``calc_stream`` (groups, words per
    group, words of the last group, passes) where ``calc_exact`` (distinct addresses within a
    pass), else ``calc_estimate``. While the distinct words stay below 50 sets every word is
    fetched once and all are prefetched before cycle 0 at 10 words/cycle. USER mode
    (``read_buffer``): the whole prefetch matrix (padding included) is fetched in
    ``fill_bw``-wide lines into the active half if its hashed lines fit there; fetches are
    counted in whole lines. Beyond, each refill fetches the prefetch half: ``ring`` gives the
    replayed refill count (:func:`_ring_refills`), whether the replay ran and whether it is
    exact (distinct addresses); the last refill lands at ``-1 + refills*(lines + 1)``.
    """
    # CALC mode.
    items = sram_words // 100
    epoch = _ACTIVE_SETS * items
    calc_fits = (items > 0) & (footprint < epoch)
    items_safe = np.maximum(items, 1)
    calc_cycles = _ceil_div(_ceil_div(footprint, items_safe) * items_safe, _i64(10))
    groups, d_full, d_last, calc_passes = calc_stream
    epoch_reads = _calc_epoch_reads(epoch, groups, d_full, d_last, calc_passes)
    calc_reads = np.where(
        calc_fits, footprint, np.where(calc_exact & (items > 0), epoch_reads, calc_estimate)
    )
    # USER mode.
    active = _ceil_div(sram_words, _i64(2))
    elems_per_set = np.maximum(_ceil_div(sram_words, _i64(100)), 1)
    user_fits = prefetch_valid_words // elems_per_set + 1 <= _ceil_div(active, elems_per_set)
    lines = np.minimum(_ceil_div(active, fill_bw), _ceil_div(prefetch_words, fill_bw))
    refill_lines = _ceil_div(sram_words - active, fill_bw)
    ring_refills, replayed, ring_exact = ring
    estimate = np.maximum(passes * _ceil_div(prefetch_words, np.maximum(active, 1)) - 1, 0)
    refills = np.where(user_fits, 0, np.where(replayed, ring_refills, estimate))
    user_reads = (lines + refills * refill_lines) * fill_bw
    reads = np.where(user, user_reads, calc_reads)
    start = np.where(user, -lines, -calc_cycles)
    stop = np.where(user, refills * (refill_lines + 1) - 1, -1)
    exact = np.where(
        user, user_fits | (replayed & ring_exact), calc_fits | (calc_exact & (items > 0))
    )
    return reads, start, stop, exact


def simulate(
    m: ArrayLike,
    n: ArrayLike,
    k: ArrayLike,
    *,
    array_rows: ArrayLike,
    array_cols: ArrayLike,
    dataflow: ArrayLike,
    ifmap_sram_kb: ArrayLike = 256,
    filter_sram_kb: ArrayLike = 256,
    ofmap_sram_kb: ArrayLike = 128,
    ifmap_footprint_words: ArrayLike | None = None,
    user_bandwidth: ArrayLike = False,
    bandwidth_words_per_cycle: ArrayLike = 10,
    ifmap_fill_bw_words_per_cycle: ArrayLike = 10,
    filter_fill_bw_words_per_cycle: ArrayLike = 10,
    word_bytes: ArrayLike = 1,
    replay_max_events: int = USER_RING_REPLAY_MAX_EVENTS,
    stall_max_events: int = STALL_REPLAY_MAX_EVENTS,
) -> SystolicResult:
    """Evaluate SCALE-Sim's figures for every broadcast (layer, design point) pair.

    ``m, n, k``: GEMM view of the layers (ofmap pixels, filters, window). Design parameters
    broadcast against them, e.g. layers of shape ``(L, 1)`` and designs of shape ``(1, D)`` give
    ``(L, D)`` results. ``user_bandwidth`` selects SCALE-Sim's ``InterfaceBandwidth = USER``
    mode, where ``bandwidth_words_per_cycle`` is the ofmap drain rate and the read fill rates are
    ``*_fill_bw_words_per_cycle`` (SCALE-Sim's ``IfmapSRAMBankBandwidth`` and
    ``FilterSRAMBankBandwidth``); otherwise (CALC) reads fill at 10 words/cycle and the ofmap
    drains ``array_cols`` words/cycle. ``ifmap_footprint_words`` is the count of distinct ifmap
    words (conv halos overlap; see :func:`conv_gemm_view`), ``m * k`` if omitted. In USER mode
    with read SRAMs smaller than an operand's prefetch matrix the read buffer's ring is replayed
    over the folds (up to ``replay_max_events`` steps per pair; beyond that, or with ``0``, the
    DRAM reads are an estimate).
    """
    if ifmap_footprint_words is None:
        ifmap_footprint_words = _i64(m) * _i64(k)
    arrays = np.broadcast_arrays(
        _i64(m),
        _i64(n),
        _i64(k),
        _i64(array_rows),
        _i64(array_cols),
        dataflow_code(dataflow),
        _i64(ifmap_sram_kb),
        _i64(filter_sram_kb),
        _i64(ofmap_sram_kb),
        _i64(ifmap_footprint_words),
        np.asarray(user_bandwidth, dtype=bool),
        _i64(bandwidth_words_per_cycle),
        _i64(ifmap_fill_bw_words_per_cycle),
        _i64(filter_fill_bw_words_per_cycle),
        _i64(word_bytes),
    )
    mm, nn, kk, rr, cc, df, ikb, fkb, okb, ifp, user, bw, ibw, fbw, wb = arrays
    is_os, is_ws, is_is = df == 0, df == 1, df == 2

    # SCALE-Sim's spatio-temporal mapping: os (Sr, Sc, T) = (M, N, K), ws = (K, N, M),
    # is = (K, M, N).
    sr = np.where(is_os, mm, kk)
    sc = np.where(is_is, mm, nn)
    t = np.where(is_ws, mm, np.where(is_os, kk, nn))
    row_folds = _ceil_div(sr, rr)
    col_folds = _ceil_div(sc, cc)
    folds = row_folds * col_folds
    macs_pe = rr * cc

    # Demand-matrix rows per fold: os streams T, fills R-1 and drains C-1; ws/is also preload
    # the stationary operand (R) and drain the partial sums through the rows.
    fold_lines = np.where(is_os, t + rr + cc - 2, 2 * rr + cc + t - 2)
    compute_cycles = folds * fold_lines - 1  # SCALE-Sim reports the last cycle's index

    # SRAM traffic (SCALE-Sim's request counters).
    a_term = col_folds * t * sr
    b_term = sr * sc
    c_term = row_folds * t * sc
    ifmap_sram = np.where(is_is, b_term, a_term)
    filter_sram = np.where(is_ws, b_term, np.where(is_os, c_term, a_term))
    ofmap_words = np.where(is_os, b_term, c_term)  # real ofmap writes
    ofmap_sram = ofmap_words + np.where(is_os, folds * (rr + cc), 0)  # os counter quirk

    # DRAM reads. Prefetch matrices (USER mode) are padded to whole array rows/cols.
    filt_fp = kk * nn
    pre_if = np.where(is_is, col_folds * cc * sr, row_folds * rr * t)
    val_if = np.where(is_is, b_term, sr * t)
    pre_fi = np.where(
        is_ws, col_folds * cc * sr, np.where(is_os, col_folds * cc * t, row_folds * rr * t)
    )
    val_fi = np.where(is_ws, b_term, np.where(is_os, t * sc, t * sr))
    passes_if = np.where(is_is, 1, col_folds)
    passes_fi = np.where(is_ws, 1, np.where(is_os, row_folds, col_folds))
    ifmap_words = (ikb * 1024) // wb
    filter_words = (fkb * 1024) // wb
    ofmap_buf_words = (okb * 1024) // wb
    fill_calc = _i64(CALC_FILL_BW_WORDS_PER_CYCLE)
    # CALC-mode demand streams (SCALE-Sim folds: column fold outer, row fold inner). ifmap: os
    # and ws cycle through the row folds once per column fold (one group of all its words,
    # col_folds passes); is reads each tile once. filter: os streams each column fold's K x Cols
    # slice row_folds times in a row; ws reads each tile once; is cycles (col_folds passes).
    one = np.ones_like(mm)
    if_words = mm * kk
    if_stream = (one, if_words, if_words, np.where(is_is, 1, col_folds))
    # Distinct addresses within a pass: GEMM-like layers (no halo overlap) only.
    if_distinct = ifp == if_words
    if_estimate = np.where(is_ws, ifmap_sram, np.minimum(ifmap_sram, passes_if * ifp))
    last_cols = nn - (col_folds - 1) * cc
    fi_stream = (
        np.where(is_os, col_folds, 1),
        np.where(is_os, kk * cc, filt_fp),
        np.where(is_os, kk * last_cols, filt_fp),
        np.where(is_os, row_folds, np.where(is_is, col_folds, 1)),
    )
    fi_distinct = np.ones_like(user)
    fi_estimate = filter_sram
    # USER mode, prefetch matrix beyond the active half: replay the read buffer's ring.
    dims = (sr, sc, t, rr, cc)

    def user_fit(words: IntArray, valid: IntArray) -> BoolArray:
        e = np.maximum(_ceil_div(words, _i64(2 * _ACTIVE_SETS)), 1)
        return valid // e + 1 <= _ceil_div(_ceil_div(words, _i64(2)), e)

    if_fit, fi_fit = user_fit(ifmap_words, val_if), user_fit(filter_words, val_fi)
    fold_lines = np.where(is_os, t + rr + cc - 2, 2 * rr + cc + t - 2)
    if_ring, if_replayed, if_events = _user_ring(
        user & ~if_fit & (folds <= replay_max_events),
        ifmap_words,
        val_if,
        is_is,
        np.zeros_like(user),
        dims,
        replay_max_events,
        fold_lines,
        np.where(is_ws, rr, 0),
    )
    fi_ring, fi_replayed, fi_events = _user_ring(
        user & ~fi_fit & (folds <= replay_max_events),
        filter_words,
        val_fi,
        is_ws,
        is_os,
        dims,
        replay_max_events,
        fold_lines,
        np.where(is_is, rr, 0),
    )
    if_reads, if_start, if_stop, if_exact = _read_dram(
        user,
        ifmap_words,
        np.where(user, ibw, fill_calc),
        ifp,
        pre_if,
        val_if,
        ifmap_sram,
        passes_if,
        if_stream,
        if_distinct,
        if_estimate,
        (if_ring, if_replayed, if_distinct),
    )
    fi_reads, fi_start, fi_stop, fi_exact = _read_dram(
        user,
        filter_words,
        np.where(user, fbw, fill_calc),
        filt_fp,
        pre_fi,
        val_fi,
        filter_sram,
        passes_fi,
        fi_stream,
        fi_distinct,
        fi_estimate,
        (fi_ring, fi_replayed, fi_distinct),
    )

    # Stalls. Reads: none while operands fit (everything is prefetched before cycle 0); beyond,
    # each refill of a read buffer blocks the array for about its fill time (estimate).
    # Writes: the ofmap buffer drains ``drain_bw`` words/cycle in batches of half the buffer;
    # once the writes outrun the drain the array waits for each batch (estimate).
    drain_bw = np.where(user, bw, cc)
    if_bw = np.where(user, ibw, fill_calc)
    fi_bw = np.where(user, fbw, fill_calc)
    if_refill_lines = _ceil_div(np.maximum(if_reads + if_start * if_bw, 0), if_bw)
    fi_refill_lines = _ceil_div(np.maximum(fi_reads + fi_start * fi_bw, 0), fi_bw)
    # The refills of the two read buffers overlap in time: the slower one paces the array.
    read_stall = np.where(user, np.maximum(if_refill_lines, fi_refill_lines), 0)
    write_time = _ceil_div(ofmap_words, drain_bw)
    half_buf = ofmap_buf_words - _ceil_div(ofmap_buf_words, _i64(2))
    ofmap_fits = ofmap_words <= half_buf
    first_drain = (compute_cycles * (half_buf + 1)) // np.maximum(ofmap_words, 1)
    overflow = np.maximum(ofmap_words - half_buf - ofmap_buf_words, 0)
    batches = _ceil_div(overflow, np.maximum(half_buf, 1))
    write_done = first_drain + batches * _ceil_div(half_buf, drain_bw)
    write_stall = np.where(ofmap_fits, 0, np.maximum(write_done - compute_cycles, 0))
    stall_cycles = read_stall + write_stall
    stall_exact = (~user | (if_fit & fi_fit)) & ofmap_fits
    # Exact replay of the stalls where reads refill (replayed ring) or the ofmap SRAM drains
    # during the run: only the demand lines where a refill, a drain or a write stall happens.
    reads_known = ~user | ((if_fit | if_replayed) & (fi_fit | fi_replayed))
    drains = _ceil_div(ofmap_words, np.maximum(half_buf, 1))
    write_sel = ~ofmap_fits & (half_buf > 0) & (drains <= stall_max_events // 2)
    read_sel = user & ((if_ring > 0) | (fi_ring > 0))
    replay = reads_known & (read_sel | write_sel) & (stall_max_events > 0)
    if np.any(replay):
        flat = np.flatnonzero(np.reshape(replay, -1))

        def pick_flat(x: ArrayLike) -> npt.NDArray[Any]:
            return np.reshape(np.broadcast_to(x, replay.shape), -1)[flat]

        keep_if, keep_fi = replay.ravel()[if_events[0]], replay.ravel()[fi_events[0]]
        ofmap = _OfmapStream(
            *(
                pick_flat(x)
                for x in (is_os, sr, sc, t, rr, cc, row_folds, folds, fold_lines, ofmap_words)
            )
        )
        got, fin = _stall_replay(
            flat,
            (
                (if_events[0][keep_if], if_events[1][keep_if]),
                (fi_events[0][keep_fi], fi_events[1][keep_fi]),
            ),
            (
                pick_flat(_ceil_div(ifmap_words - _ceil_div(ifmap_words, _i64(2)), ibw)),
                pick_flat(_ceil_div(filter_words - _ceil_div(filter_words, _i64(2)), fbw)),
            ),
            pick_flat(write_sel),
            ofmap,
            pick_flat(ofmap_buf_words),
            pick_flat(drain_bw),
            stall_max_events,
        )
        exact_reads = ~user | ((if_fit | (if_replayed & if_distinct)) & (fi_fit | fi_replayed))
        ok = fin & pick_flat(exact_reads & (ofmap_fits | write_sel))
        stall_flat = np.reshape(stall_cycles.copy(), -1)
        exact_flat = np.reshape(stall_exact.copy(), -1)
        stall_flat[flat] = np.where(fin, got, stall_flat[flat])
        exact_flat[flat] = ok
        stall_cycles = np.reshape(stall_flat, stall_cycles.shape)
        stall_exact = np.reshape(exact_flat, stall_exact.shape)
    total_cycles = compute_cycles + stall_cycles

    # Ofmap drain to DRAM: after the last write (all writes fit the buffer), drain_bw words/cycle.
    of_start = total_cycles
    of_stop = total_cycles + write_time - 1
    incl_prefetch = of_stop - np.minimum(if_start, fi_start)

    # Utilization figures.
    macs = mm * nn * kk
    total_f = np.maximum(total_cycles, 1).astype(np.float64)  # SCALE-Sim divides by 0 here
    utilization = macs / (total_f * macs_pe)
    mapping_eff = b_term / (folds * macs_pe).astype(np.float64)
    util_lines = np.where(is_os, t + rr + cc - 2, 2 * rr + 2 * cc + t - 3)
    compute_util = (b_term * t) / (macs_pe * util_lines * folds).astype(np.float64)

    # First / last SRAM request cycles (reads are served with a 1-cycle hit latency).
    last_off = (folds - 1) * fold_lines
    u_r_last = sr - (row_folds - 1) * rr
    u_c_last = sc - (col_folds - 1) * cc
    u_r_first = np.minimum(rr, sr)
    skew_first = 2 * rr - 1
    ws_if = (rr + 1, last_off + rr + t + u_r_last - 1)
    ws_fi = (rr - u_r_first + 1, last_off + rr)
    ws_of = (skew_first, last_off + skew_first + t + u_c_last - 2)
    os_if = (np.ones_like(rr), last_off + t + u_r_last - 1)
    os_fi = (np.ones_like(rr), last_off + t + u_c_last - 1)
    os_of = (t - 1 + rr - u_r_first, last_off + t + rr + u_c_last - 3)
    is_if = (rr - u_r_first + 1, last_off + rr)
    is_fi = (rr + 1, last_off + rr + t + u_r_last - 1)
    is_of = ws_of

    def pick(os_v: IntArray, ws_v: IntArray, is_v: IntArray) -> IntArray:
        return np.where(is_os, os_v, np.where(is_ws, ws_v, is_v))

    def per_cycle(words: IntArray, span: IntArray) -> FloatArray:
        return words / np.maximum(span, 1).astype(np.float64)

    return SystolicResult(
        row_folds=row_folds,
        col_folds=col_folds,
        folds=folds,
        compute_cycles=compute_cycles,
        stall_cycles=stall_cycles,
        total_cycles=total_cycles,
        total_cycles_incl_prefetch=incl_prefetch,
        utilization=utilization,
        mapping_efficiency=mapping_eff,
        compute_utilization=compute_util,
        ifmap_sram_reads_words=ifmap_sram,
        filter_sram_reads_words=filter_sram,
        ofmap_sram_writes_words=ofmap_sram,
        ifmap_dram_reads_words=if_reads,
        filter_dram_reads_words=fi_reads,
        ofmap_dram_writes_words=ofmap_words,
        ifmap_sram_start_cycle=pick(os_if[0], ws_if[0], is_if[0]),
        ifmap_sram_stop_cycle=pick(os_if[1], ws_if[1], is_if[1]),
        filter_sram_start_cycle=pick(os_fi[0], ws_fi[0], is_fi[0]),
        filter_sram_stop_cycle=pick(os_fi[1], ws_fi[1], is_fi[1]),
        ofmap_sram_start_cycle=pick(os_of[0], ws_of[0], is_of[0]),
        ofmap_sram_stop_cycle=pick(os_of[1], ws_of[1], is_of[1]),
        ifmap_dram_start_cycle=if_start,
        ifmap_dram_stop_cycle=if_stop,
        filter_dram_start_cycle=fi_start,
        filter_dram_stop_cycle=fi_stop,
        ofmap_dram_start_cycle=of_start,
        ofmap_dram_stop_cycle=of_stop,
        avg_ifmap_sram_bw_words_per_cycle=per_cycle(ifmap_sram, total_cycles),
        avg_filter_sram_bw_words_per_cycle=per_cycle(filter_sram, total_cycles),
        avg_ofmap_sram_bw_words_per_cycle=per_cycle(ofmap_sram, total_cycles),
        avg_ifmap_dram_bw_words_per_cycle=per_cycle(if_reads, if_stop - if_start + 1),
        avg_filter_dram_bw_words_per_cycle=per_cycle(fi_reads, fi_stop - fi_start + 1),
        avg_ofmap_dram_bw_words_per_cycle=per_cycle(ofmap_words, of_stop - of_start + 1),
        ifmap_dram_exact=if_exact,
        filter_dram_exact=fi_exact,
        stall_exact=stall_exact,
    )


def result_row(result: SystolicResult, index: Any) -> dict[str, float | int | bool]:
    """One pair's figures as plain Python numbers (for reports and debugging)."""
    out: dict[str, float | int | bool] = {}
    for name in result.__dataclass_fields__:
        value = np.asarray(getattr(result, name))[index]
        out[name] = value.item()
    return out
