"""Exact replay of SCALE-Sim 3.0.0's memory system for one layer on one design point.

:mod:`codesign_playground.perf.systolic` evaluates SCALE-Sim's figures in closed form wherever
the operands fit their SRAMs. Beyond that (read SRAMs smaller than what a layer streams through
them, ofmap SRAMs that drain during the run) SCALE-Sim's DRAM counts and stalls depend on the
exact order of the addresses the array demands, on duplicated conv-window addresses and on its
buffers' bookkeeping quirks. This module rebuilds the address streams SCALE-Sim builds (its
operand, demand and prefetch matrices, vectorized with NumPy) and replays its buffers
(``ReadBufferEstimateBw`` in CALC mode, ``read_buffer`` in USER mode, ``write_buffer`` for the
ofmap, ``double_buffered_scratchpad.service_memory_requests`` for stalls) event by event: only
the demand lines where a buffer refills, drains or stalls are visited. See ``docs/models.md``
("Exact replay") for the rules and the SCALE-Sim quirks they reproduce.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["ReplayResult", "ifmap_prefetch_valid", "replay_layer", "stream_words"]

IntArray = npt.NDArray[np.int64]
SetArray = npt.NDArray[np.int32]

_ACTIVE_FRAC_SETS = 50  # SCALE-Sim: 100 sets per read SRAM, active fraction 0.5
_HIT_LATENCY = 1  # read buffers serve a hit one cycle after the request
_PORT_LATENCY = 1  # read_port latency (DRAM side)


@dataclass(frozen=True)
class ReplayResult:
    """SCALE-Sim's figures that depend on the memory replay (one layer, one design point)."""

    stall_cycles: int
    total_cycles: int
    ifmap_dram_reads_words: int
    filter_dram_reads_words: int
    ofmap_dram_writes_words: int
    ifmap_dram_start_cycle: int
    ifmap_dram_stop_cycle: int
    filter_dram_start_cycle: int
    filter_dram_stop_cycle: int
    ofmap_dram_start_cycle: int
    ofmap_dram_stop_cycle: int
    ifmap_sram_start_cycle: int
    ifmap_sram_stop_cycle: int
    filter_sram_start_cycle: int
    filter_sram_stop_cycle: int
    ofmap_sram_start_cycle: int
    ofmap_sram_stop_cycle: int


@dataclass(frozen=True)
class _Layer:
    ih: int
    iw: int
    fh: int
    fw: int
    ch: int
    nf: int
    sh: int
    sw: int

    @property
    def oh(self) -> int:
        return -(-(self.ih - self.fh + self.sh) // self.sh)

    @property
    def ow(self) -> int:
        return -(-(self.iw - self.fw + self.sw) // self.sw)


def _ifmap_addr(layer: _Layer, i: IntArray, j: IntArray) -> IntArray:
    """SCALE-Sim's ``operand_matrix.calc_ifmap_elem_addr`` (offset 0): ifmap operand element
    ``(ofmap pixel i, window position j)``, ``-1`` where the window leaves the ifmap.

    The address splits into a pixel part and a window part, so the divisions and the bounds
    run on ``i`` and ``j`` alone; only one add, two compares and a select run on their
    broadcast shape (``i`` and ``j`` are usually small arrays broadcasting to a large one)."""
    orow, ocol = np.divmod(i, layer.ow)
    irow, icol = orow * layer.sh, ocol * layer.sw
    crow, k = np.divmod(j, layer.fw * layer.ch)
    ccol, cch = np.divmod(k, layer.ch)
    pixel = (irow * layer.iw + icol) * layer.ch
    window = (crow * layer.iw + ccol) * layer.ch + cch
    valid = (crow < layer.ih - irow) & (ccol < layer.iw - icol)
    return np.where(valid, pixel + window, -1).astype(np.int64, copy=False)


def _filter_addr(layer: _Layer, k: IntArray, n: IntArray) -> IntArray:
    """SCALE-Sim's ``calc_filter_elem_addr`` (offset 0): window position ``k`` of filter ``n``."""
    return (n * (layer.fh * layer.fw * layer.ch) + k).astype(np.int64, copy=False)


@dataclass(frozen=True)
class _Geometry:
    """SCALE-Sim's mapping: os ``(Sr, Sc, T) = (M, N, K)``, ws ``(K, N, M)``, is ``(K, M, N)``."""

    df: str
    m: int
    n: int
    k: int
    rows: int
    cols: int

    @property
    def sr(self) -> int:
        return self.m if self.df == "os" else self.k

    @property
    def sc(self) -> int:
        return self.m if self.df == "is" else self.n

    @property
    def t(self) -> int:
        return {"os": self.k, "ws": self.m, "is": self.n}[self.df]

    @property
    def rf(self) -> int:
        return -(-self.sr // self.rows)

    @property
    def cf(self) -> int:
        return -(-self.sc // self.cols)

    @property
    def fold_lines(self) -> int:
        r, c = self.rows, self.cols
        return self.t + r + c - 2 if self.df == "os" else 2 * r + c + self.t - 2

    @property
    def lines(self) -> int:
        return self.rf * self.cf * self.fold_lines


def _sorted_unique(x: IntArray) -> IntArray:
    """``np.unique(x)`` for int64 by ``np.sort`` (NumPy 2.x's hash-based ``np.unique`` is an
    order of magnitude slower than its SIMD sort on the million-word streams seen here)."""
    s = np.sort(x)
    if s.size == 0:
        return s
    return s[np.concatenate(([True], s[1:] != s[:-1]))]


def _grid(*shape: int) -> list[IntArray]:
    return [x.astype(np.int64).ravel() for x in np.indices(shape)]


def stream_words(geo: _Geometry) -> tuple[int, int, int]:
    """Words of the ifmap, filter and ofmap demand streams (SCALE-Sim's SRAM counters)."""
    sr, sc, t = geo.sr, geo.sc, geo.t
    a, b, c = geo.cf * t * sr, sr * sc, geo.rf * t * sc
    if geo.df == "os":
        return a, c, b
    if geo.df == "ws":
        return a, b, c
    return b, a, c


def _fold_use(geo: _Geometry) -> tuple[IntArray, IntArray]:
    """Used array rows per row fold and used columns per column fold."""
    ur = np.minimum(geo.rows, geo.sr - geo.rows * np.arange(geo.rf, dtype=np.int64))
    uc = np.minimum(geo.cols, geo.sc - geo.cols * np.arange(geo.cf, dtype=np.int64))
    return ur, uc


def _skew_order(t: int, w: int) -> tuple[IntArray, IntArray]:
    """Stream position ``tt < t`` and column ``cc < w`` of a skewed ``t x w`` operand in demand
    order: by demand-line offset ``tt + cc``, then column (all pairs, used or not), enumerated
    directly on a (line offset, column) grid."""
    d, cc = _grid(t + w - 1, w)
    tt = d - cc
    ok = (tt >= 0) & (tt < t)
    return tt[ok], cc[ok]


def _ofmap_counts(geo: _Geometry) -> IntArray:
    """Ofmap writes per demand line. Within a fold the writes of line offset ``d`` are the
    (row, column) or (stream position, column) pairs on that anti-diagonal, counted in closed
    form; folds differ only in the used rows/columns (the last row/column fold), so each of
    the at most four fold shapes is counted once and broadcast."""
    r_, t, fl = geo.rows, geo.t, geo.fold_lines
    ur, uc = _fold_use(geo)
    d = np.arange(fl, dtype=np.int64)
    if geo.df == "os":
        # line offset t-1 + (R-1-rr) + cc, rr < ur, cc < uc
        e = (d - (t - 1))[None, None, :]
        lo = np.maximum(0, e - r_ + 1)
        hi = np.minimum(uc[:, None, None] - 1, e - r_ + ur[None, :, None])
    else:
        # line offset 2R-1 + tt + cc, tt < t, cc < uc
        e = (d - (2 * r_ - 1))[None, None, :]
        lo = np.maximum(0, e - t + 1)
        hi = np.minimum(uc[:, None, None] - 1, e)  # the same for every row fold
    counts: IntArray = np.maximum(0, hi - lo + 1).astype(np.int64, copy=False)
    return np.broadcast_to(counts, (geo.cf, geo.rf, fl)).ravel()


def _demand(geo: _Geometry, layer: _Layer, operand: str) -> tuple[IntArray, IntArray]:
    """The demand stream of ``operand`` (``ifmap`` or ``filter``) in SCALE-Sim's order (demand
    line, then column): ``(line, address)`` arrays of the valid requests.

    All folds at once: every fold's requests are laid out in demand order on a ``(column
    folds, row folds, positions)`` grid (the positions of one fold, ordered once), the unused
    rows/columns of the last folds and the conv-window positions off the ifmap are masked out,
    and the C-order selection keeps fold, then line, then column order (folds occupy disjoint,
    increasing line ranges). Where the addresses ignore the column fold, the requests are
    selected once and repeated over the column folds."""
    r_, c_, t, fl = geo.rows, geo.cols, geo.t, geo.fold_lines
    rf, cf, df = geo.rf, geo.cf, geo.df
    ur, uc = _fold_use(geo)
    fr = np.arange(rf, dtype=np.int64)[None, :, None]
    fc = np.arange(cf, dtype=np.int64)[:, None, None]
    skewed = not ((operand == "ifmap" and df == "is") or (operand == "filter" and df == "ws"))
    if skewed:
        by_row = not (operand == "filter" and df == "os")  # columns are array rows
        tt1, cc1 = _skew_order(t, int(ur[0]) if by_row else int(uc[0]))  # widest fold
        tt, cc = tt1[None, None, :], cc1[None, None, :]
        used = cc < (ur[None, :, None] if by_row else uc[:, None, None])
        off = (r_ if df != "os" else 0) + tt + cc  # line within the fold
        if operand == "ifmap" and df == "ws":
            addr = _ifmap_addr(layer, tt, fr * r_ + cc)
        elif operand == "ifmap":  # os
            addr = _ifmap_addr(layer, fr * r_ + cc, tt)
        elif df == "os":
            addr = _filter_addr(layer, tt, fc * c_ + cc)
        else:  # is filter: transposed row block, prefix R
            addr = _filter_addr(layer, fr * r_ + cc, tt)
    else:  # block operand (K-rows x cols), flipped: line offset R-1-rr, rows descending
        w_r, w_c = int(ur[0]), int(uc[0])  # the widest fold's used rows and columns
        rr = np.repeat(np.arange(w_r - 1, -1, -1, dtype=np.int64), w_c)[None, None, :]
        cc = np.tile(np.arange(w_c, dtype=np.int64), w_r)[None, None, :]
        used = (rr < ur[None, :, None]) & (cc < uc[:, None, None])
        off = r_ - 1 - rr
        if operand == "ifmap":  # is
            addr = _ifmap_addr(layer, fc * c_ + cc, fr * r_ + rr)
        else:  # ws filter
            addr = _filter_addr(layer, fr * r_ + rr, fc * c_ + cc)
    n_pos = used.shape[2]
    if addr.shape[0] == used.shape[0] == 1:
        # The same requests in every column fold (ws/os ifmap, is filter): select them once
        # for column fold 0 and repeat them, line-shifted by one column fold each time.
        keep = np.broadcast_to(used & (addr >= 0), (1, rf, n_pos))
        line0 = np.broadcast_to(fr * fl + off, keep.shape)[keep]
        addr0 = np.broadcast_to(addr, keep.shape)[keep]
        shift = np.arange(cf, dtype=np.int64)[:, None] * (rf * fl)
        return (line0[None, :] + shift).ravel(), np.tile(addr0, cf)
    shape = (cf, rf, n_pos)
    keep = np.broadcast_to(used, shape) & np.broadcast_to(addr >= 0, shape)
    line = (fc * rf + fr) * fl + off
    return np.broadcast_to(line, shape)[keep], np.broadcast_to(addr, shape)[keep]


def _diagonal(mat: IntArray) -> IntArray:
    """The valid (``>= 0``) entries of a prefetch matrix in SCALE-Sim's diagonal order
    (anti-diagonals ``r + c`` ascending, rows descending within one).

    The matrix is sheared in place of being indexed: with ``n - 1`` sentinel rows (``-2``)
    above and below, the strided view ``sheared[d, c] = mat[d - c, c]`` (row stride ``n``,
    column stride ``-(n - 1)`` elements) lists every anti-diagonal as one row, column
    ascending; reading it in C order and dropping the sentinels and padding gives the
    stream in two passes."""
    m, n = mat.shape
    pad = np.full((n - 1, n), -2, dtype=np.int64)
    q = np.concatenate([pad, mat, pad]).ravel()
    item = q.itemsize
    sheared = np.lib.stride_tricks.as_strided(
        q[(n - 1) * n :], shape=(m + n - 1, n), strides=(n * item, -(n - 1) * item), writeable=False
    )
    return sheared[sheared >= 0]


def _prefetch(geo: _Geometry, layer: _Layer, operand: str) -> tuple[IntArray, int]:
    """The prefetch matrix of a read SRAM (USER mode): its valid addresses in SCALE-Sim's
    fetch order and its size (padding included). SCALE-Sim stacks one block per row fold (or
    column fold), ``-1`` where a block's last fold leaves columns unused; the blocks are built
    at once on a ``(fold, row, column)`` grid."""
    r_, c_, t = geo.rows, geo.cols, geo.t
    df = geo.df
    ur, uc = _fold_use(geo)
    if operand == "ifmap":
        blocks = _ifmap_blocks(geo, layer)
        if df in ("ws", "os"):
            mat = blocks.reshape(-1, r_)
            return _diagonal(mat), mat.size
        return blocks[blocks >= 0], blocks.size  # is: row-major
    if df in ("ws", "os"):  # filter column blocks (K x C): ws row-major, os diagonal
        fcol = np.arange(geo.cf, dtype=np.int64)[:, None, None]
        kk = np.arange(layer.fh * layer.fw * layer.ch, dtype=np.int64)[None, :, None]
        cc = np.arange(c_, dtype=np.int64)[None, None, :]
        a = _filter_addr(layer, kk, np.minimum(fcol * c_ + cc, geo.sc - 1))
        mat = np.where(cc < uc[:, None, None], a, -1).reshape(-1, c_)
        return (mat[mat >= 0] if df == "ws" else _diagonal(mat)), mat.size
    # is filter: transposed row blocks (N x R), diagonal
    fr = np.arange(geo.rf, dtype=np.int64)[:, None, None]
    tt = np.arange(t, dtype=np.int64)[None, :, None]
    cc = np.arange(r_, dtype=np.int64)[None, None, :]
    a = _filter_addr(layer, np.minimum(fr * r_ + cc, geo.sr - 1), tt)
    mat = np.where(cc < ur[:, None, None], a, -1).reshape(-1, r_)
    return _diagonal(mat), mat.size


def _ifmap_blocks(geo: _Geometry, layer: _Layer) -> IntArray:
    """The ifmap prefetch matrix (USER mode) as its blocks, ``(blocks, rows, columns)``: ws/os
    one ``T x Rows`` block per row fold (read along anti-diagonals of the stacked blocks), is
    one ``K x Cols`` block of ifmap^T per column fold (row-major); ``-1`` where a window leaves
    the ifmap, ``-2`` in the columns a block's last fold leaves unused (SCALE-Sim's ``-1``
    padding: neither is fetched)."""
    r_, c_, t = geo.rows, geo.cols, geo.t
    ur, uc = _fold_use(geo)
    if geo.df in ("ws", "os"):
        fr = np.arange(geo.rf, dtype=np.int64)[:, None, None]
        tt = np.arange(t, dtype=np.int64)[None, :, None]
        cc = np.arange(r_, dtype=np.int64)[None, None, :]
        col = np.minimum(fr * r_ + cc, geo.sr - 1)
        a = _ifmap_addr(layer, tt, col) if geo.df == "ws" else _ifmap_addr(layer, col, tt)
        return np.where(cc < ur[:, None, None], a, -2)
    fcol = np.arange(geo.cf, dtype=np.int64)[:, None, None]
    kk = np.arange(geo.sr, dtype=np.int64)[None, :, None]
    cc = np.arange(c_, dtype=np.int64)[None, None, :]
    a = _ifmap_addr(layer, np.minimum(fcol * c_ + cc, geo.sc - 1), kk)
    return np.where(cc < uc[:, None, None], a, -2)


def ifmap_prefetch_valid(
    *,
    ifmap_h: int,
    ifmap_w: int,
    filter_h: int,
    filter_w: int,
    channels: int,
    stride_h: int,
    stride_w: int,
    array_rows: int,
    array_cols: int,
    dataflow: str,
) -> npt.NDArray[np.int8]:
    """The blocks of the ifmap prefetch matrix SCALE-Sim's USER mode builds for a conv (see
    :func:`_prefetch`), ``(blocks, rows, columns)``: ``1`` where the entry has an address,
    ``0`` where its window leaves the ifmap (a ``-1`` address, dropped from the prefetch
    stream), ``-1`` in the unused columns of the last block (padding). ws/os: blocks per row
    fold, ``T x Rows``, read along the anti-diagonals of the stacked blocks; is: blocks per
    column fold, ``K x Cols``, row-major."""
    layer = _Layer(ifmap_h, ifmap_w, filter_h, filter_w, channels, 1, stride_h, stride_w)
    k = filter_h * filter_w * channels
    geo = _Geometry(dataflow, layer.oh * layer.ow, 1, k, array_rows, array_cols)
    blocks = _ifmap_blocks(geo, layer)
    return np.where(blocks == -2, -1, blocks >= 0).astype(np.int8)


def _calc_reads(addr: IntArray, line: IntArray, sram_words: int) -> tuple[int, IntArray]:
    """``ReadBufferEstimateBw``: insertions (= DRAM reads) and the demand-line index of each
    epoch flip. A request inserts its address unless it is in the current epoch (the completed
    sets since the last flip plus the filling set); the epoch flips when it holds
    ``50 * floor(S/100)`` insertions."""
    items = sram_words // 100
    n = addr.size
    if n == 0:
        return 0, np.zeros(0, dtype=np.int64)
    if items <= 0:
        raise ValueError("SRAM below 100 words")
    epoch = _ACTIVE_FRAC_SETS * items
    # Each request's previous occurrence of its address: requests ordered by (address, index)
    # with one sort of ``address << bits | index`` (NumPy's SIMD sort; a stable argsort of the
    # addresses is several times slower).
    bits = max(1, (n - 1).bit_length())
    key = np.sort(_pack(addr, np.arange(n, dtype=np.int64), bits))
    order = key & ((1 << bits) - 1)
    sa = key >> bits
    prev_sorted = np.full(n, -1, dtype=np.int64)
    prev_sorted[1:] = np.where(sa[1:] == sa[:-1], order[:-1], -1)
    prev = np.empty(n, dtype=np.int64)
    prev[order] = prev_sorted
    # From each epoch start p, the flip is the epoch-th request with prev < p, searched in a
    # window sized from the previous epoch's length (doubled until it holds the flip).
    p = 0
    reads = 0
    flips: list[int] = []
    span = max(2 * epoch, 4096)
    while p < n:
        q_end = min(n, p + span)
        while True:
            ins = np.flatnonzero(prev[p:q_end] < p)
            if ins.size >= epoch:
                q = p + int(ins[epoch - 1])
                reads += epoch
                flips.append(int(line[q]))
                span = max(epoch, (q + 1 - p) * 5 // 4 + 64)
                p = q + 1
                break
            if q_end == n:
                reads += ins.size
                p = n
                break
            q_end = min(n, p + 2 * (q_end - p))
    return reads, np.asarray(flips, dtype=np.int64)


def _pack(hi: IntArray, lo: IntArray, bits: int) -> IntArray:
    """``hi << bits | lo`` for non-negative ``hi`` and ``0 <= lo < 2**bits``: a sort key that
    orders by ``hi``, then ``lo``, in one int64 (checked not to overflow)."""
    if hi.size and int(hi.max()) >= 1 << (62 - bits):
        raise ValueError("sort key overflows int64")
    return (hi << bits) | lo


def _user_refills(
    addr: IntArray,
    line: IntArray,
    valid: IntArray,
    prefetch_size: int,
    sram_words: int,
    bw: int,
) -> tuple[IntArray, int, int, int]:
    """USER-mode ``read_buffer``: the demand line of every refill (``new_prefetch``), the lines
    of the first fill, the lines per refill and the number of fetch-matrix lines, for the
    demand ``(line, addr)`` and the prefetch matrix's ``valid`` addresses (fetch order) out of
    ``prefetch_size`` entries.

    The fetch matrix (prefetch stream in ``bw``-wide lines) is hashed into sets of
    ``ceil(S/100)`` valid entries (duplicates counted); ``A`` sets are active, a miss moves the
    window ``P`` sets round the ring. A request hits if any set holding its address lies in the
    window."""
    total = sram_words
    active = math.ceil(total * 0.5)
    pre_size = total - active
    eps = math.ceil(total / 100)
    fetch_lines = math.ceil(prefetch_size / bw)
    n_sets = valid.size // eps + 1
    a_sets = min(math.ceil(active / eps), n_sets)
    p_sets = min(math.ceil(pre_size / eps), n_sets - a_sets)
    first_lines = min(math.ceil(active / bw), fetch_lines)
    refill_lines = math.ceil(pre_size / bw)
    if addr.size == 0 or a_sets >= n_sets:
        return np.zeros(0, dtype=np.int64), first_lines, refill_lines, fetch_lines
    uniq, table = _address_sets(valid, eps, n_sets)
    wide = table.shape[1] > 1
    if int(addr.min()) < 0 or int(addr.max()) > int(uniq[-1]):
        raise ValueError("demanded address missing from the prefetch matrix")
    # Dense lookups over [0, largest address] (addresses lie in [0, footprint)): each
    # request's table row, or directly its set when every address lies in one set.
    if wide:
        lookup = np.full(int(uniq[-1]) + 1, -1, dtype=np.int64)
        lookup[uniq] = np.arange(uniq.size)
        row = lookup[addr]
        sets = np.zeros(0, dtype=np.int32)
        missing = int(row.min()) < 0
    else:
        set_of = np.full(int(uniq[-1]) + 1, -1, dtype=np.int32)
        set_of[uniq] = table[:, 0]
        sets = set_of[addr]
        row = np.zeros(0, dtype=np.int64)
        missing = int(sets.min()) < 0
    if missing:
        raise ValueError("demanded address missing from the prefetch matrix")
    n = addr.size
    s = 0
    p = 0
    ev_lines: list[int] = []
    ev_counts: list[int] = []
    chunk = 1024
    while p < n:
        # Scan a chunk of requests for the first miss under the current window; the chunk
        # grows while misses are rare and shrinks after one.
        q = min(n, p + chunk)
        out: npt.NDArray[np.bool_]
        if wide:
            out = np.all(_outside_window(table[row[p:q]], s, a_sets, n_sets), axis=1)
        else:
            out = _outside_window(sets[p:q], s, a_sets, n_sets)
        j = int(out.argmax())
        if not out[j]:
            p = q
            chunk = min(chunk * 2, 1 << 16)
            continue
        i = p + j
        held = table[row[i]].tolist() if wide else [int(sets[i])]
        k = _refills_to_hit(held, s, a_sets, p_sets, n_sets)
        s = (s + k * p_sets) % n_sets
        ev_lines.append(int(line[i]))
        ev_counts.append(k)
        p = i + 1
        chunk = max(chunk // 2, 64)
    events = np.repeat(np.asarray(ev_lines, dtype=np.int64), np.asarray(ev_counts, dtype=np.int64))
    return events, first_lines, refill_lines, fetch_lines


def _address_sets(valid: IntArray, eps: int, n_sets: int) -> tuple[IntArray, SetArray]:
    """The distinct addresses of the prefetch stream ``valid`` (ascending) and the sets of
    ``eps`` consecutive entries holding each, as an int32 table one row per address, padded
    with the address's first set (``n_sets`` bounds the set ids).

    The distinct (address, set) pairs come from one sort of ``address << bits | set``."""
    bits = int(n_sets).bit_length()
    set_id = np.repeat(np.arange(n_sets, dtype=np.int64), eps)[: valid.size]
    pairs = _sorted_unique(_pack(valid, set_id, bits))
    pair_addr = pairs >> bits
    pair_set = (pairs & ((1 << bits) - 1)).astype(np.int32)
    first = np.empty(pairs.size, dtype=bool)
    first[0] = True
    np.not_equal(pair_addr[1:], pair_addr[:-1], out=first[1:])
    if first.all():  # each address in one set (the common case)
        return pair_addr, pair_set[:, None]
    starts = np.flatnonzero(first)
    count = np.diff(starts, append=pairs.size)
    table = np.repeat(pair_set[starts], count.max()).reshape(starts.size, -1)
    pos = np.arange(pairs.size) - np.repeat(starts, count)
    table[np.repeat(np.arange(starts.size), count), pos] = pair_set
    return pair_addr[starts], table


def _outside_window(sets: SetArray, s: int, a_sets: int, n_sets: int) -> npt.NDArray[np.bool_]:
    """Whether each set id lies outside the active window of ``a_sets`` sets starting at set
    ``s`` of the ring of ``n_sets`` (``(set - s) mod n_sets >= a_sets``, without the slow
    integer modulo: the window wraps past the ring's end when ``s + a_sets > n_sets``)."""
    end = s + a_sets
    if end <= n_sets:
        return (sets < s) | (sets >= end)
    return (sets < s) & (sets >= end - n_sets)


def _refills_to_hit(held: list[int], s: int, a_sets: int, p_sets: int, n_sets: int) -> int:
    """Refills a missing request waits for: the least ``k >= 1`` such that one of the sets
    ``held`` lies in the window once it has moved ``k * p_sets`` sets round the ring from
    ``s`` (SCALE-Sim's ``read_buffer`` refills one prefetch block at a time until the address
    is active).

    A set at offset ``r = (h - s) mod n_sets >= a_sets`` (it missed) enters the window at
    ``k = (r - a_sets) // p_sets + 1`` when ``a_sets >= p_sets``: the windows then tile the
    ring, and before that ``k`` they end below ``r`` without wrapping. Otherwise the window
    positions are walked one refill at a time over their period
    ``n_sets / gcd(p_sets, n_sets)``."""
    if p_sets <= 0:
        raise ValueError("request never enters the read buffer's window")
    if a_sets >= p_sets:
        return min(((h - s) % n_sets - a_sets) // p_sets + 1 for h in held)
    for k in range(1, n_sets // math.gcd(p_sets, n_sets) + 1):
        start = (s + k * p_sets) % n_sets
        if any((h - start) % n_sets < a_sets for h in held):
            return k
    raise ValueError("request never enters the read buffer's window")


class _WriteBuffer:
    """SCALE-Sim's ``write_buffer`` (ofmap SRAM), element by element where it acts."""

    def __init__(self, sram_words: int, bw: int) -> None:
        self.total = sram_words
        self.active = math.ceil(sram_words * 0.5)
        self.drain_size = sram_words - self.active
        self.bw = bw
        self.free = sram_words
        self.drain_end = 0
        self.line_idx = 0
        self.trace_lines = 0
        self.pads: dict[int, int] = {}
        self.drain_start = 0
        self.accesses = 0
        self.first_drain: int | None = None
        self.last_drain_end: int | None = None

    def store(self, k: int) -> None:
        """Store ``k`` words with no event among them."""
        self.free -= k
        self.trace_lines += (self.line_idx + k) // self.bw
        self.line_idx = (self.line_idx + k) % self.bw

    def drain(self, cycle: int) -> int:
        if self.line_idx:
            self.pads[self.trace_lines] = self.bw - self.line_idx
            self.trace_lines += 1
            self.line_idx = 0
        nl = min(math.ceil(self.drain_size / self.bw), self.trace_lines - self.drain_start)
        if nl <= 0:
            raise ValueError("write buffer drains nothing")
        last = self.drain_start + nl - 1
        data = nl * self.bw - self.pads.get(last, 0)
        self.accesses += data
        self.free += data
        self.drain_start += nl
        end = cycle + nl - 1
        if self.first_drain is None:
            self.first_drain = cycle
        self.last_drain_end = end if self.last_drain_end is None else max(self.last_drain_end, end)
        return end

    def line(self, count: int, cycle: int) -> int:
        """Service one demand line of ``count`` writes issued at ``cycle``; returns its stall.

        SCALE-Sim checks the buffer after every write: while a drain is in flight
        (``current < drain_end``) the write that leaves no free word stalls the line to the
        drain's end; otherwise the write that leaves fewer than ``active`` free words starts
        a drain. The writes between two such acts change nothing else, so they are stored in
        one step each (``free`` drops by one per write, so the acting write is known)."""
        current = cycle
        left = count
        while left > 0:
            if current < self.drain_end:
                m = max(1, self.free)  # the write after which free <= 0
            else:
                m = max(1, self.free - self.active + 1)  # the write after which free < active
            if m > left:
                self.store(left)
                break
            self.store(m)
            left -= m
            if current < self.drain_end:
                current = self.drain_end
            else:
                self.drain_end = self.drain(current)
        return current - cycle

    def next_event(self, cum: IntArray, i: int, n_lines: int, s: int) -> int:
        """First demand line ``>= i`` on which the buffer may act (drain or stall), with ``s``
        stalls so far and ``cum[j]`` the writes before line ``j``; ``n_lines`` if none."""
        stored = int(cum[i])
        total = int(cum[-1])
        best = n_lines
        n_a = stored + max(1, self.free - self.active + 1)  # first word with free < active
        if n_a <= total:
            line_a = int(np.searchsorted(cum, n_a, side="left")) - 1
            x = self.drain_end - s
            if line_a >= x:
                best = line_a
            elif x < n_lines:
                j = int(np.searchsorted(cum[1:], cum[x], side="right"))
                best = min(best, j)
        n_s = stored + max(1, self.free)  # first word that fills the buffer
        if n_s <= total:
            line_s = int(np.searchsorted(cum, n_s, side="left")) - 1
            if line_s + s < self.drain_end:
                best = min(best, line_s)
        return max(best, i)


def _read_line_stall(cycle: int, k0: int, r: int, refill_lines: int) -> int:
    """Stall of one read buffer on a line at ``cycle`` with refills ``k0+1 .. k0+r``: offset
    starts at the hit latency, each refill adds ``pot = ready - (cycle + offset)`` and once more
    if positive; refill ``k`` is ready at ``-1 + k*(refill_lines + 1)``."""
    offset = _HIT_LATENCY
    for q in range(1, r + 1):
        ready = -1 + (k0 + q) * (refill_lines + _PORT_LATENCY)
        pot = ready - (cycle + offset)
        offset += pot
        if pot > 0:
            offset += pot
    return offset - _HIT_LATENCY


def replay_layer(
    *,
    ifmap_h: int,
    ifmap_w: int,
    filter_h: int,
    filter_w: int,
    channels: int,
    num_filters: int,
    stride_h: int,
    stride_w: int,
    array_rows: int,
    array_cols: int,
    dataflow: str,
    ifmap_sram_words: int,
    filter_sram_words: int,
    ofmap_sram_words: int,
    user_bandwidth: bool,
    bandwidth_words_per_cycle: int,
    ifmap_fill_bw_words_per_cycle: int,
    filter_fill_bw_words_per_cycle: int,
) -> ReplayResult:
    """Replay SCALE-Sim's memory system on one layer (conv geometry; a GEMM ``M, N, K`` is the
    ``M x K`` ifmap with a ``1 x K`` filter, one channel, ``N`` filters) and return the figures
    that depend on it."""
    layer = _Layer(ifmap_h, ifmap_w, filter_h, filter_w, channels, num_filters, stride_h, stride_w)
    m = layer.oh * layer.ow
    k = filter_h * filter_w * channels
    geo = _Geometry(dataflow, m, num_filters, k, array_rows, array_cols)
    n_lines = geo.lines
    if_line, if_addr = _demand(geo, layer, "ifmap")
    fi_line, fi_addr = _demand(geo, layer, "filter")
    of_count = _ofmap_counts(geo)

    drain_bw = bandwidth_words_per_cycle if user_bandwidth else array_cols
    read_events: list[IntArray] = []
    read_refill_lines: list[int] = []
    dram: list[tuple[int, int, int]] = []
    calc_flips: list[tuple[IntArray, int, int, int]] = []
    for line, addr, words, fill_bw, op in (
        (if_line, if_addr, ifmap_sram_words, ifmap_fill_bw_words_per_cycle, "ifmap"),
        (fi_line, fi_addr, filter_sram_words, filter_fill_bw_words_per_cycle, "filter"),
    ):
        if user_bandwidth:
            pre, pre_size = _prefetch(geo, layer, op)
            ev, first, refill, _ = _user_refills(addr, line, pre, pre_size, words, fill_bw)
            read_events.append(ev)
            read_refill_lines.append(refill)
            reads = first * fill_bw + ev.size * refill * fill_bw
            dram.append((reads, -first, -1 + ev.size * (refill + _PORT_LATENCY)))
        else:
            reads, flips = _calc_reads(addr, line, words)
            read_events.append(np.zeros(0, dtype=np.int64))
            read_refill_lines.append(0)
            items = words // 100
            first_line = int(line[0]) if line.size else 0
            calc_flips.append((flips, reads, items, first_line))
            dram.append((reads, 0, 0))

    # Stall replay over the lines where something happens.
    wb = _WriteBuffer(ofmap_sram_words, drain_bw)
    cum = np.concatenate([[0], np.cumsum(of_count)]).astype(np.int64)
    ev_if, ev_fi = read_events
    r_lines = np.union1d(ev_if, ev_fi)
    cnt_if = dict(zip(*np.unique(ev_if, return_counts=True), strict=True))
    cnt_fi = dict(zip(*np.unique(ev_fi, return_counts=True), strict=True))
    k_if = k_fi = 0
    s = 0
    ri = 0
    i = 0
    line_stall_at: dict[int, int] = {}  # stalls before each flip line (CALC start/stop)
    flip_lines = (
        np.union1d(calc_flips[0][0], calc_flips[1][0]) if calc_flips else np.zeros(0, np.int64)
    )
    fl_ptr = 0
    total_cycles = n_lines - 1
    ev_lines: list[int] = []
    ev_before: list[int] = []
    ev_after: list[int] = []
    ev_own: list[tuple[int, int, int]] = []
    while i < n_lines:
        i_w = wb.next_event(cum, i, n_lines, s)
        i_r = int(r_lines[ri]) if ri < r_lines.size else n_lines
        line_i = min(i_w, i_r)
        if line_i >= n_lines:
            break
        while fl_ptr < flip_lines.size and flip_lines[fl_ptr] <= line_i:
            line_stall_at[int(flip_lines[fl_ptr])] = s
            fl_ptr += 1
        wb.store(int(cum[line_i] - cum[i]))  # the lines in between: no event
        c = line_i + s
        s_rd = 0
        s1 = s2 = 0
        if line_i == i_r:
            r1 = int(cnt_if.get(line_i, 0))
            r2 = int(cnt_fi.get(line_i, 0))
            s1 = _read_line_stall(c, k_if, r1, read_refill_lines[0]) if r1 else 0
            s2 = _read_line_stall(c, k_fi, r2, read_refill_lines[1]) if r2 else 0
            k_if += r1
            k_fi += r2
            s_rd = max(s1, s2)
            ri += 1
        s_of = wb.line(int(of_count[line_i]), c)
        if line_i == n_lines - 1:
            total_cycles = c + s_of  # the last line's ofmap out-cycle
        ev_lines.append(line_i)
        ev_before.append(s)
        ev_own.append((s1, s2, s_of))
        s += max(s_rd, s_of, 0)
        ev_after.append(s)
        i = line_i + 1
    if i < n_lines:
        wb.store(int(cum[n_lines] - cum[i]))
        total_cycles = n_lines - 1 + s
    while fl_ptr < flip_lines.size:
        line_stall_at[int(flip_lines[fl_ptr])] = s
        fl_ptr += 1

    # Ofmap drain to DRAM after the run (empty_all_buffers: flush, then drain after drain).
    cycle = total_cycles
    if wb.line_idx:
        wb.pads[wb.trace_lines] = wb.bw - wb.line_idx
        wb.trace_lines += 1
        wb.line_idx = 0
    while wb.drain_start < wb.trace_lines:
        cycle = wb.drain(cycle) + 1
    of_start = wb.first_drain if wb.first_drain is not None else total_cycles
    of_stop = wb.last_drain_end if wb.last_drain_end is not None else total_cycles

    # CALC-mode read start/stop cycles.
    if not user_bandwidth:
        for j, (flips, reads, items, first_line) in enumerate(calc_flips):
            first_cycle = first_line  # no stall before the first request
            if flips.size == 0:
                sets = -(-reads // items) if items else 0
                cycles = -(-(sets * items) // 10)
                dram[j] = (reads, -cycles, -1)
            else:
                cycles = -(-(_ACTIVE_FRAC_SETS * items) // 10)
                start = first_cycle - 2 - cycles + 1 + _PORT_LATENCY
                last = int(flips[-1])
                stop = last + line_stall_at.get(last, s) + _PORT_LATENCY
                dram[j] = (reads, start, stop)
    (if_reads, if_start, if_stop), (fi_reads, fi_start, fi_stop) = dram

    def served(line_x: int, which: int) -> int:
        """Service cycle of demand line ``line_x`` for buffer ``which`` (0 ifmap, 1 filter:
        cycle + hit latency + its read stall; 2 ofmap: cycle + its write stall)."""
        j = int(np.searchsorted(ev_lines, line_x, side="left"))
        if j < len(ev_lines) and ev_lines[j] == line_x:
            base = line_x + ev_before[j]
            own = ev_own[j][which]
        else:
            base = line_x + (ev_after[j - 1] if j > 0 else 0)
            own = 0
        return base + own + (_HIT_LATENCY if which < 2 else 0)

    of_lines = np.flatnonzero(of_count)
    sram = (
        (served(int(if_line[0]), 0), served(int(if_line[-1]), 0)) if if_line.size else (0, 0),
        (served(int(fi_line[0]), 1), served(int(fi_line[-1]), 1)) if fi_line.size else (0, 0),
        (served(int(of_lines[0]), 2), served(int(of_lines[-1]), 2)) if of_lines.size else (0, 0),
    )
    return ReplayResult(
        stall_cycles=s,
        total_cycles=total_cycles,
        ifmap_dram_reads_words=if_reads,
        filter_dram_reads_words=fi_reads,
        ofmap_dram_writes_words=wb.accesses,
        ifmap_dram_start_cycle=if_start,
        ifmap_dram_stop_cycle=if_stop,
        filter_dram_start_cycle=fi_start,
        filter_dram_stop_cycle=fi_stop,
        ofmap_dram_start_cycle=int(of_start),
        ofmap_dram_stop_cycle=int(of_stop),
        ifmap_sram_start_cycle=sram[0][0],
        ifmap_sram_stop_cycle=sram[0][1],
        filter_sram_start_cycle=sram[1][0],
        filter_sram_stop_cycle=sram[1][1],
        ofmap_sram_start_cycle=sram[2][0],
        ofmap_sram_stop_cycle=sram[2][1],
    )
