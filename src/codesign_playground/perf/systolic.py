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

import functools
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np
import numpy.typing as npt

from codesign_playground.errors import InputError
from codesign_playground.perf.scalesim_replay import _diagonal, replay_layer

__all__ = [
    "CALC_FILL_BW_WORDS_PER_CYCLE",
    "CALC_REPLAY_MAX_WORDS",
    "DATAFLOWS",
    "DUPS_REPLAY_MAX_WORDS",
    "FAST",
    "RAGGED_REPLAY_MAX_WORDS",
    "REPLAY_MAX_WORDS",
    "ConvGemmView",
    "ConvGeometry",
    "FastOptions",
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
    # (the last window may hang over the edge with ceil output sizes: its rows past it are -1)
    rows_touched = np.where(
        sh >= fh,
        (oh - 1) * fh + np.clip(ih - (oh - 1) * sh, 0, fh),
        np.minimum((oh - 1) * sh + fh, ih),
    )
    cols_touched = np.where(
        sw >= fw,
        (ow - 1) * fw + np.clip(iw - (ow - 1) * sw, 0, fw),
        np.minimum((ow - 1) * sw + fw, iw),
    )
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


class FastOptions(TypedDict):
    """Keyword arguments of :func:`simulate` that select its fast mode."""

    replay: bool
    replay_ragged_max_words: int
    replay_dups_max_words: int
    replay_calc_max_words: int


RAGGED_REPLAY_MAX_WORDS = 4_000_000
"""Most SRAM requests per pair the fast mode replays exactly where the ring replay does not
apply (runs of more than :data:`_RING_FOLDS` folds) to USER-mode ifmaps that overflow their
SRAM and whose last conv windows hang over the ifmap edge (``ceil`` output sizes, SCALE-Sim
topologies and ``ceil_mode`` layers). Their ``-1`` entries leave the prefetch matrix, which
shifts every later entry's set; the ring replay follows that shift (:class:`_RaggedLayout`),
the sweep estimate does not (up to 97% low on SCALE-Sim's grid). The exact replay costs about
0.12 s per 10^6 requests (the grid's 61 ragged overflowing cases: 20.6 million requests in
2.5 s), so this bounds one pair to about half a second; larger pairs keep the estimate,
flagged by the ``*_exact`` fields."""

DUPS_REPLAY_MAX_WORDS = 1_000_000
"""Most SRAM requests per pair the fast mode replays exactly where the ring replay's ifmap
refills on overlapping conv windows that its duplicate-address rule does not cover (is
dataflow; copies of an address a window or more apart; layouts over ``_DUP_MAX_ENTRIES``):
there each request counts as its own prefetch entry, so refills, DRAM reads and stalls come
out high (up to 3x on SCALE-Sim's grid: MobileNet's 3x3 stride-2 layers). At about 0.12 s per
10^6 requests (:data:`RAGGED_REPLAY_MAX_WORDS`) this bounds such a pair to about 0.12 s;
larger pairs keep the ring's figure, flagged by the ``*_exact`` fields."""

CALC_REPLAY_MAX_WORDS = 1_000_000
"""Most SRAM requests per pair the fast mode replays exactly in CALC bandwidth mode where its
DRAM or stall figures are estimates (``*_exact`` false: the CALC epoch walk past its limits,
reuse-distance and working-set estimates, drains beside refills). CALC is SCALE-Sim's own
mode: hardware descriptions and exploration price USER-mode designs
(``systolic_fast.SystolicConfig.of``), so only SCALE-Sim configs meet it, one design at a
time. On the test's 436 CALC runs of SCALE-Sim (grid, spot and random sets) 278 are
estimates, 8 of them more than 1% off (up to 14% on ifmap DRAM reads), and their exact replays
take 5.6 s together; larger pairs keep the estimate, flagged."""

FAST: FastOptions = {
    "replay": False,
    "replay_ragged_max_words": RAGGED_REPLAY_MAX_WORDS,
    "replay_dups_max_words": DUPS_REPLAY_MAX_WORDS,
    "replay_calc_max_words": CALC_REPLAY_MAX_WORDS,
}
"""Keyword arguments of :func:`simulate` for native estimates and exploration: SCALE-Sim's
memory replay off, except for the pairs :data:`RAGGED_REPLAY_MAX_WORDS`,
:data:`DUPS_REPLAY_MAX_WORDS` and :data:`CALC_REPLAY_MAX_WORDS` describe. Compute
cycles and SRAM counts stay exact, and so does everything while the operands fit their SRAMs;
DRAM refetches and stalls of operands that overflow their SRAMs take the USER ring replay or
the closed-form estimates (flagged by the ``*_exact`` fields). The SCALE-Sim report format uses
the default (exact replay)."""

REPLAY_MAX_WORDS = 10_000_000
"""Most SRAM requests (ifmap + filter demand words) the exact replay handles per pair; larger
pairs keep the closed-form estimate, flagged by the ``*_exact`` fields."""


_REPLAY_FIELDS = (
    "stall_cycles",
    "total_cycles",
    "ifmap_dram_reads_words",
    "filter_dram_reads_words",
    "ofmap_dram_writes_words",
    "ifmap_dram_start_cycle",
    "ifmap_dram_stop_cycle",
    "filter_dram_start_cycle",
    "filter_dram_stop_cycle",
    "ofmap_dram_start_cycle",
    "ofmap_dram_stop_cycle",
    "ifmap_sram_start_cycle",
    "ifmap_sram_stop_cycle",
    "filter_sram_start_cycle",
    "filter_sram_stop_cycle",
    "ofmap_sram_start_cycle",
    "ofmap_sram_stop_cycle",
)


@dataclass(frozen=True)
class ConvGeometry:
    """Conv shape of the layers (arrays broadcasting like ``m``), for the exact replay: the
    addresses SCALE-Sim demands depend on it, not only on the GEMM view."""

    ifmap_h: ArrayLike
    ifmap_w: ArrayLike
    filter_h: ArrayLike
    filter_w: ArrayLike
    channels: ArrayLike
    stride_h: ArrayLike
    stride_w: ArrayLike


@dataclass(frozen=True)
class _RefillTiming:
    """USER-mode refills of one read SRAM: count, lines (cycles) per refill and where the
    first and the last happen as fractions of the run's demand lines."""

    refills: IntArray
    refill_lines: IntArray
    first_at: FloatArray
    last_at: FloatArray

    def take(self, mask: BoolArray) -> _RefillTiming:
        """The pairs where ``mask`` holds (1-D)."""
        return _RefillTiming(
            self.refills[mask], self.refill_lines[mask], self.first_at[mask], self.last_at[mask]
        )


def _read_stall(timing: _RefillTiming, lines: IntArray) -> IntArray:
    """Stall cycles a read SRAM's refills cost over a run of ``lines`` demand lines.

    SCALE-Sim fetches refill ``k`` from cycle 0 on, one after another: it is ready at
    ``k*(refill_lines + 1) - 1``. A line demanding it earlier stalls twice the shortfall
    (``offset += pot`` twice in ``read_buffer.service_reads``), which puts the array ahead of
    the next refill by the shortfall. With refills evenly spread, the shortfall of refill ``k``
    without stalls is ``e_k = e_1 + (k-1)*delta``: compute-bound runs (``delta <= 0``) stall
    ``2*e_1`` at the first refill only; DRAM-bound runs alternate stalls of ``2*x`` and
    ``2*(delta - x)``, ``delta`` per refill on average, after paying back any lead: in all
    ``max(2*e_1, e_K)``.
    """
    k = timing.refills
    step = timing.refill_lines + 1
    span = np.maximum(lines - 1, 0).astype(np.float64)
    e_first = step - 2 - timing.first_at * span
    e_last = k * step - 2 - timing.last_at * span
    stall = np.maximum(np.maximum(2 * e_first, e_last), 0.0)
    return np.where(k > 0, np.rint(stall), 0).astype(np.int64)


def _write_stall(
    words: IntArray,
    buf_words: IntArray,
    half: IntArray,
    drain_bw: IntArray,
    write_line: Any,
) -> IntArray:
    """Stall cycles of SCALE-Sim's ofmap ``write_buffer`` for a run writing ``words`` words,
    word ``w`` on demand line ``write_line(w)`` when nothing stalls.

    The first batch starts draining at word ``half + 1``; a batch takes
    ``ceil(half/drain_bw)`` cycles and frees ``half`` words when it starts, and the next one
    starts when it ends. Batch ``j`` lets the array write up to word ``buf_words + j*half``;
    the array waits for batch ``ceil((words - buf_words)/half)``, the last one it needs: with
    writes outrunning the drain, batches run back to back from the first. Nothing stalls while
    the words fit the buffer."""
    batch = _ceil_div(np.maximum(half, 1), drain_bw)
    need = _ceil_div(np.maximum(words - buf_words, 0), np.maximum(half, 1))
    start_last = write_line(half + 1) + (need - 1) * batch
    reach_last = write_line(buf_words + (need - 1) * half)
    stall = np.where(need > 0, np.maximum(start_last - reach_last, 0.0), 0.0)
    return np.rint(stall).astype(np.int64)


def _write_stall_after(
    words: IntArray,
    buf_words: IntArray,
    half: IntArray,
    drain_bw: IntArray,
    write_line: Any,
    written: FloatArray,
    at_line: FloatArray,
    resume: FloatArray,
) -> IntArray:
    """Write stalls of :func:`_write_stall` after the array stopped at line ``at_line`` (with
    ``written`` words written) and resumed at cycle ``resume``: the batches started before
    keep their times, the next starts no earlier than ``resume``, then back to back."""
    h = np.maximum(half, 1)
    batch = _ceil_div(h, drain_bw)
    need = _ceil_div(np.maximum(words - buf_words, 0), h)
    first = write_line(half + 1)
    started = np.where(
        first <= at_line,
        np.minimum(1 + np.floor((at_line - first) / batch), np.floor((written - 1) / h)),
        0,
    )
    started = np.maximum(started, 0)
    shift = resume - at_line
    trigger = write_line(half * (started + 1) + 1)
    trigger = np.where(trigger > at_line, trigger + shift, trigger)
    nxt = np.maximum(np.maximum(first + started * batch, trigger), resume)
    start_last = nxt + (need - started - 1) * batch
    reach_last = write_line(buf_words + (need - 1) * half) + shift
    stall = np.where(need > started, np.maximum(start_last - reach_last, 0.0), 0.0)
    return np.rint(stall).astype(np.int64)


@dataclass(frozen=True)
class _FoldTimeline:
    """Mapping and fold shape of (layer, design) pairs, for the stall closed forms."""

    rows: IntArray
    cols: IntArray
    t: IntArray
    sr: IntArray
    sc: IntArray
    folds: IntArray
    row_folds: IntArray
    col_folds: IntArray
    fold_lines: IntArray
    is_os: BoolArray


def _box_pairs(x: IntArray, a: IntArray, b: IntArray) -> IntArray:
    """Pairs ``(u, c)``, ``0 <= u < b``, ``0 <= c < a``, with ``u + c < x``."""

    def h(y: IntArray) -> IntArray:  # sum over c < a of max(y - c, 0)
        y = np.maximum(y, 0)
        return np.where(y <= a, y * (y + 1) // 2, a * y - a * (a - 1) // 2)

    return np.asarray(h(x) - h(x - b), dtype=np.int64)


_WRITE_BATCHES = 1024
"""Most drain batches the fast mode steps through one by one (:func:`_joint_stall`). Longer runs
take the closed forms of :func:`_stall_cycles`, which miss what the stepping sees: a drain
frees whole lines (quirk 8), a drain only starts on a write (none in a fold's ramp) and
stalls of the reads and the writes add up where they alternate. On the grid's ResNet-18 1x1
stride-2 convs on 2 KiB ofmap SRAMs (420-900 batches) that put the total cycles up to 5% off
with a limit of 256. Cost: one step per drain or refill line for all pairs stepped together, so
the longest run sets the step count; 2,000 random designs of ``examples/resnet50_systolic.yaml``
10.9 s of CPU with 256, 12.3 s with 1024 (and the cheaper steps of :func:`_joint_stall`)."""
_JOINT_LINES = 1024
"""Most refill lines the fast mode steps through with the drains (:func:`_joint_stall`)."""
_RING_FOLDS = 1024
"""Most folds the fast mode replays USER-mode refills and read stalls over (:func:`_ring_replay`,
one NumPy step per fold over all pairs, about 0.3 ms a step once few pairs are left; periodic
and refill-free stretches skipped): every ResNet-50 layer on square arrays of 48x48 and up,
every MobileNet-V2 layer on 32x32 and up (ws: ``ceil(K/rows) * ceil(N/cols)`` folds). Longer
runs keep the closed-form estimate, flagged. The limit is paid by every call: a search asking
for 5 designs at a time spends up to ~0.3 s a batch on it. Measured on the example spaces
(``scripts/ring_cap_study.py``, 200 uniformly drawn (layer, design) pairs of
``examples/resnet50_systolic.yaml``) within 1% of the exact replay: 38% with 16 folds, 82% with
1024, 87% with 4096, 88% uncapped, at 1.3, 9.8, 17.8 and 29.6 s of CPU for its 10,000 points;
100 random-search evaluations of ResNet-18 in batches of 5: 0.45 s, 8.3 s and 24.5 s with 16,
1024 and 4096 folds (figures of 2026-12-05, before the drains were stepped with the refill
lines). With them, on 2026-12-06 (one process, same machine for both): 2,000 random designs
of ``examples/resnet50_systolic.yaml`` 16.1 s of CPU (8.3 s before that day's changes), 20
batches of 5 designs 20.2 s (15.5 s)."""
_RING_STALL_FOLDS = _RING_FOLDS
"""Most folds over which the refill replay also replays the read stalls line by line; longer
runs take :func:`_read_stall` on the replayed refills."""
_TIMELINE_FIELDS = (
    "rows",
    "cols",
    "t",
    "sr",
    "sc",
    "folds",
    "row_folds",
    "col_folds",
    "fold_lines",
    "is_os",
)


def _box_pairs_at_least(want: IntArray, a: IntArray, b: IntArray) -> IntArray:
    """Smallest ``x >= 1`` with ``_box_pairs(x, a, b) >= want`` (``1 <= want <= a*b``): the
    triangle, band and closing triangle of the box inverted, then corrected by one."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    tri = lo * (lo + 1) // 2
    band = tri + (hi - lo) * lo
    wf = want.astype(np.float64)
    x1 = np.ceil((np.sqrt(1.0 + 8.0 * wf) - 1.0) / 2.0)
    x2 = lo + np.ceil((wf - tri) / np.maximum(lo, 1))
    rest = np.maximum((a * b - want).astype(np.float64), 0.0)
    x3 = (a + b) - np.floor((1.0 + np.sqrt(1.0 + 8.0 * rest)) / 2.0)
    x = np.where(want <= tri, x1, np.where(want <= band, x2, x3)).astype(np.int64)
    x = np.clip(x, 1, a + b)
    # one evaluation of the box at x - 1 and x (the estimate is off by at most one)
    at = _box_pairs(np.stack((x - 1, x)), a, b)
    x = np.where(at[1] < want, x + 1, np.where(at[0] >= want, x - 1, x))
    return np.asarray(x, dtype=np.int64)


class _WriteTimeline:
    """Exact ofmap write positions on the demand lines (no stalls) of a fold timeline.

    Folds run column fold outer, row fold inner. ws/is fold ``(fc, fr)`` writes ``(t, c)``
    (``t < T``, ``c < uc``) on its line ``2*Rows - 1 + t + c``; os writes ``(r, c)`` (``r < ur``,
    ``c < uc``) on ``T - 1 + (Rows - 1 - r) + c``: within a fold the words before a line are
    the pairs of a box below an anti-diagonal (:func:`_box_pairs`)."""

    def __init__(self, geo: _FoldTimeline) -> None:
        self.g = geo
        rr, cc = geo.rows, geo.cols
        self.uc_last = geo.sc - (geo.col_folds - 1) * cc
        self.ur_last = geo.sr - (geo.row_folds - 1) * rr
        # words per column fold (os: all its row folds), full ones first
        self.col_words = np.where(geo.is_os, cc * geo.sr, cc * geo.t * geo.row_folds)

    def take(self, sel: IntArray) -> _WriteTimeline:
        """The timeline of the pairs ``sel``."""
        return _WriteTimeline(_FoldTimeline(*(getattr(self.g, f)[sel] for f in _TIMELINE_FIELDS)))

    def _fold_shape(self, fold: IntArray) -> tuple[IntArray, IntArray, IntArray, IntArray]:
        """(a, b, offset, words before the fold) of fold index ``fold``."""
        g = self.g
        fc = fold // g.row_folds
        fr = fold - fc * g.row_folds
        uc = np.where(fc >= g.col_folds - 1, self.uc_last, g.cols)
        ur = np.where(fr >= g.row_folds - 1, self.ur_last, g.rows)
        b = np.where(g.is_os, ur, g.t)
        off = np.where(g.is_os, g.t - 1 + g.rows - ur, 2 * g.rows - 1)
        before = fc * self.col_words + fr * uc * np.where(g.is_os, g.rows, g.t)
        return uc, b, off, before

    def before_line(self, line: IntArray) -> IntArray:
        """Words written on the lines before ``line``."""
        g = self.g
        line = np.minimum(line, g.folds * g.fold_lines)
        fold = np.minimum(line // g.fold_lines, g.folds - 1)
        a, b, off, before = self._fold_shape(fold)
        x = line - fold * g.fold_lines - off
        return np.asarray(before + _box_pairs(x, a, b), dtype=np.int64)

    def line_of(self, w: IntArray) -> IntArray:
        """Line of the ``w``-th write (1-based)."""
        g = self.g
        full = g.col_folds - 1
        in_full = w <= full * self.col_words
        fc = np.where(in_full, (w - 1) // np.maximum(self.col_words, 1), full)
        rest = w - fc * self.col_words
        uc = np.where(fc >= full, self.uc_last, g.cols)
        per = uc * np.where(g.is_os, g.rows, g.t)
        fr = np.minimum((rest - 1) // np.maximum(per, 1), g.row_folds - 1)
        fold = fc * g.row_folds + fr
        a, b, off, before = self._fold_shape(fold)
        x = _box_pairs_at_least(w - before, a, b)
        return np.asarray(fold * g.fold_lines + off + x - 1, dtype=np.int64)


def _joint_stall(
    words: IntArray,
    buf_words: IntArray,
    drain_bw: IntArray,
    geo: _FoldTimeline,
    events: tuple[IntArray, ...],
    steps: tuple[IntArray, IntArray],
) -> IntArray:
    """Stall cycles of SCALE-Sim's ``write_buffer`` stepped drain by drain on the exact write
    timeline (:class:`_WriteTimeline`), interleaved in line order with the read SRAMs' refill
    lines ``events`` (pair, line, refills, operand 0 ifmap / 1 filter; sorted by pair, line),
    the loop of ``scalesim_replay.replay_layer`` on the lines where something happens.

    Writes: one leaving less than ``ceil(B/2)`` words free with no drain in flight starts a
    drain of ``ceil(D/bw)`` lines (``D = B - ceil(B/2)``), ending ``lines - 1`` cycles later and
    freeing its whole lines (``ceil(D/bw)*bw`` words, quirk 8) at its start; one filling the
    buffer while a drain is in flight stalls the array to the drain's end, and the next write
    starts the next drain (on the same line: at that end). Reads: a refill line ``L`` at cycle
    ``c = L + S`` stalls by :func:`_burst_stall` (``steps``: lines per refill + 1, refills
    counted from the run's start), the larger of the two SRAMs'. A line with both takes both at
    ``c`` and stalls by the larger; writes after a refill line start no earlier than the next
    line. Vectorized over the pairs, one event (a refill line or a drain) per pair a step."""
    active = _ceil_div(buf_words, _i64(2))
    d = buf_words - active
    nl = _ceil_div(np.maximum(d, 1), drain_bw)
    freed = nl * drain_bw  # whole drain lines are freed (quirk 8)
    n = words.size
    w = np.zeros_like(words)
    free = buf_words.copy()
    dend = np.zeros_like(words)
    stall = np.zeros_like(words)
    floor = np.zeros_like(words)
    kr = np.zeros((2, words.size), dtype=np.int64)  # refills taken so far, per SRAM
    step2 = np.stack(np.broadcast_arrays(*steps)).astype(np.int64)
    # refill lines per pair: both operands' refills on a line, in line order
    ev_p, ev_l, ev_r, ev_o = events
    key_new = np.r_[True, (ev_p[1:] != ev_p[:-1]) | (ev_l[1:] != ev_l[:-1])][: ev_p.size]
    grp = np.cumsum(key_new) - 1
    n_ev = int(grp[-1]) + 1 if grp.size else 0
    e_p, e_l = ev_p[key_new], ev_l[key_new]
    e_r = np.zeros((2, n_ev), dtype=np.int64)  # refills per line, ifmap and filter
    for o in (0, 1):
        e_r[o] = np.bincount(grp, weights=np.where(ev_o == o, ev_r, 0), minlength=n_ev)
    ptr = np.searchsorted(e_p, np.arange(n), side="left").astype(np.int64)
    end = np.searchsorted(e_p, np.arange(n), side="right").astype(np.int64)
    big = np.iinfo(np.int64).max // 4
    idx = np.flatnonzero(((words > buf_words) & (d > 0)) | (ptr < end))
    tl = every = _WriteTimeline(geo)
    while idx.size:
        if tl.g.rows.size != idx.size:  # pairs only leave: the same size is the same pairs
            tl = every.take(idx)
        wi, fi, di, si, ni = w[idx], free[idx], dend[idx], stall[idx], words[idx]
        wr = (ni > buf_words[idx]) & (d[idx] > 0)
        wa = wi + np.maximum(1, fi - active[idx] + 1)  # drops below the active half
        ws = wi + np.maximum(1, fi)  # fills the buffer
        ok = wr & (wa <= ni)
        # lines of the write dropping below the active half, the one filling the buffer and
        # the one after it: one evaluation for the three (the per-step NumPy calls dominate)
        la, lsw, l2 = tl.line_of(np.clip(np.stack((wa, ws, ws + 1)), 1, np.maximum(ni, 1)))
        late = ok & (la + si < di)  # a drain still in flight
        stalls = late & (ws <= ni) & (lsw + si < di)
        target = np.maximum(np.maximum(la, floor[idx]), np.where(late, di - si, la))
        # the write starting a drain: the first on ``target`` or later, no earlier than
        # ``wa``; that is ``wa`` itself (on ``la``) unless ``target`` is past ``la``
        trig, lt = wa, la
        later = np.flatnonzero(target > la)
        if later.size:
            sub = tl.take(later)
            tr = np.maximum(wa[later], sub.before_line(target[later]) + 1)
            trig, lt = wa.copy(), la.copy()
            trig[later] = tr
            lt[later] = sub.line_of(np.clip(tr, 1, np.maximum(ni[later], 1)))
        ok &= stalls | (trig <= ni)
        lw = np.where(ok, np.where(stalls, lsw, lt), big)
        pi = ptr[idx]
        has_r = pi < end[idx]
        pj = np.minimum(pi, max(n_ev - 1, 0))
        lr = np.where(has_r, e_l[pj] if n_ev else big, big)
        live = ok | has_r
        do_r = has_r & (lr <= lw)
        do_w = ok & (lw <= lr)
        # reads at c = L + S (both SRAMs on the line, the larger stall)
        s_rd = np.zeros_like(si)
        rd = np.flatnonzero(do_r)
        if rd.size:  # the pairs on a refill line, both SRAMs at once
            pr = idx[rd]
            r = e_r[:, pj[rd]]
            k0 = kr[:, pr]
            got = _burst_stall(lr[rd] + si[rd], k0, np.maximum(r, 1), step2[:, pr])
            s_rd[rd] = np.maximum(np.max(np.where(r > 0, got, 0), axis=0), 0)
            kr[:, pr] = k0 + r
        ptr[idx] = pi + do_r
        floor[idx] = np.where(do_r, np.maximum(floor[idx], lr + 1), floor[idx])
        # writes: a stall to the drain's end, or a drain start at c = L + S
        w_st = do_w & stalls
        s_of = np.where(w_st, di - (lsw + si), 0)
        s_new = si + np.maximum(np.maximum(s_rd, s_of), 0)
        w_dr = do_w & ~stalls
        c = lt + si
        # after a stall the next write starts the next drain: at the drain's end on the same
        # line, else on its own line unless a refill line comes first (then the next step)
        nxt = ws + 1
        has_nxt = w_st & (nxt <= ni)
        p2 = np.minimum(ptr[idx], max(n_ev - 1, 0))
        lr2 = np.where(ptr[idx] < end[idx], e_l[p2] if n_ev else big, big)
        now = has_nxt & ((l2 == lsw) | (l2 < lr2))
        c2 = np.where(l2 == lsw, di, l2 + s_new)
        start = w_dr | now
        new_w = np.where(w_dr, trig, np.where(now, nxt, np.where(w_st, ws, wi)))
        free[idx] = np.where(start, fi - (new_w - wi) + freed[idx], fi - (new_w - wi))
        w[idx] = new_w
        dend[idx] = np.where(w_dr, c + nl[idx] - 1, np.where(now, c2 + nl[idx] - 1, di))
        stall[idx] = s_new
        idx = idx[live]
    return stall


def _stall_cycles(
    if_timing: _RefillTiming,
    fi_timing: _RefillTiming,
    n_lines: IntArray,
    ofmap_words: IntArray,
    ofmap_buf_words: IntArray,
    drain_bw: IntArray,
    geo: _FoldTimeline,
    replayed: tuple[BoolArray, IntArray],
    events: tuple[IntArray, ...],
) -> IntArray:
    """Stall cycles of the fast mode. Where the reads stall nothing (a later array only finds
    its refills readier) or the refill replay's lines ``events`` (pair, line, refills,
    operand) stand for both read SRAMs, with at most ``_WRITE_BATCHES`` drain batches and
    ``_JOINT_LINES`` refill lines: the write buffer stepped drain by drain with the refill
    lines (:func:`_joint_stall`). Elsewhere the largest of the read stalls
    (:func:`_read_stall`, or where ``replayed[0]`` holds those of the refill replay
    ``replayed[1]``), the write stalls (:func:`_write_stall`) and, after a single refill, the
    read stall followed by the write stalls of the rest of the run (:func:`_write_stall_after`).

    Ofmap word ``w`` (1-based) is written, without stalls, on a line of the fold timeline:
    ws/is folds ``(fc, fr)`` write ``uc`` words a line over ``T`` lines from line
    ``2*Rows - 1`` on (after a ``uc``-line ramp), column folds outermost, the last one
    ``uc_last`` wide; os folds write their outputs over their last ``ur + uc - 1`` lines (taken
    evenly, as an average fold)."""
    rr, cc, t, fold_lines, is_os = geo.rows, geo.cols, geo.t, geo.fold_lines, geo.is_os
    if_stall, fi_stall = _read_stall(if_timing, n_lines), _read_stall(fi_timing, n_lines)
    read_stall = np.where(replayed[0], replayed[1], np.maximum(if_stall, fi_stall))
    half_buf = ofmap_buf_words - _ceil_div(ofmap_buf_words, _i64(2))
    words_per_fold = np.maximum(ofmap_words, 1) / geo.folds.astype(np.float64)
    ur_avg = geo.sr / geo.row_folds.astype(np.float64)
    uc_last = (geo.sc - (geo.col_folds - 1) * cc).astype(np.float64)
    full_folds = (geo.col_folds - 1) * geo.row_folds
    full_words = full_folds * t * cc

    def write_line(w: IntArray) -> FloatArray:
        last = w > full_words
        width = np.where(last, uc_last, cc)
        per_fold = np.maximum(t * width, 1)
        rel = np.where(last, w - 1 - full_words, w - 1)
        fold = np.floor(rel / per_fold) + np.where(last, full_folds, 0)
        stream = fold * fold_lines + 2 * rr - 1 + width / 2 + (rel % per_fold) / width
        o_fold = np.floor((w - 1) / words_per_fold)
        within = (w - 1) - o_fold * words_per_fold
        burst = t - 1 + rr - ur_avg + within / words_per_fold * (ur_avg + cc - 1)
        line = np.where(is_os, o_fold * fold_lines + burst, stream)
        return np.asarray(line, dtype=np.float64)

    def words_by_line(line: FloatArray) -> FloatArray:
        fold = np.floor(line / fold_lines)
        into = line - fold * fold_lines
        last = fold >= full_folds
        width = np.where(last, uc_last, cc)
        stream = np.clip((into - (2 * rr - 1 + width / 2)) * width, 0.0, t * width)
        stream += np.where(last, full_words + (fold - full_folds) * t * uc_last, fold * t * cc)
        burst = (into - (t - 1 + rr - ur_avg)) * words_per_fold / (ur_avg + cc - 1)
        burst = fold * words_per_fold + np.clip(burst, 0.0, words_per_fold)
        done = np.minimum(np.where(is_os, burst, stream), ofmap_words)
        return np.asarray(done, dtype=np.float64)

    write_stall = _write_stall(ofmap_words, ofmap_buf_words, half_buf, drain_bw, write_line)
    # With few drain batches and refill lines (bounded work per pair in exploration), the
    # write buffer stepped drain by drain on the exact write timeline, with the replayed
    # refill lines where the reads stall.
    batches = _ceil_div(np.maximum(ofmap_words - ofmap_buf_words, 0), np.maximum(half_buf, 1))
    ev_p = events[0]
    first_of = np.r_[True, (ev_p[1:] != ev_p[:-1]) | (events[1][1:] != events[1][:-1])]
    first_of = first_of[: ev_p.size]
    ev_lines = np.bincount(ev_p[first_of], minlength=n_lines.size)
    joint = replayed[0] & (ev_lines > 0) & (ev_lines <= _JOINT_LINES)
    exact_w = ((read_stall == 0) | joint) & (batches <= _WRITE_BATCHES)
    joint &= exact_w & (read_stall > 0)
    stepped = np.zeros(n_lines.shape, dtype=np.int64)
    if np.any(exact_w):
        sub = _FoldTimeline(*(np.asarray(getattr(geo, f))[exact_w] for f in _TIMELINE_FIELDS))
        pos = np.cumsum(exact_w) - 1
        keep = joint[ev_p]
        sub_events = (pos[ev_p[keep]], events[1][keep], events[2][keep], events[3][keep])
        steps = (
            np.broadcast_to(if_timing.refill_lines + 1, n_lines.shape)[exact_w],
            np.broadcast_to(fi_timing.refill_lines + 1, n_lines.shape)[exact_w],
        )
        stepped[exact_w] = _joint_stall(
            ofmap_words[exact_w],
            ofmap_buf_words[exact_w],
            drain_bw[exact_w],
            sub,
            sub_events,
            steps,
        )
    # A single refill stalls the array once, at line ``at``: the writes stop meanwhile, and the
    # drain batches resume with the array (a batch only starts on a write).
    if_paces = if_stall >= fi_stall
    one_refill = np.where(if_paces, if_timing.refills, fi_timing.refills) == 1
    at = np.where(if_paces, if_timing.first_at, fi_timing.first_at)
    at_line = at * np.maximum(n_lines - 1, 0)
    resume = at_line + read_stall
    seq_stall = _write_stall_after(
        ofmap_words,
        ofmap_buf_words,
        half_buf,
        drain_bw,
        write_line,
        words_by_line(at_line),
        at_line,
        resume,
    )
    seq_stall = np.where(one_refill & (read_stall > 0), seq_stall + read_stall, 0)
    combined = np.maximum(np.maximum(read_stall, write_stall), seq_stall)
    return np.asarray(np.where(exact_w, stepped, combined), dtype=np.int64)


def _ring_move(d: IntArray, a_sets: IntArray, p_sets: IntArray) -> IntArray:
    """Window moves of SCALE-Sim's USER ``read_buffer`` until a set at ring distance ``d``
    ahead of the window start is inside the ``a_sets``-wide window (``p_sets <= a_sets``: a
    move never steps over it): ``ceil((d - a_sets + 1)/p_sets)`` moves where ``d >= a_sets``."""
    return _i64(np.maximum(d - a_sets + p_sets, 0) // p_sets)


@dataclass(frozen=True)
class _RingOperand:
    """One read SRAM's prefetch ring in USER mode (1-D over the replayed pairs): ``blocks``
    blocks of ``t`` rows and ``width`` columns (the last ``span - (blocks - 1)*width`` wide),
    skewed (read along anti-diagonals) or ``row_major``; fold ``(fc, fr)`` demands block
    ``fr`` (``by_row_fold``) or ``fc``, its first request ``prefix`` lines into the fold. The
    ring has ``n_sets`` sets of ``eps`` entries, ``a_sets`` active, moved ``p_sets`` per refill
    of ``step - 1`` lines; ``on`` selects the pairs replayed."""

    on: BoolArray
    row_major: BoolArray
    by_row_fold: BoolArray
    t: IntArray
    width: IntArray
    span: IntArray
    blocks: IntArray
    prefix: IntArray
    eps: IntArray
    n_sets: IntArray
    a_sets: IntArray
    p_sets: IntArray
    step: IntArray


def _burst_stall(c: IntArray, k0: IntArray, r: IntArray, step: IntArray) -> IntArray:
    """Stall of a read SRAM on a demand line at cycle ``c`` that waits for refills ``k0 + 1 ..
    k0 + r`` (``r >= 1``), ready at ``R_q = -1 + q*step``: ``read_buffer.service_reads`` adds
    ``pot_q = R_q - (c + offset)`` to the offset (from the hit latency 1), twice when positive
    (quirk 9). With ``y_q = c + offset_q``: ``y_q = R_q + max(g_q, 0)``, ``g_q = R_q -
    y_{q-1}``, so ``g_{q+1} = step - max(g_q, 0)``: from ``0 < g_1 < step`` the shortfalls
    alternate ``g_1, step - g_1``; from ``g_1 <= 0`` they run ``step, 0, step, ..``; from
    ``g_1 >= step``: ``<= 0``, then ``step, 0, ..``. Stall = ``y_r - c - 1``."""
    r_1 = -1 + (k0 + 1) * step
    r_r = -1 + (k0 + r) * step
    g1 = r_1 - (c + 1)
    odd = r % 2 == 1
    mid = np.where(odd, g1, step - g1)
    low = np.where(r == 1, 0, np.where(odd, 0, step))
    high = np.where(r == 1, g1, np.where(odd, step, 0))
    extra = np.where(g1 <= 0, low, np.where(g1 < step, mid, high))
    return _i64(r_r + extra - c - 1)


def _band_diag(pos: IntArray, pos0: IntArray, width: IntArray) -> FloatArray:
    """Anti-diagonal (from a skewed block's first, whose first entry is ``pos0``) holding ring
    entry ``pos``: the stacked blocks' diagonals hold ``width`` entries each past the first
    block's opening triangle (``k`` entries on its ``k``-th diagonal)."""
    rel = (pos - pos0).astype(np.float64)
    tri = width * (width + 1) / 2.0
    # rel < 0 (an entry before the block) only reaches the discarded branch: keep sqrt real
    opening = np.floor((np.sqrt(np.maximum(8.0 * rel + 1.0, 0.0)) - 1.0) / 2.0)
    band = width + np.floor((rel - tri) / np.maximum(width, 1))
    per_diag = np.floor(rel / np.maximum(width, 1))
    first_block = np.where(rel < tri, opening, band)
    return np.asarray(np.where(pos0 == 0, first_block, per_diag), dtype=np.float64)


def _skew_diag(
    pos: IntArray,
    b_t: IntArray,
    span_d: IntArray,
    width: IntArray,
    w_last: IntArray,
    t: IntArray,
    full_rows: IntArray,
) -> IntArray:
    """Anti-diagonal, from the block's first ``b_t`` (at most ``span_d`` on), holding ring entry
    ``pos`` of stacked skewed blocks: the largest ``D`` with ``count(b_t + D) <= pos``
    (``count`` as in :func:`_ring_replay`, opening and closing triangles and the narrower last
    block included). The band's closed form (``width`` entries a diagonal past the first
    block's opening triangle) is checked against ``count`` and bisected where it misses."""
    pos0 = _box_pairs(b_t, width, full_rows) + _box_pairs(b_t - full_rows, w_last, t)

    def count(d: IntArray, sel: Any = slice(None)) -> IntArray:
        x = b_t[sel] + d
        return np.asarray(
            _box_pairs(x, width[sel], full_rows[sel])
            + _box_pairs(x - full_rows[sel], w_last[sel], t[sel]),
            dtype=np.int64,
        )

    guess = np.clip(_i64(_band_diag(pos, pos0, width)), 0, span_d)
    # the band form holds while every diagonal up to the block's last has ``width`` entries past
    # the opening triangle: blocks whose diagonals end before the narrower last block's rows, or
    # all blocks as wide and the block's diagonals ending before the closing triangle
    band = (b_t + span_d < full_rows) | ((w_last == width) & (b_t + span_d < full_rows + t))
    band &= (b_t == 0) | (b_t >= width - 1)
    chk = np.flatnonzero(~band)
    if chk.size == 0:
        return np.asarray(guess, dtype=np.int64)
    g = guess[chk]
    miss = (count(g, chk) > pos[chk]) | ((g < span_d[chk]) & (count(g + 1, chk) <= pos[chk]))
    bad = chk[miss]
    if bad.size:
        lo = np.zeros(bad.size, dtype=np.int64)
        hi = np.asarray(span_d[bad], dtype=np.int64).copy()
        p = pos[bad]
        while np.any(lo < hi):
            mid = (lo + hi + 1) // 2
            below = count(mid, bad) <= p
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid - 1)
        guess[bad] = lo
    return np.asarray(guess, dtype=np.int64)


class _RingPeriod:
    """Skips the periodic stretches of :func:`_ring_replay` where one operand refills (the
    other fits): its demand repeats every ``P`` folds (skewed blocks per row fold: every pass,
    ``P = row_folds``; the os filter's skewed block per column fold: every fold of a pass,
    ``P = 1``), so once the window start ``s`` is back where it was one period earlier the
    refills repeat. The stalls repeat too where the array keeps ahead of the refills with
    none (``stall`` unchanged, ``refills*step <= P*fold_lines``) or is held by them (``refills *
    step == P*fold_lines + stall`` per period: every line waits for the same refill as one
    period before). Two equal periods in a row stand for all the remaining ones (the rest of
    the run, or of the pass for ``P = 1``): counts and stalls are added, the last refill's line
    moved on. Exact: the replay of the skipped periods would repeat the last one."""

    def __init__(
        self,
        ops: tuple[_RingOperand, _RingOperand],
        rows: IntArray,
        row_folds: IntArray,
        fold_lines: IntArray,
        timed: BoolArray,
        ragged: _RaggedRing | None = None,
    ) -> None:
        on0, on1 = ops[0].on, ops[1].on
        self.ragged = ragged
        self.rows = rows
        self.o = np.where(on0, 0, 1)  # the refilling operand
        skewed_row = [op.by_row_fold & ~op.row_major for op in ops]
        skewed_col = [~op.by_row_fold & ~op.row_major for op in ops]
        single = (on0 ^ on1) & timed
        self.rf = row_folds
        by_pass = single & np.where(on0, skewed_row[0], skewed_row[1])
        by_fold = single & np.where(on0, skewed_col[0], skewed_col[1]) & ~by_pass
        self.p = np.where(by_pass, row_folds, np.where(by_fold, 1, 0))
        self.step_o = np.where(on0, ops[0].step, ops[1].step)
        self.lines = self.p * fold_lines
        # row-major blocks per column fold (ws filter, is ifmap) sweep the ring once, fold after
        # fold: folds whose rows all lie inside the window demand no refill and are skipped
        self.rm = single & np.where(on0, ops[0].row_major, ops[1].row_major)
        self.rm &= ~np.where(on0, ops[0].by_row_fold, ops[1].by_row_fold)
        self.ops = ops
        n = on0.size
        self.n_hist = np.zeros(n, dtype=np.int64)
        self.prev = np.zeros((4, n), dtype=np.int64)  # s, refills of both operands, stall
        self.delta = np.zeros((3, n), dtype=np.int64)

    def step(
        self,
        pairs: IntArray,
        fp: IntArray,
        folds: IntArray,
        s: IntArray,
        refills: IntArray,
        done: IntArray,
        last: FloatArray,
        stall: IntArray,
    ) -> None:
        """After a fold of ``pairs`` (``fp`` their next fold): note the periods just ended and
        skip ahead where two equal ones ran in a row, or past folds that refill nothing (``s``,
        ``refills``, ``done``, ``last``: one row per operand)."""
        self._skip_inside(pairs[self.rm[pairs] & (fp[pairs] < folds[pairs])], fp, folds, s)
        pairs = pairs[(self.p[pairs] > 0) & (fp[pairs] < folds[pairs])]
        if pairs.size == 0:
            return
        p, rf = self.p[pairs], self.rf[pairs]
        at_pass = fp[pairs] % rf == 0
        q = pairs[(p == 1) | at_pass]
        if q.size == 0:
            return
        o = self.o[q]
        cur = np.stack([np.where(o == 0, s[0][q], s[1][q]), refills[0][q], refills[1][q], stall[q]])
        delta = cur[1:] - self.prev[1:, q]
        n_hist = self.n_hist[q]
        same = (n_hist >= 2) & (cur[0] == self.prev[0, q]) & np.all(delta == self.delta[:, q], 0)
        d_ref = np.where(o == 0, delta[0], delta[1])
        work = d_ref * self.step_o[q]
        lines = self.lines[q]
        steady = same & (
            ((delta[2] == 0) & (work <= lines)) | ((d_ref > 0) & (work == lines + delta[2]))
        )
        pass_end = (self.p[q] == 1) & (fp[q] % self.rf[q] == 0)
        steady &= ~pass_end
        left = np.where(self.p[q] == 1, self.rf[q] - fp[q] % self.rf[q], folds[q] - fp[q])
        reps = np.where(steady, left // np.maximum(self.p[q], 1), 0)
        for k in range(2):
            refills[k][q] += reps * delta[k]
            done[k][q] += reps * delta[k]
            last[k][q] += np.where(delta[k] > 0, reps * lines, 0)
        stall[q] += reps * delta[2]
        fp[q] += reps * self.p[q]
        cur[1:] += reps * delta
        restart = steady | pass_end
        self.prev[:, q] = cur
        self.delta[:, q] = delta
        self.n_hist[q] = np.where(restart, 1, n_hist + 1)

    def _skip_inside(self, q: IntArray, fp: IntArray, folds: IntArray, s: IntArray) -> None:
        """Row-major blocks per column fold: fold ``f = fc*row_folds + fr`` demands rows
        ``fr*Rows ..`` of block ``fc``, so the folds' entries follow one another along the ring.
        From the next fold, if its first set is at or past the window start, every fold whose
        last set lies before the window's end hits throughout: skip to the first that does
        not (the fold holding entry ``(s + a)*e``)."""
        if q.size == 0:
            return
        o = self.o[q]

        def f(name: str) -> IntArray:
            return np.asarray(
                np.where(o == 0, getattr(self.ops[0], name)[q], getattr(self.ops[1], name)[q])
            )

        t, w, span, blocks, eps, n_sets, a_sets = (
            f(x) for x in ("t", "width", "span", "blocks", "eps", "n_sets", "a_sets")
        )
        rf = self.rf[q]
        s_o = np.where(o == 0, s[0][q], s[1][q])
        rows = self.rows[q]  # rows per fold (the last fold of a block may hold fewer)
        w_last = span - (blocks - 1) * w
        nxt = fp[q]
        fc, fr = nxt // rf, nxt % rf
        wb = np.where(fc >= blocks - 1, w_last, w)
        lo = (fc * t * w + fr * rows * wb) // eps
        target = (s_o + a_sets) * eps  # first entry past the window
        total = (blocks - 1) * t * w + t * w_last
        fc_t = np.minimum(target // np.maximum(t * w, 1), blocks - 1)
        wb_t = np.where(fc_t >= blocks - 1, w_last, w)
        row_t = (target - fc_t * t * w) // np.maximum(wb_t, 1)
        f_t = np.where(target >= total, folds[q], fc_t * rf + np.minimum(row_t // rows, rf - 1))
        if self.ragged is not None:
            r = np.flatnonzero(self.ragged.on[q] & (o == 0))
            lo[r], f_t[r] = _ragged_fold_span(
                self.ragged,
                q[r],
                (fc[r] * t[r], fr[r] * rows[r]),
                (t[r], rows[r], rf[r], eps[r]),
                target[r],
                folds[q][r],
            )
        ok = (lo >= s_o) & (s_o + a_sets <= n_sets) & (f_t > nxt)
        fp[q] = np.where(ok, f_t, nxt)


@dataclass(frozen=True)
class _RaggedLayout:
    """Where the valid entries of a ragged ifmap's prefetch stream lie (one conv, dataflow and
    block width). SCALE-Sim drops the ``-1`` entries from the stream, so a ring position is
    the count of valid entries before it in fetch order. Skewed blocks (ws/os): per block its
    first and last valid entry and the anti-diagonal (relative to the block) of the first, and
    the valid entries on the stacked anti-diagonals ``0..D``; row-major blocks (is): per row
    ``g = block*T + k`` the valid entries before it and in it, and the last non-empty row
    ``<= g`` (``-1`` if none)."""

    valid: int
    first: IntArray
    last: IntArray
    first_diag: IntArray
    diag_end: IntArray
    row_first: IntArray
    row_count: IntArray
    row_prev: IntArray


@functools.lru_cache(maxsize=1024)
def _ragged_layout(
    ih: int, iw: int, fh: int, fw: int, ch: int, sh: int, sw: int, df: int, width: int
) -> _RaggedLayout:
    """The :class:`_RaggedLayout` of a conv's ifmap prefetch matrix on dataflow ``df`` with
    blocks ``width`` wide (array rows for ws/os, columns for is): SCALE-Sim's prefetch matrix
    (:func:`~codesign_playground.perf.scalesim_replay.ifmap_prefetch_valid`, the tests'
    reference) rebuilt as a validity mask only. Cached: exploration prices many designs on one
    block layout."""
    oh = -(-(ih - fh + sh) // sh)
    ow = -(-(iw - fw + sw) // sw)
    m, k = oh * ow, fh * fw * ch
    # valid (pixel i, window position j): the window row/column inside the ifmap (the bounds of
    # SCALE-Sim's calc_ifmap_elem_addr), one compare per axis on small per-pixel limits
    i, j = np.arange(m), np.arange(k)
    lim_r, lim_c = ih - (i // ow) * sh, iw - (i % ow) * sw
    crow, ccol = j // (fw * ch), (j // ch) % fw
    empty = np.zeros(0, dtype=np.int64)
    if df == 2:  # is: blocks of ifmap^T (K x Cols) per column fold, row-major
        ok = (crow[:, None] < lim_r[None, :]) & (ccol[:, None] < lim_c[None, :])
        nb = -(-m // width)
        ok = np.pad(ok, ((0, 0), (0, nb * width - m)))
        count = ok.reshape(k, nb, width).sum(axis=2, dtype=np.int64).T.ravel()
        rows = np.arange(count.size, dtype=np.int64)
        return _RaggedLayout(
            int(count.sum()),
            empty,
            empty,
            empty,
            empty,
            np.cumsum(count) - count,
            count,
            np.maximum.accumulate(np.where(count > 0, rows, -1)),
        )
    # ws: T x Rows blocks of (pixel, window position) per row fold; os: (window position, pixel)
    if df == 1:
        ok = (crow[None, :] < lim_r[:, None]) & (ccol[None, :] < lim_c[:, None])
    else:
        ok = (crow[:, None] < lim_r[None, :]) & (ccol[:, None] < lim_c[None, :])
    t, span, w = ok.shape[0], ok.shape[1], width
    nb = -(-span // w)
    # c[b, d]: valid entries of block b on its anti-diagonal d (stacked: D = b*t + d), summed
    # on a sheared view of the blocks padded with w - 1 empty rows above and below
    nd = t + w - 1
    pad = np.zeros((nb, t + 2 * (w - 1), w), dtype=np.int8)
    pad[:, w - 1 : w - 1 + t, :] = (
        np.pad(ok, ((0, 0), (0, nb * w - span))).reshape(t, nb, w).transpose(1, 0, 2)
    )
    sheared = np.lib.stride_tricks.as_strided(
        pad[:, w - 1 :, :],
        shape=(nb, nd, w),
        strides=(pad.strides[0], pad.strides[1], pad.strides[2] - pad.strides[1]),
        writeable=False,
    )
    c = sheared.sum(axis=2, dtype=np.int64)
    # fetch order: stacked anti-diagonal D, then blocks descending (rows descending); on D,
    # block D//t - q holds its diagonal D%t + q*t (q < nq)
    n_diag = nb * t + w - 1
    nq = (t + w - 2) // t + 1
    d_all = np.arange(n_diag, dtype=np.int64)[:, None]
    b_all = d_all // t - np.arange(nq, dtype=np.int64)[None, :]
    rel = d_all - b_all * t
    inside = (b_all >= 0) & (b_all < nb) & (rel < nd)
    e = np.where(inside, c[np.clip(b_all, 0, nb - 1), np.clip(rel, 0, nd - 1)], 0)
    flat = e.ravel()
    before = (np.cumsum(flat) - flat).reshape(e.shape)
    has = c.any(axis=1)
    d_f = np.argmax(c > 0, axis=1)
    d_l = nd - 1 - np.argmax(c[:, ::-1] > 0, axis=1)
    blk = np.arange(nb, dtype=np.int64)
    first = before[blk * t + d_f, d_f // t]
    last = before[blk * t + d_l, d_l // t] + c[blk, d_l] - 1
    return _RaggedLayout(
        int(flat.sum()),
        first,
        np.where(has, last, first - 1),
        d_f.astype(np.int64),
        np.cumsum(e.sum(axis=1)),
        empty,
        empty,
        empty,
    )


@dataclass(frozen=True)
class _RaggedRing:
    """The :class:`_RaggedLayout` of each ragged ifmap among the ring replay's pairs (``on``),
    concatenated: per pair its offsets into the block, diagonal and row tables and the shift
    that keeps the concatenated ``diag_end`` and ``row_first`` ascending (for one vectorized
    ``searchsorted`` over all pairs)."""

    on: BoolArray
    blk: IntArray
    diag: IntArray
    row: IntArray
    shift: IntArray
    valid: IntArray
    first: IntArray
    last: IntArray
    first_diag: IntArray
    diag_end: IntArray
    row_first: IntArray
    row_count: IntArray
    prev_rows: IntArray

    def block_ends(self, p: IntArray, b: IntArray) -> tuple[IntArray, IntArray, IntArray]:
        """Ring positions of the first and last valid entries of block ``b`` (``last < first``
        where it has none) and the first one's anti-diagonal within the block."""
        at = self.blk[p] + b
        return self.first[at], self.last[at], self.first_diag[at]

    def diag_of(self, p: IntArray, x: IntArray) -> IntArray:
        """Stacked anti-diagonal holding the entry at ring position ``x``."""
        at = np.searchsorted(self.diag_end, x + self.shift[p], side="right")
        return _i64(at - self.diag[p])

    def rows(self, p: IntArray, g: IntArray) -> tuple[IntArray, IntArray]:
        """Ring position of row ``g``'s first entry and its valid entries (row-major)."""
        at = self.row[p] + g
        return _i64(self.row_first[at] - self.shift[p]), self.row_count[at]

    def row_prev(self, p: IntArray, g: IntArray) -> IntArray:
        """Last row ``<= g`` holding a valid entry (``-1`` if none)."""
        return self.prev_rows[self.row[p] + np.maximum(g, 0)]

    def row_below(self, p: IntArray, x: IntArray, right: bool) -> IntArray:
        """Last row whose first entry lies before ring position ``x`` (at or before it with
        ``right``); ``-1`` if none."""
        at = np.searchsorted(self.row_first, x + self.shift[p], side="right" if right else "left")
        return _i64(at - 1 - self.row[p])


def _ragged_ring(
    on: BoolArray, geom: tuple[IntArray, ...], df: IntArray, width: IntArray
) -> _RaggedRing | None:
    """The :class:`_RaggedRing` of the pairs ``on`` (1-D) from their conv geometry
    ``(ih, iw, fh, fw, ch, sh, sw)``, dataflow codes and block widths; ``None`` if none."""
    sel = np.flatnonzero(on)
    if sel.size == 0:
        return None
    keys = np.stack([g[sel] for g in geom] + [df[sel], width[sel]], axis=1)
    uniq, inv = np.unique(keys, axis=0, return_inverse=True)
    lays = [_ragged_layout(*(int(x) for x in key)) for key in uniq]

    def offsets(sizes: list[int]) -> IntArray:
        return np.concatenate([[0], np.cumsum(sizes[:-1])]).astype(np.int64)

    blk = offsets([x.first.size for x in lays])
    diag = offsets([x.diag_end.size for x in lays])
    row = offsets([x.row_first.size for x in lays])
    shift = offsets([x.valid + 1 for x in lays])
    n = on.size

    def per_pair(x: IntArray) -> IntArray:
        out = np.zeros(n, dtype=np.int64)
        out[sel] = x[inv.ravel()]
        return out

    def cat(name: str, shifted: bool = False) -> IntArray:
        parts = [getattr(x, name) + (shift[i] if shifted else 0) for i, x in enumerate(lays)]
        return np.concatenate(parts).astype(np.int64)

    return _RaggedRing(
        on=on,
        blk=per_pair(blk),
        diag=per_pair(diag),
        row=per_pair(row),
        shift=per_pair(shift),
        valid=per_pair(np.array([x.valid for x in lays], dtype=np.int64)),
        first=cat("first"),
        last=cat("last"),
        first_diag=cat("first_diag"),
        diag_end=cat("diag_end", True),
        row_first=cat("row_first", True),
        row_count=cat("row_count"),
        prev_rows=cat("row_prev"),
    )


def _ragged_block_ends(
    rg: _RaggedRing,
    p: IntArray,
    b: IntArray,
    ring: tuple[IntArray, IntArray],
    r: IntArray,
    out: tuple[IntArray, IntArray, IntArray],
) -> None:
    """Skewed folds of ragged ifmaps (pairs ``p``, at ``r`` in the fold's arrays): ``out`` =
    (first set, last set, first line) set to those of block ``b``'s first and last valid
    entries (the first demanded on the line of its anti-diagonal); a block without any
    demands nothing (both sets at the window start ``ring[0]``)."""
    s_o, eps = ring
    x0, x1, line0 = out
    fi, la, fd = rg.block_ends(p, b[r])
    none = la < fi
    x0[r] = np.where(none, s_o[r], fi // eps[r])
    x1[r] = np.where(none, s_o[r], la // eps[r])
    line0[r] += fd


def _ragged_top_row(
    rg: _RaggedRing,
    p: IntArray,
    fold: tuple[IntArray, IntArray],
    ring: tuple[IntArray, IntArray],
    r: IntArray,
    out: tuple[IntArray, IntArray, IntArray, IntArray],
) -> None:
    """Row-major folds of ragged ifmaps (pairs ``p``, at ``r`` in the fold's arrays; ``fold``
    = the block's first row, the fold's first row within the block): the first
    demanded row is the highest holding a valid entry; ``out`` = (that row, its first and last
    sets, its line) updated; a fold without any demands nothing (row below the fold, both sets
    at the window start)."""
    g0, k_bot = (x[r] for x in fold)
    s_o, eps = (x[r] for x in ring)
    k_top, x0, x1, line0 = out
    g = rg.row_prev(p, g0 + k_top[r])
    kt = g - g0
    none = kt < k_bot
    f, n = rg.rows(p, g)
    x0[r] = np.where(none, s_o, f // eps)
    x1[r] = np.where(none, s_o, (f + n - 1) // eps)
    line0[r] += k_top[r] - np.where(none, k_top[r], kt)
    k_top[r] = np.where(none, k_bot - 1, kt)


def _ragged_row_miss(
    rg: _RaggedRing,
    p_all: IntArray,
    g0_all: IntArray,
    at: tuple[IntArray, IntArray, IntArray, IntArray],
    out: tuple[IntArray, IntArray, IntArray],
    mine: BoolArray | None = None,
) -> tuple[IntArray, IntArray, IntArray]:
    """Row-major folds below the top row: for the ragged ifmaps among ``p_all`` (``mine``, or
    every ragged pair; blocks from row ``g0_all``), the highest non-empty row below ``k_cur``
    whose first valid entry lies before ring position ``x`` (``at = (x, k_cur, k_bot, eps)``),
    ``-1`` if none at or above ``k_bot``, and its first and last sets: ``out`` = (row, first
    set, last set) updated."""
    k_miss, a, e = out
    m = np.flatnonzero(rg.on[p_all] if mine is None else mine)
    if m.size == 0:
        return k_miss, a, e
    x, k_cur, k_bot, eps = (v[m] for v in at)
    p, g0 = p_all[m], g0_all[m]
    ks = np.minimum(rg.row_below(p, x, right=False) - g0, k_cur - 1)
    km = np.where(ks >= k_bot, rg.row_prev(p, g0 + ks) - g0, -1)
    f, n = rg.rows(p, g0 + np.maximum(km, 0))
    k_miss[m] = km
    a[m] = f // eps
    e[m] = (f + n - 1) // eps
    return k_miss, a, e


def _sweep_diag(
    x: IntArray,
    skew: tuple[IntArray, ...],
    rg: _RaggedRing | None,
    p: IntArray,
    mine: BoolArray | None = None,
) -> IntArray:
    """Anti-diagonal (from the block's first, at most ``span_d`` on; ``skew = (b_t, span_d,
    width, w_last, t, full_rows)`` as :func:`_skew_diag` takes them) holding ring entry ``x`` of
    a skewed sweep: :func:`_skew_diag`, or for ragged ifmaps the stacked diagonal holding the
    ``x``-th valid entry (``mine``: the sweeps of ragged ifmaps, of pairs ``p``)."""
    if rg is None:
        return _skew_diag(x, *skew)
    b_t, span_d = skew[0], skew[1]
    dg = np.zeros(x.shape, dtype=np.int64)
    on = rg.on[p] if mine is None else mine
    m, u = np.flatnonzero(on), np.flatnonzero(~on)
    if u.size:
        dg[u] = _skew_diag(x[u], *(a[u] for a in skew))
    q = p[m]
    xm = np.clip(x[m], 0, np.maximum(rg.valid[q] - 1, 0))
    dg[m] = np.minimum(np.maximum(rg.diag_of(q, xm) - b_t[m], 0), span_d[m])
    return dg


def _ragged_fold_span(
    rg: _RaggedRing,
    p: IntArray,
    fold: tuple[IntArray, IntArray],
    shape: tuple[IntArray, IntArray, IntArray, IntArray],
    target: IntArray,
    folds: IntArray,
) -> tuple[IntArray, IntArray]:
    """:meth:`_RingPeriod._skip_inside` on ragged row-major ifmaps (pairs ``p``; ``fold`` =
    the next fold's block first row and its first row within the block; ``shape`` = rows per
    block, rows per fold, row folds, entries per set): the set of the next fold's first entry
    and the fold holding ring entry ``target`` (``folds`` past the last valid entry)."""
    t, rows, rf, eps = shape
    f, _ = rg.rows(p, fold[0] + fold[1])
    g = rg.row_below(p, target, right=True)
    f_t = np.where(
        target >= rg.valid[p], folds, (g // t) * rf + np.minimum((g % t) // rows, rf - 1)
    )
    return f // eps, _i64(f_t)


_DUP_MAX_ENTRIES = 1 << 20
"""Most prefetch entries (ifmap operand matrix, padding included) whose duplicate-address
layout :func:`_dup_layout` tabulates (about 60 MiB of scratch while it is built): larger
ifmaps keep the one-entry-per-request ring (an estimate, like every ring replay of overlapping
windows)."""

_DUP_RISES = 1 << 14
"""Most running-maximum points a :class:`_DupLayout` keeps (besides one a block): the cache of
256 layouts stays within about 60 MiB."""


@dataclass(frozen=True)
class _DupLayout:
    """Duplicated addresses in a skewed ifmap prefetch stream (ws/os; one conv, dataflow and
    block width): overlapping conv windows repeat ifmap addresses, and SCALE-Sim's read buffer
    hits a request wherever a copy of its address lies in the active window. ``valid``: the
    stream's entries (a ring position counts them, in fetch order); ``max_lag``: the largest
    distance from an entry back to the previous copy of its address (0 when none repeats);
    ``max_first``: the last position holding an address's first copy. Per block (``b_first
    > b_last``: no entry), its first request's position ``b_pos``, the first and last copies
    of its address anywhere in the stream (``b_first``, ``b_last``) and its anti-diagonal
    within the block ``b_diag``, and the largest first copy of its requests' addresses
    ``b_top``; and over the block's requests in fetch order the running maximum of their first
    copies where it first reaches a multiple of a grain (``rm``, with that request's
    anti-diagonal ``diag``; block ``b``'s at ``off[b] .. off[b + 1] - 1``): at most
    :data:`_DUP_RISES` a layout plus one a block, so a move's line is that of a request at most
    a grain of first copies late. ``stairs`` (where at most as many points): per block, with
    its requests ordered by their address's last copy, the last copies where the running
    maximum of the first copies rises and that maximum (``s_last``, ``s_top``; block ``b``'s
    at ``s_off[b] .. s_off[b + 1] - 1``): where the window reaches round the ring into the
    turn before, a request whose last copy lies in that part hits, so a sweep ends at the
    largest first copy of the others."""

    valid: int
    max_lag: int
    max_first: int
    b_pos: IntArray
    b_first: IntArray
    b_last: IntArray
    b_diag: IntArray
    b_top: IntArray
    off: npt.NDArray[np.int32]
    rm: npt.NDArray[np.int32]
    diag: npt.NDArray[np.int32]
    stairs: bool
    s_off: npt.NDArray[np.int32]
    s_last: npt.NDArray[np.int32]
    s_top: npt.NDArray[np.int32]


@functools.lru_cache(maxsize=256)
def _dup_layout(
    ih: int, iw: int, fh: int, fw: int, ch: int, sh: int, sw: int, df: int, width: int
) -> _DupLayout | None:
    """The :class:`_DupLayout` of a conv's skewed ifmap prefetch stream (``df`` 0 = os, 1 =
    ws) in blocks ``width`` wide, ``None`` beyond :data:`_DUP_MAX_ENTRIES` entries: SCALE-Sim's
    addresses (``calc_ifmap_elem_addr``, as
    :func:`~codesign_playground.perf.scalesim_replay._ifmap_addr`) in its fetch order (the
    stacked blocks' anti-diagonals, rows descending; ``-1`` entries dropped; ``None`` too
    where no entry is valid). Cached:
    exploration prices many designs on one layout."""
    oh = -(-(ih - fh + sh) // sh)
    ow = -(-(iw - fw + sw) // sw)
    m, k = oh * ow, fh * fw * ch
    if m * k > _DUP_MAX_ENTRIES or ih * iw * ch >= 1 << 31:
        return None
    # int32 throughout (entries and addresses fit): the build is memory bound
    orow, ocol = np.divmod(np.arange(m, dtype=np.int32), ow)
    crow, rest = np.divmod(np.arange(k, dtype=np.int32), fw * ch)
    ccol, cch = np.divmod(rest, ch)
    pix = (orow * sh * iw + ocol * sw) * ch
    win = (crow * iw + ccol) * ch + cch
    if df == 1:  # ws: rows are ofmap pixels, columns window positions
        t, span = m, k
        addr = pix[:, None] + win[None, :]
        ok = (crow[None, :] < ih - orow[:, None] * sh) & (ccol[None, :] < iw - ocol[:, None] * sw)
    else:  # os: rows are window positions, columns ofmap pixels
        t, span = k, m
        addr = win[:, None] + pix[None, :]
        ok = (crow[:, None] < ih - orow[None, :] * sh) & (ccol[:, None] < iw - ocol[None, :] * sw)
    w = width
    nb = -(-span // w)
    if nb * t * w > _DUP_MAX_ENTRIES:
        return None
    addr = np.pad(np.where(ok, addr, -1), ((0, 0), (0, nb * w - span)), constant_values=-1)
    stacked = addr.reshape(t, nb, w).transpose(1, 0, 2).reshape(nb * t, w)
    flat = np.arange(stacked.size, dtype=np.int32).reshape(stacked.shape)
    idx = _diagonal(np.where(stacked >= 0, flat, -1))  # valid entries in fetch order
    if idx.size == 0:
        return None
    a = stacked.ravel()[idx]
    row = idx // w
    blk = row // t
    rel = row - blk * t + idx % w
    by_addr = np.argsort(a, kind="stable")  # positions ascending within an address
    same = a[by_addr][1:] == a[by_addr][:-1]
    lags = np.diff(by_addr)[same]
    starts = np.flatnonzero(np.r_[True, ~same])
    count = np.diff(np.r_[starts, by_addr.size])
    f_of = np.empty(idx.size, dtype=np.int32)
    l_of = np.empty(idx.size, dtype=np.int32)
    f_of[by_addr] = np.repeat(by_addr[starts], count)
    l_of[by_addr] = np.repeat(by_addr[starts + count - 1], count)
    # each block's requests in fetch order: running maximum of their first copies, kept where
    # it first reaches a multiple of ``grain`` (at most _DUP_RISES a layout, plus each block's
    # first request) and at each block's largest
    by_blk = np.argsort(blk.astype(np.int16) if nb < 1 << 15 else blk, kind="stable")  # radix
    bs = blk[by_blk].astype(np.int64)
    stride = idx.size + 1
    rm = np.maximum.accumulate(f_of[by_blk] + bs * stride) - bs * stride
    grain = max(-(-idx.size // _DUP_RISES), 1)
    new_blk = np.r_[True, bs[1:] != bs[:-1]]
    step = rm // grain
    rise = new_blk | np.r_[False, step[1:] != step[:-1]]
    b0 = np.searchsorted(bs, np.arange(nb))
    b_end = np.searchsorted(bs, np.arange(nb), side="right") - 1
    has = np.r_[bs, -1][b0] == np.arange(nb)
    q0 = by_blk[np.minimum(b0, idx.size - 1)]
    # per block, the largest first copy over the requests whose last copy lies below a bound
    # (a staircase: last copies ascending, where the running maximum rises), dropped past the cap
    sp = l_of[by_blk].astype(np.int64)
    o2 = np.argsort(bs * stride + sp)  # ties (one last copy) share their maximum
    sps, bss = sp[o2], bs[o2]
    pm = np.maximum.accumulate(f_of[by_blk][o2] + bss * stride) - bss * stride
    st = np.r_[True, (bss[1:] != bss[:-1]) | (pm[1:] != pm[:-1])]
    stairs = int(np.count_nonzero(st)) <= _DUP_RISES + nb
    if not stairs:
        st = np.zeros(st.size, dtype=bool)
    return _DupLayout(
        int(idx.size),
        int(lags.max()) if lags.size else 0,
        int(f_of.max()),
        _i64(q0),
        _i64(np.where(has, f_of[q0], 1)),
        _i64(np.where(has, l_of[q0], 0)),
        _i64(np.where(has, rel[q0], 0)),
        _i64(np.where(has, rm[np.maximum(b_end, 0)], 0)),
        np.searchsorted(bs[rise], np.arange(nb + 1)).astype(np.int32),
        rm[rise].astype(np.int32),
        rel[by_blk][rise].astype(np.int32),
        stairs,
        np.searchsorted(bss[st], np.arange(nb + 1)).astype(np.int32),
        sps[st].astype(np.int32),
        pm[st].astype(np.int32),
    )


@dataclass(frozen=True)
class _DupRing:
    """The :class:`_DupLayout` of the ifmaps among the ring replay's pairs that take
    duplicate-address hits (``on``), concatenated: block ``b`` of pair ``p`` is block
    ``blk[p] + b`` of ``b_pos``, ``b_first``, ``b_last``, ``b_diag``, ``b_top`` and ``off``
    (into ``rm`` and ``diag``); ``key = block*stride + rm`` ascends over all blocks (one
    ``searchsorted``)."""

    on: BoolArray
    blk: IntArray
    b_pos: IntArray
    b_first: IntArray
    b_last: IntArray
    b_diag: IntArray
    b_top: IntArray
    off: IntArray
    rm: IntArray
    diag: IntArray
    key: IntArray
    stride: int
    b_stairs: BoolArray
    s_off: IntArray
    s_top: IntArray
    s_key: IntArray

    def top_below(self, b: IntArray, most: IntArray) -> IntArray:
        """Largest first copy of block ``b``'s requests whose last copy lies below ring
        position ``most`` (``-1`` if none), where the block has stairs; else its largest."""
        if self.s_top.size == 0:
            return np.asarray(self.b_top[b], dtype=np.int64)
        # a bound past the block's last entry keeps the search inside the block (else it would
        # reach the next block's keys, and the result would depend on the call's other layouts)
        most = np.minimum(most, self.stride - 1)
        at = _i64(np.searchsorted(self.s_key, b * self.stride + most, side="left")) - 1
        at = np.minimum(at, self.s_off[b + 1] - 1)
        found = at >= self.s_off[b]
        top = np.where(found, self.s_top[np.maximum(at, 0)], -1)
        return np.asarray(np.where(self.b_stairs[b], top, self.b_top[b]), dtype=np.int64)

    def reaching(self, sg: IntArray, x: IntArray) -> IntArray:
        """Index (into ``rm``) of block ``sg``'s first request whose running maximum of first
        copies reaches ring position ``x``, clipped to the block's last."""
        at = _i64(np.searchsorted(self.key, sg * self.stride + np.minimum(x, self.stride - 1)))
        return np.clip(at, self.off[sg], np.maximum(self.off[sg + 1] - 1, self.off[sg]))


def _dup_ring(
    on: BoolArray,
    geom: tuple[IntArray, ...],
    df: IntArray,
    width: IntArray,
    ring: tuple[IntArray, IntArray],
) -> _DupRing | None:
    """The :class:`_DupRing` of the skewed ifmaps among the pairs ``on`` (1-D; geometry
    ``(ih, iw, fh, fw, ch, sh, sw)``, dataflow codes, block widths; ``ring`` = the active
    window's entries and the valid prefetch entries) whose windows overlap, whose layout is
    tabulated (:data:`_DUP_MAX_ENTRIES`) and where the first-copy rule holds
    (:func:`_ring_replay`): every copy's lag below the window, or every address's first copy
    in the first window (no refill at all); ``None`` if none."""
    fh, fw, sh, sw = geom[2], geom[3], geom[5], geom[6]
    window, valid = ring
    sel = np.flatnonzero(on & (df != 2) & ((fh > sh) | (fw > sw)))
    if sel.size == 0:
        return None
    keys = np.stack([g[sel] for g in geom] + [df[sel], width[sel]], axis=1)
    uniq, inv = np.unique(keys, axis=0, return_inverse=True)
    inv = inv.ravel()
    lays = [_dup_layout(*(int(x) for x in key)) for key in uniq]
    lag, size, max_first = (
        np.array([getattr(x, f) if x is not None else -1 for x in lays], dtype=np.int64)[inv]
        for f in ("max_lag", "valid", "max_first")
    )
    w_sel = window[sel]
    good = (lag > 0) & (size == valid[sel]) & ((lag < w_sel) | (max_first < w_sel))
    if not np.any(good):
        return None
    sel, inv = sel[good], inv[good]
    used, at = np.unique(inv, return_inverse=True)
    tabs = [x for x in (lays[u] for u in used) if x is not None]
    n_blk = [x.b_first.size for x in tabs]
    blk0 = np.concatenate([[0], np.cumsum(n_blk)[:-1]]).astype(np.int64)
    rm0 = np.concatenate([[0], np.cumsum([x.rm.size for x in tabs])[:-1]]).astype(np.int64)
    off = np.concatenate([x.off[:-1] + r for x, r in zip(tabs, rm0, strict=True)])
    off = np.r_[off, sum(x.rm.size for x in tabs)].astype(np.int64)
    rm = np.concatenate([x.rm for x in tabs]).astype(np.int64)
    stride = int(max(x.valid for x in tabs)) + 1
    blk_of = np.repeat(np.arange(off.size - 1, dtype=np.int64), np.diff(off))
    n = on.size
    blk = np.zeros(n, dtype=np.int64)
    blk[sel] = blk0[at.ravel()]
    mask = np.zeros(n, dtype=bool)
    mask[sel] = True

    def cat(name: str) -> IntArray:
        return np.concatenate([getattr(x, name) for x in tabs]).astype(np.int64)

    s0 = np.concatenate([[0], np.cumsum([x.s_last.size for x in tabs])[:-1]]).astype(np.int64)
    s_off = np.concatenate([x.s_off[:-1] + r for x, r in zip(tabs, s0, strict=True)])
    s_off = np.r_[s_off, sum(x.s_last.size for x in tabs)].astype(np.int64)
    s_blk = np.repeat(np.arange(s_off.size - 1, dtype=np.int64), np.diff(s_off))
    stairs = np.concatenate([np.full(x.b_first.size, x.stairs) for x in tabs])

    return _DupRing(
        mask,
        blk,
        cat("b_pos"),
        cat("b_first"),
        cat("b_last"),
        cat("b_diag"),
        cat("b_top"),
        off,
        rm,
        cat("diag"),
        blk_of * stride + rm,
        stride,
        stairs,
        s_off,
        cat("s_top"),
        s_blk * stride + cat("s_last"),
    )


def _dup_block_ends(
    dr: _DupRing,
    sg: IntArray,
    ring: tuple[IntArray, IntArray, IntArray, IntArray, IntArray],
    r: IntArray,
    out: tuple[IntArray, IntArray, IntArray],
) -> None:
    """Skewed folds of ifmaps with duplicate-address hits (members ``r``, their block ``sg``
    of the :class:`_DupRing`): ``out`` = (first set, last set, first line) of the fold's sweep
    (:func:`_ring_replay`). The first request hits where the span of its address's copies
    meets the window (mod the ring): the sweep starts at the window start, placed in the
    request's turn of the ring (behind it, or ahead within its copies); else the window jumps
    to its first copy. The sweep ends at the block's largest first copy (same turn); a block
    without any entry demands nothing (both sets at the window start)."""
    s_o, eps, n_sets, a_sets, p_sets = (v[r] for v in ring)
    x0, x1, line0 = out
    b = sg[r]
    q0, f0, l0 = dr.b_pos[b] // eps, dr.b_first[b] // eps, dr.b_last[b] // eps
    none = dr.b_first[b] > dr.b_last[b]
    ahead = (q0 - s_o) % n_sets
    back = n_sets - ahead
    behind = (ahead >= a_sets) & (back <= l0 - q0)  # window start among the later copies
    hit = ((f0 - s_o) % n_sets < a_sets) | ((s_o - f0) % n_sets <= l0 - f0)
    start = np.where(behind, q0 + back, q0 - ahead)  # the window start in q0's turn
    # where the window (after the jump) reaches into the turn before, the requests whose last
    # copy lies there hit while it does: the sweep's moves push the window start on, so the
    # bound follows the start after the moves to the largest first copy below it (a few
    # rounds to a fixed point)
    d = (f0 - s_o) % n_sets
    after = f0 - (d - _ring_move(d, a_sets, p_sets) * p_sets)
    base = np.where(hit, start, after)
    x_0 = np.where(hit, start, f0)
    top = np.full(b.size, -1, dtype=np.int64)
    moves = np.zeros(b.size, dtype=np.int64)
    for _ in range(4):
        bound = np.minimum(base + moves * p_sets + n_sets, n_sets) * eps
        top = dr.top_below(b, bound) // eps
        reach = np.maximum(top, x_0) - base  # the sweep's end from the window start
        nxt = _ring_move(reach, a_sets, p_sets)
        if np.array_equal(nxt, moves):
            break
        moves = nxt
    x0[r] = np.where(none, s_o, x_0)
    x1[r] = np.where(none | (top < 0), x0[r], np.maximum(top, x0[r]))
    line0[r] += np.where(none, 0, dr.b_diag[b])


def _dup_lines(
    dr: _DupRing,
    sg: IntArray,
    base: IntArray,
    moves: tuple[IntArray, IntArray],
    mine: BoolArray,
    at: IntArray,
) -> None:
    """Sweep moves of ifmaps with duplicate-address hits: a move whose window end is ring entry
    ``x`` (``moves = (x, member)``) happens on the line of the block's first request whose
    running maximum of first copies reaches ``x`` (segments ``sg`` per member); ``at``
    updated where ``mine`` holds."""
    r = np.flatnonzero(mine)
    if r.size == 0:
        return
    x, mem = moves[0][r], moves[1][r]
    at[r] = base[mem] + dr.diag[dr.reaching(sg[mem], x)]


def _dup_merge(
    idx: IntArray, oo: IntArray, sel: IntArray, at: IntArray, mine: BoolArray
) -> list[tuple[IntArray, IntArray, IntArray, IntArray]]:
    """Refill events of the sweep moves (members ``sel``, lines ``at``): one a move, except for
    the members with duplicate-address hits (``mine``), whose moves on one line (a miss that
    refills more than once) are one event of that many refills."""
    out = []
    u = np.flatnonzero(~mine)
    if u.size:
        out.append((idx[sel[u]], at[u], np.ones(u.size, dtype=np.int64), oo[sel[u]]))
    d = np.flatnonzero(mine)
    if d.size:
        ds, dl = sel[d], at[d]
        o = np.lexsort((dl, ds))
        ds, dl = ds[o], dl[o]
        st = np.flatnonzero(np.r_[True, (ds[1:] != ds[:-1]) | (dl[1:] != dl[:-1])])
        cnt = _i64(np.diff(np.r_[st, ds.size]))
        out.append((idx[ds[st]], dl[st], cnt, oo[ds[st]]))
    return out


_RING_TABLE = 1 << 20
"""Most (operand, block) entries whose sweep bounds :class:`_RingGroup` tabulates (3 int64 each,
24 MiB): beyond, each fold recomputes its block's bounds."""


class _RingGroup:
    """The live (pair, operand) members of one kind (skewed or ``row_major``) of
    :func:`_ring_replay`, both operands together (``oo`` the operand of each), with their fold
    shape. Skewed members' per-block sweep bounds are tabulated once few enough are left (a
    block's bounds are the same on every fold that demands it)."""

    def __init__(
        self,
        ops: tuple[_RingOperand, _RingOperand],
        rm: bool,
        rows: IntArray,
        row_folds: IntArray,
        fold_lines: IntArray,
    ) -> None:
        parts = [np.flatnonzero(op.on & (op.row_major == rm)) for op in ops]
        self.rm = rm
        self.idx = np.concatenate(parts)
        self.oo = np.concatenate([np.full(p.size, o, dtype=np.int64) for o, p in enumerate(parts)])
        self.op = _RingOperand(
            *(
                np.concatenate([getattr(op, f)[p] for op, p in zip(ops, parts, strict=True)])
                for f in _RING_FIELDS
            )
        )
        self.rows, self.rf, self.fl = rows[self.idx], row_folds[self.idx], fold_lines[self.idx]
        self.w_last = self.op.span - (self.op.blocks - 1) * self.op.width
        self.n = self.idx.size
        self.tab: tuple[IntArray, IntArray, IntArray, IntArray] | None = None
        self._tabulate()

    def keep_live(self, live: BoolArray) -> None:
        """Drop the members whose pair has run all its folds."""
        keep = live[self.idx]
        if np.all(keep):
            return
        sel = np.flatnonzero(keep)
        self.idx, self.oo, self.op = self.idx[sel], self.oo[sel], _take(self.op, sel)
        self.rows, self.rf, self.fl = self.rows[sel], self.rf[sel], self.fl[sel]
        self.w_last = self.w_last[sel]
        self.n = sel.size
        if self.tab is not None:
            self.tab = (self.tab[0][sel], *self.tab[1:])
        else:
            self._tabulate()

    def _bounds(self, m: IntArray, b: IntArray) -> tuple[IntArray, IntArray, IntArray]:
        """Skewed block ``b`` of members ``m``: its first entry (``count(b*t)``), first and last
        sets (:func:`_box_pairs` on the stacked blocks' anti-diagonals)."""
        op, w_last = self.op, self.w_last[m]
        t, width, eps = op.t[m], op.width[m], op.eps[m]
        wb = np.where(b >= op.blocks[m] - 1, w_last, width)
        full_rows = (op.blocks[m] - 1) * t
        pos0 = _box_pairs(b * t, width, full_rows) + _box_pairs(b * t - full_rows, w_last, t)
        end = b * t + t + wb - 1
        x1 = (_box_pairs(end, width, full_rows) + _box_pairs(end - full_rows, w_last, t) - 1) // eps
        return pos0, pos0 // eps, _i64(x1)

    def _tabulate(self) -> None:
        if self.rm or self.n == 0 or int(np.sum(self.op.blocks)) > _RING_TABLE:
            return
        blocks = self.op.blocks
        start = np.cumsum(blocks) - blocks
        m = np.repeat(np.arange(self.n), blocks)
        b = np.arange(m.size) - start[m]
        self.tab = (_i64(start), *self._bounds(m, b))

    def sweep(self, b: IntArray) -> tuple[IntArray, IntArray, IntArray]:
        """First entry, first and last sets of every member's block ``b``."""
        if self.tab is None:
            return self._bounds(np.arange(self.n), b)
        j = self.tab[0] + b
        return self.tab[1][j], self.tab[2][j], self.tab[3][j]


def _ring_replay(
    ops: tuple[_RingOperand, _RingOperand],
    rows: IntArray,
    row_folds: IntArray,
    folds: IntArray,
    fold_lines: IntArray,
    timed: BoolArray,
    record: BoolArray,
    ragged: _RaggedRing | None = None,
    dups: _DupRing | None = None,
) -> tuple[list[IntArray], list[FloatArray], list[FloatArray], IntArray, tuple[IntArray, ...]]:
    """USER-mode refills of the ifmap and filter SRAMs replayed fold by fold on their rings of
    sets, and the read stalls they cost (vectorized over pairs, 1-D): per operand the refill
    count and the demand lines of the first and last refill, then the stall cycles.

    The window of ``a_sets`` sets starts at set 0; a request outside it moves it ``p_sets``
    sets round the ring (one refill each) until it is inside. Folds run column fold outer,
    row fold inner.

    - Skewed operands (ws/os ifmap, is/os filter): blocks stacked and read along anti-diagonals
      (rows descending). A fold demands its block in that same order, so its requests sweep the
      ring monotonically from the block's first entry (row 0, column 0: ``count(b*t)`` entries
      precede it, ``count(D)`` = entries on the anti-diagonals before ``D``,
      :func:`_box_pairs`) to its last one (``count(b*t + t + w - 1) - 1``): a jump to the first
      set, then a move each time the sweep reaches the window's end, on the line of the
      anti-diagonal holding that set's first entry.
    - Block operands (ws filter, is ifmap; ``row_major``): entry ``(b, k, j)`` at ``b*t*width +
      k*w + j``. A fold demands rows ``fr*Rows .. +ur-1`` from the last one down (row ``k`` on
      line ``Rows - 1 - (k - fr*Rows)``), each row's columns ascending: the top row is a sweep;
      below it, the first row starting before the window start misses and moves the window
      round the ring until its start, then its end, is inside; and so on down.

    Stalls: the lines with refills in line order, line ``L`` at cycle ``L + S`` (``S`` the
    stalls so far) stalling by :func:`_burst_stall` (the larger of the two SRAMs' on a shared
    line).

    Duplicated conv-window addresses (``dups``, :class:`_DupRing`; skewed ifmaps whose
    windows overlap): SCALE-Sim hits a request wherever a copy of its address lies in the
    window and on a miss moves the window until the first copy ahead is in. Where every copy
    lies less than a window after the previous copy of its address, a request ahead of the
    window misses exactly when its address's first copy is ahead of the window too (else a
    copy lies inside: the copies between are less than a window apart), and the window moves
    to cover that first copy. So a fold sweeps up to the largest first copy of its block's
    requests, move ``i`` on the line of the first request whose running maximum of first
    copies reaches the move's window end; the fold's first request hits where the span of its
    address's copies meets the window (mod the ring), else the window jumps to its first copy
    (:func:`_dup_block_ends`). Also taken where every first copy lies in the first window
    (nothing refills). Elsewhere (lags beyond the window, layouts over
    :data:`_DUP_MAX_ENTRIES`, the row-major is ifmap) each request is its own prefetch entry,
    which overcounts refills where windows overlap.

    Ragged ifmaps (``ragged``: windows over the ifmap edge, whose ``-1`` entries SCALE-Sim
    drops from the prefetch stream and from the demand) take every position as a count of
    valid entries (:class:`_RaggedRing`): a fold's first and last demanded entries are its
    first and last valid ones, and the lines come from the anti-diagonal or row holding them.

    Where ``record`` holds, the refill lines are also returned (pair, line, refills, operand;
    in pair, line order, for :func:`_joint_stall`); those pairs replay every fold (no skips)."""
    d_n = folds.size
    s = np.zeros((2, d_n), dtype=np.int64)  # per operand (rows), per pair
    refills = np.zeros((2, d_n), dtype=np.int64)
    first = np.full((2, d_n), -1.0)
    last = np.zeros((2, d_n))
    stall = np.zeros(d_n, dtype=np.int64)
    cur = np.full(d_n, -1, dtype=np.int64)
    worst = np.zeros(d_n, dtype=np.int64)
    base_s = np.zeros(d_n, dtype=np.int64)
    done = np.zeros((2, d_n), dtype=np.int64)  # refills whose stalls are counted

    def note(o: IntArray, idx: IntArray, line: IntArray, k: IntArray) -> None:
        """Refills ``k`` of operands ``o`` on ``line`` for pairs ``idx`` (first/last lines)."""
        hit = np.flatnonzero(k > 0)
        if hit.size == 0:
            return
        at, lf = o[hit] * d_n + idx[hit], line[hit].astype(np.float64)  # flat (operand, pair)
        refills.ravel()[at] += k[hit]
        seen = first.ravel()[at]
        first.ravel()[at] = np.where(seen < 0, lf, seen)
        last.ravel()[at] = np.maximum(last.ravel()[at], lf)

    # One group per kind (skewed, row major), both operands in it; each pair runs its own next
    # fold ``fp`` (periodic stretches are skipped, :class:`_RingPeriod`), a group keeps its live
    # pairs.
    groups = [
        g for g in (_RingGroup(ops, rm, rows, row_folds, fold_lines) for rm in (False, True)) if g.n
    ]
    fp = np.zeros(d_n, dtype=np.int64)
    fp[~(ops[0].on | ops[1].on)] = folds[~(ops[0].on | ops[1].on)]
    period = _RingPeriod(ops, rows, row_folds, fold_lines, timed & ~record, ragged)
    kept: list[tuple[IntArray, IntArray, IntArray, IntArray]] = []
    n_live = -1
    while True:
        live = fp < folds
        now_live = int(np.count_nonzero(live))
        if now_live == 0:
            break
        changed, n_live = now_live != n_live, now_live
        ev: list[tuple[IntArray, IntArray, IntArray, IntArray]] = []  # (pairs, lines, refills, op)
        for g in groups:
            if changed:
                g.keep_live(live)
            if g.n == 0:
                continue
            idx, oo, op, rm = g.idx, g.oo, g.op, g.rm
            rows_n, rf_n, fl_n = g.rows, g.rf, g.fl
            is_rag = (oo == 0) & ragged.on[idx] if ragged is not None else np.zeros(g.n, bool)
            rag = np.flatnonzero(is_rag)  # members that are ragged ifmaps
            is_dup = (oo == 0) & dups.on[idx] if dups is not None and not rm else None
            dup = np.flatnonzero(is_dup) if is_dup is not None else np.zeros(0, np.int64)
            f = fp[idx]
            fc, fr = f // rf_n, f % rf_n
            s_o = s[oo, idx]
            b = np.where(op.by_row_fold, fr, fc)
            w_last = g.w_last
            wb = np.where(b >= op.blocks - 1, w_last, op.width)
            eps, n_sets, a_sets, p_sets = op.eps, op.n_sets, op.a_sets, op.p_sets
            base = f * fl_n + op.prefix
            if rm:
                ur = np.minimum(rows_n, op.t - fr * rows_n)
                k_top = fr * rows_n + ur - 1
                row0 = b * op.t * op.width
                x0 = (row0 + k_top * wb) // eps
                x1 = (row0 + k_top * wb + wb - 1) // eps
                line0 = base + rows_n - ur
                if ragged is not None and rag.size:
                    _ragged_top_row(
                        ragged,
                        idx[rag],
                        (b * op.t, fr * rows_n),
                        (s_o, eps),
                        rag,
                        (k_top, x0, x1, line0),
                    )
            else:
                _, x0, x1 = g.sweep(b)
                span_d = op.t + wb - 2
                full_rows = (op.blocks - 1) * op.t
                skew = (b * op.t, span_d, op.width, w_last, op.t, full_rows)
                line0 = base
                if ragged is not None and rag.size:
                    line0 = base.copy()
                    _ragged_block_ends(ragged, idx[rag], b, (s_o, eps), rag, (x0, x1, line0))
                if dups is not None and dup.size:
                    line0 = line0.copy()
                    dseg = np.zeros(g.n, dtype=np.int64)
                    dseg[dup] = dups.blk[idx[dup]] + b[dup]
                    _dup_block_ends(
                        dups, dseg, (s_o, eps, n_sets, a_sets, p_sets), dup, (x0, x1, line0)
                    )
            d = _i64((x0 - s_o) % n_sets)
            k_jump = _ring_move(d, a_sets, p_sets)
            off = d - k_jump * p_sets
            k = _ring_move(off + x1 - x0, a_sets, p_sets)
            k_line0 = _i64(k_jump + k) if rm else k_jump
            note(oo, idx, _i64(line0), k_line0)
            tm = timed[idx]
            ev.append((idx, _i64(line0), np.where(tm, k_line0, 0), oo))
            ks = np.flatnonzero(k > 0) if not rm else np.zeros(0, dtype=np.int64)
            if ks.size:
                # skewed sweep: move i on the line of the first entry of set x0 + A - off + iP
                k_s, tm_s = k[ks], tm[ks]
                moves = int(np.max(np.where(tm_s, k_s, 0), initial=0))
                if moves:
                    i = np.arange(moves)[:, np.newaxis]
                    mv, sweep = np.nonzero((k_s > i) & tm_s)
                    sel = ks[sweep]
                    x = (x0 + a_sets - off)[sel] + mv * p_sets[sel]
                    # (members with duplicate-address hits take their lines from _dup_lines)
                    nd = sel if is_dup is None else sel[~is_dup[sel]]
                    dg = np.zeros(sel.size, dtype=np.int64)
                    dg[np.flatnonzero(~is_dup[sel]) if is_dup is not None else slice(None)] = (
                        _sweep_diag(
                            (x if is_dup is None else x[~is_dup[sel]]) * eps[nd],
                            tuple(a[nd] for a in skew),
                            ragged if rag.size else None,
                            idx[nd],
                            is_rag[nd],
                        )
                    )
                    at = _i64(base[sel] + dg)
                    if dups is not None and is_dup is not None and dup.size:
                        _dup_lines(dups, dseg, base, (x * eps[sel], sel), is_dup[sel], at)
                        ev.extend(_dup_merge(idx, oo, sel, at, is_dup[sel]))
                    else:
                        ev.append((idx[sel], at, np.ones(sel.size, dtype=np.int64), oo[sel]))
                # the sweep's first and last moves (on the line of their set's first entry):
                # those of the moves above where every sweep is timed
                if moves and np.all(tm_s):
                    first_at = at[: ks.size]  # move 0 of every sweep comes first
                    last_at = np.empty(ks.size, dtype=np.int64)
                    end = mv == k_s[sweep] - 1
                    last_at[sweep[end]] = at[end]
                else:
                    x_s, p_s, e_s = (x0 + a_sets - off)[ks], p_sets[ks], eps[ks]
                    both = np.concatenate([x_s, x_s + (k_s - 1) * p_s]) * np.tile(e_s, 2)
                    k2 = np.tile(ks, 2)
                    o2 = np.arange(k2.size) if is_dup is None else np.flatnonzero(~is_dup[k2])
                    dg2 = np.zeros(k2.size, dtype=np.int64)
                    dg2[o2] = _sweep_diag(
                        both[o2],
                        tuple(a[k2[o2]] for a in skew),
                        ragged if rag.size else None,
                        idx[k2[o2]],
                        is_rag[k2[o2]],
                    )
                    at2 = _i64(np.tile(base[ks], 2) + dg2)
                    if dups is not None and is_dup is not None and dup.size:
                        ks2 = np.tile(ks, 2)
                        _dup_lines(dups, dseg, base, (both, ks2), is_dup[ks2], at2)
                    first_at, last_at = at2[: ks.size], at2[ks.size :]
                note(oo[ks], idx[ks], first_at, np.ones(ks.size, dtype=np.int64))
                more = np.flatnonzero(k_s > 1)
                om, im = oo[ks[more]], idx[ks[more]]
                refills[om, im] += k_s[more] - 1
                last[om, im] = last_at[more]
            s_o = (s_o + (k_jump + k) * p_sets) % n_sets
            if rm:
                # block operands: the rows below, top down
                sub = np.flatnonzero(k_top > fr * rows_n)
                k_cur, e_cur = k_top[sub], x1[sub]
                while sub.size:
                    s_i, n_i, a_i, p_i, e_i = (
                        s_o[sub],
                        n_sets[sub],
                        a_sets[sub],
                        p_sets[sub],
                        eps[sub],
                    )
                    start = e_cur - (e_cur - s_i) % n_i  # window start, unwrapped near the fold
                    r0, w_i, k_bot = row0[sub], wb[sub], (fr * rows_n)[sub]
                    k_miss = np.minimum(_ceil_div(start * e_i - r0, w_i) - 1, k_cur - 1)
                    a = (r0 + k_miss * w_i) // e_i
                    e = (r0 + k_miss * w_i + w_i - 1) // e_i
                    if ragged is not None and rag.size:
                        k_miss, a, e = _ragged_row_miss(
                            ragged,
                            idx[sub],
                            (b * op.t)[sub],
                            (start * e_i, k_cur, k_bot, e_i),
                            (k_miss, a, e),
                            is_rag[sub],
                        )
                    miss = k_miss >= k_bot
                    d_i = (a - s_i) % n_i
                    k1 = np.where(miss, _ring_move(d_i, a_i, p_i), 0)
                    k2 = np.where(miss, _ring_move(d_i - k1 * p_i + e - a, a_i, p_i), 0)
                    line = base[sub] + rows_n[sub] - 1 - (k_miss - k_bot)
                    note(oo[sub], idx[sub], _i64(line), _i64(k1 + k2))
                    ev.append((idx[sub], _i64(line), np.where(tm[sub], _i64(k1 + k2), 0), oo[sub]))
                    s_o[sub] = (s_i + (k1 + k2) * p_i) % n_i
                    sub, k_cur, e_cur = sub[miss], k_miss[miss], e[miss]
            s[oo, idx] = s_o

        # the fold's refills in line order (per pair): counts, first/last lines and stalls
        ev_r = np.concatenate([e[2] for e in ev]) if ev else np.zeros(0, dtype=np.int64)
        keep = ev_r > 0
        if not np.any(keep):
            fp[live] += 1
            period.step(np.flatnonzero(live), fp, folds, s, refills, done, last, stall)
            continue
        ev_r = ev_r[keep]
        ev_p = np.concatenate([e[0] for e in ev])[keep]
        ev_l = np.concatenate([e[1] for e in ev])[keep]
        ev_w = np.concatenate([e[3] for e in ev])[keep]
        srt = np.lexsort((ev_w, ev_l, ev_p))
        ev_p, ev_l, ev_r, ev_w = ev_p[srt], ev_l[srt], ev_r[srt], ev_w[srt]
        rec = record[ev_p]
        if np.any(rec):
            kept.append((ev_p[rec], ev_l[rec], ev_r[rec], ev_w[rec]))
        group = np.flatnonzero(np.r_[True, ev_p[1:] != ev_p[:-1]])
        rank = np.arange(ev_p.size) - np.repeat(group, np.diff(np.r_[group, ev_p.size]))
        by_rank = np.argsort(rank, kind="stable")
        bounds = np.searchsorted(rank[by_rank], np.arange(int(rank.max()) + 2))
        pairs = ev_p[group]
        cur[pairs] = -1
        worst[pairs] = 0
        base_s[pairs] = stall[pairs]
        for j in range(bounds.size - 1):
            ix = by_rank[bounds[j] : bounds[j + 1]]
            pp, ln, r, w = ev_p[ix], ev_l[ix], ev_r[ix], ev_w[ix]
            new = ln != cur[pp]
            stall[pp] += np.where(new, np.maximum(worst[pp], 0), 0)
            base_s[pp] = np.where(new, stall[pp], base_s[pp])
            worst[pp] = np.where(new, 0, worst[pp])
            cur[pp] = ln
            is0 = w == 0
            k0 = np.where(is0, done[0][pp], done[1][pp])
            stp = np.where(is0, ops[0].step[pp], ops[1].step[pp])
            worst[pp] = np.maximum(worst[pp], _burst_stall(ln + base_s[pp], k0, r, stp))
            for o in (0, 1):
                mine = w == o
                done[o][pp[mine]] += r[mine]
        stall[pairs] += np.maximum(worst[pairs], 0)
        fp[live] += 1
        period.step(np.flatnonzero(live), fp, folds, s, refills, done, last, stall)
    events = tuple(
        np.concatenate([e[i] for e in kept]) if kept else np.zeros(0, dtype=np.int64)
        for i in range(4)
    )
    order = np.lexsort((events[3], events[1], events[0]))  # folds were appended in turn
    return (
        [refills[0], refills[1]],
        [first[0], first[1]],
        [last[0], last[1]],
        stall,
        tuple(e[order] for e in events),
    )


_RING_FIELDS = tuple(_RingOperand.__dataclass_fields__)


def _take(op: _RingOperand, sel: IntArray) -> _RingOperand:
    """The pairs ``sel`` of a ring operand."""
    return _RingOperand(*(getattr(op, f)[sel] for f in _RING_FIELDS))


def _user_ring(
    masks: tuple[BoolArray, BoolArray],
    ops: tuple[dict[str, Any], dict[str, Any]],
    folds_of: tuple[IntArray, IntArray, IntArray, IntArray],
    current: list[tuple[IntArray, IntArray, _RefillTiming]],
    n_lines: IntArray,
    record: BoolArray,
    ragged_of: tuple[BoolArray, tuple[IntArray, ...], IntArray, IntArray] | None = None,
) -> tuple[
    list[tuple[IntArray, IntArray, _RefillTiming]],
    BoolArray,
    IntArray,
    tuple[IntArray, ...],
    BoolArray,
]:
    """DRAM reads, stop cycle and refill timing of the ifmap and filter SRAMs with the USER-mode
    refills of :func:`_ring_replay` where ``masks`` hold (pairs whose prefetch matrix overflows
    the active half), ``current`` elsewhere; also where the replayed read stalls stand for both
    SRAMs (the other one replayed too or without refills), those stalls and, where ``record``
    holds too, the refill lines (flat pair index, line, refills, operand). ``ragged_of``:
    the pairs whose ifmap has ``-1`` entries, with their conv geometry ``(ih, iw, fh, fw, ch,
    sh, sw)``, dataflow codes and ifmap block widths (:func:`_ragged_ring`). Last, the pairs
    whose replayed ifmap refills on overlapping conv windows that the duplicate-address rule
    does not cover (:func:`_dup_ring`: is dataflow, copies a window or more apart, untabulated
    layouts): their refills count every request as its own entry, up to 3x high on SCALE-Sim's
    grid."""
    shape = masks[0].shape
    sel_mask = masks[0] | masks[1]
    if not np.any(sel_mask):
        none = tuple(np.zeros(0, dtype=np.int64) for _ in range(4))
        no = np.zeros(shape, dtype=bool)
        return current, no, np.zeros(shape, dtype=np.int64), none, no
    sel = np.flatnonzero(sel_mask.ravel())

    def pick(x: ArrayLike) -> npt.NDArray[Any]:
        return np.asarray(np.broadcast_to(np.asarray(x), shape).ravel()[sel])

    rings = []
    for mask, op, (_, _, timing) in zip(masks, ops, current, strict=True):
        words = op["sram_words"]
        eps = np.maximum(_ceil_div(words, _i64(100)), 1)
        active = _ceil_div(words, _i64(2))
        n_sets = op["valid"] // eps + 1
        a_sets = np.minimum(_ceil_div(active, eps), n_sets)
        p_sets = np.maximum(np.minimum(_ceil_div(words - active, eps), n_sets - a_sets), 1)
        fields = dict(
            on=mask,
            row_major=op["row_major"],
            by_row_fold=op["by_row_fold"],
            t=op["t"],
            width=op["width"],
            span=op["span"],
            blocks=op["blocks"],
            prefix=op["prefix"],
            eps=eps,
            n_sets=n_sets,
            a_sets=a_sets,
            p_sets=p_sets,
            step=timing.refill_lines + 1,
        )
        rings.append(_RingOperand(**{k: pick(v) for k, v in fields.items()}))
    rows, row_folds, folds, fold_lines = (pick(x) for x in folds_of)
    timed = folds <= _RING_STALL_FOLDS
    ragged = None
    dups = None
    if ragged_of is not None:
        on, geom, codes, width = ragged_of
        geom_p = tuple(pick(g) for g in geom)
        ragged = _ragged_ring(pick(on) & rings[0].on, geom_p, pick(codes), pick(width))
        r0 = rings[0]
        dups = _dup_ring(
            r0.on,
            geom_p,
            pick(codes),
            pick(width),
            (r0.a_sets * r0.eps, pick(ops[0]["valid"])),
        )
    k, first, last, stall, events = _ring_replay(
        (rings[0], rings[1]), rows, row_folds, folds, fold_lines, timed, pick(record), ragged, dups
    )
    lines = np.maximum(pick(n_lines) - 1, 1).astype(np.float64)
    out = []
    for o, (reads, stop, timing) in enumerate(current):
        on = rings[o].on
        at = sel[on]
        reads = np.array(np.broadcast_to(reads, shape), copy=True).ravel()
        stop = np.array(np.broadcast_to(stop, shape), copy=True).ravel()
        refills = np.array(np.broadcast_to(timing.refills, shape), copy=True).ravel()
        first_at = np.array(np.broadcast_to(timing.first_at, shape), copy=True).ravel()
        last_at = np.array(np.broadcast_to(timing.last_at, shape), copy=True).ravel()
        refill_lines = np.broadcast_to(timing.refill_lines, shape).ravel()[at]
        bw = np.broadcast_to(ops[o]["fill_bw"], shape).ravel()[at]
        reads[at] += (k[o][on] - refills[at]) * refill_lines * bw
        stop[at] = k[o][on] * (refill_lines + 1) - 1
        refills[at] = k[o][on]
        first_at[at] = np.clip(first[o][on] / lines[on], 0.0, 1.0)
        last_at[at] = np.clip(last[o][on] / lines[on], 0.0, 1.0)
        out.append(
            (
                reads.reshape(shape),
                stop.reshape(shape),
                _RefillTiming(
                    refills.reshape(shape),
                    timing.refill_lines,
                    first_at.reshape(shape),
                    last_at.reshape(shape),
                ),
            )
        )
    ok = np.zeros(shape, dtype=bool).ravel()
    both = (rings[0].on | (pick(current[0][2].refills) == 0)) & (
        rings[1].on | (pick(current[1][2].refills) == 0)
    )
    ok[sel] = both & timed
    stalls = np.zeros(shape, dtype=np.int64).ravel()
    stalls[sel] = stall
    unmodelled = np.zeros(shape, dtype=bool).ravel()
    if ragged_of is not None:
        overlap = (geom_p[2] > geom_p[5]) | (geom_p[3] > geom_p[6])
        covered = dups.on if dups is not None else np.zeros(sel.size, dtype=bool)
        unmodelled[sel] = rings[0].on & overlap & ~covered & (k[0] > 0)
    return (
        out,
        ok.reshape(shape),
        stalls.reshape(shape),
        (sel[events[0]], *events[1:]),
        unmodelled.reshape(shape),
    )


def _read_dram(
    user: BoolArray,
    sram_words: IntArray,
    fill_bw: IntArray,
    footprint: IntArray,
    prefetch_words: IntArray,
    prefetch_valid_words: IntArray,
    sram_reads: IntArray,
    passes: IntArray | FloatArray,
    calc_stream: tuple[IntArray, IntArray, IntArray, IntArray],
    calc_exact: BoolArray,
    calc_estimate: IntArray,
) -> tuple[IntArray, IntArray, IntArray, BoolArray, _RefillTiming]:
    """DRAM reads and start/stop cycles of one read SRAM (ifmap or filter).

    CALC mode (``ReadBufferEstimateBw``): 100 sets of ``floor(S/100)`` words; reads follow
    :func:`_calc_epoch_reads` on the operand's demand stream ``calc_stream`` (groups, words per
    group, words of the last group, passes) where ``calc_exact`` (distinct addresses within a
    pass), else ``calc_estimate``. While the distinct words stay below 50 sets every word is
    fetched once and all are prefetched before cycle 0 at 10 words/cycle. USER mode
    (``read_buffer``): the whole prefetch matrix (padding included) is fetched in
    ``fill_bw``-wide lines into the active half if its hashed lines fit there; fetches are
    counted in whole lines. Beyond, each refill fetches the prefetch half; the refill count is
    that of ``passes`` sweeps of the demand through the prefetch order (the window moving round
    the ring of valid-entry sets), the last refill lands at ``-1 + refills*(lines + 1)``.
    :func:`simulate` replays the exact figures.
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
    # Ring of n_sets sets (the valid prefetch entries in sets of elems_per_set), a window of
    # a_sets active sets moved p_sets round the ring on each miss. Demand sweeping the prefetch
    # order ``passes`` times moves the window until it covers the last set of the last pass.
    n_sets = prefetch_valid_words // elems_per_set + 1
    a_sets = np.minimum(_ceil_div(active, elems_per_set), n_sets)
    p_sets = np.maximum(
        np.minimum(_ceil_div(sram_words - active, elems_per_set), n_sets - a_sets), 1
    )
    estimate = np.maximum(np.ceil((passes * n_sets - a_sets) / p_sets), 0).astype(np.int64)
    refills = np.where(user_fits, 0, estimate)
    user_reads = (lines + refills * refill_lines) * fill_bw
    reads = np.where(user, user_reads, calc_reads)
    start = np.where(user, -lines, -calc_cycles)
    stop = np.where(user, refills * (refill_lines + 1) - 1, -1)
    exact = np.where(user, user_fits, calc_fits | (calc_exact & (items > 0)))
    # Where the first and the last refill happen, as fractions of the run: the sweep reaches
    # unwrapped set a_sets + (k-1)*p_sets at refill k, out of passes*n_sets sets.
    ring = np.maximum(passes * n_sets, 1).astype(np.float64)
    refill_at = (
        np.minimum(a_sets / ring, 1.0),
        np.minimum((a_sets + np.maximum(refills - 1, 0) * p_sets) / ring, 1.0),
    )
    timing = _RefillTiming(np.where(user, refills, 0), refill_lines, *refill_at)
    return reads, start, stop, exact, timing


def _mod_below(x: IntArray, block: IntArray, t: IntArray) -> IntArray:
    """``#{0 <= j < x : j mod block < t}``."""
    return np.asarray((x // block) * t + np.minimum(x % block, t), dtype=np.int64)


def _same_block(start: IntArray, delta: IntArray, width: IntArray, block: IntArray) -> IntArray:
    """Positions ``x`` in ``[start, start + width)`` with ``x`` and ``x + delta`` in the same
    aligned block of ``block`` positions (``delta >= 1``)."""
    t = np.maximum(block - delta, 0)
    return _mod_below(start + width, block, t) - _mod_below(start, block, t)


@dataclass(frozen=True)
class _ReuseLinks:
    """The reuse links of a conv's ifmap demand (:func:`_calc_conv_reuse_reads`), per pass:
    horizontal (next output column) links and, per ``j = (c_hi - c_lo)/sw``, vertical (next
    output row) ones: counts and the shares whose two window positions fall in one aligned
    block of ``Rows`` positions (a ws/is fold)."""

    n_h: FloatArray
    share_h: FloatArray
    n_v: list[FloatArray]
    share_v: list[FloatArray]


def _reuse_links(
    geometry: tuple[IntArray, ...], ow: IntArray, oh: IntArray, block: IntArray, folds: BoolArray
) -> _ReuseLinks:
    """Reuse links of the ifmap words, cell by cell of the filter window (one step per cell,
    over all pairs). Word ``(row, col)`` is requested by window cell ``(r, c)`` of output pixel
    ``((row - r)/sh, (col - c)/sw)``. Horizontal links join cells ``(r, c + sw)`` and ``(r, c)``
    of neighbouring output columns: ``C`` per valid (output row, output column) pair, window
    positions ``sw*C`` apart. Vertical links join the last request of one output row, cell
    ``(r, c_lo)``, to the first of the next, ``(r - sh, c_hi)``, where ``c_lo``/``c_hi`` are the
    word column's lowest/highest window column (``j + 1`` windows cover it, ``c_hi = c_lo +
    j*sw``): ``ow - j`` pixels and ``(sh*S - j*sw)*C`` positions apart; the word columns of each
    ``(c_lo, j)`` are counted from the output columns that can take them. Shares are taken
    where ``folds`` (elsewhere 1: the window positions are not cut in blocks)."""
    ih, iw, fh, fw, ch, sh, sw = geometry
    cut = np.flatnonzero(folds)
    ch_c, fw_c, sh_c, sw_c, block_c = (x[cut] for x in (ch, fw, sh, sw, block))
    shape = fh.shape
    rows_max = int(fh.max()) if fh.size else 0
    cols_max = int(fw.max()) if fh.size else 0
    # window rows r on a leading axis: output rows using cell row r (horizontal links), and
    # those with a next output row (vertical links, from cell row r to r - sh)
    r = np.arange(rows_max, dtype=np.int64)[:, np.newaxis]
    row_ok = r < fh
    rows_h = (np.clip(_ceil_div(ih - r, sh), 0, oh) * row_ok).astype(np.float64)
    rows_v = (np.clip(_ceil_div(ih - r, sh), 0, oh - 1) * (row_ok & (r >= sh))).astype(np.float64)
    any_v = bool(np.any(rows_v > 0))
    n_h = np.zeros(shape, dtype=np.float64)
    same_h = np.zeros(shape, dtype=np.float64)
    n_v = [np.zeros(shape, dtype=np.float64) for _ in range(cols_max)]
    same_v = [np.zeros(shape, dtype=np.float64) for _ in range(cols_max)]
    for c in range(cols_max):
        cols_h = np.clip(_ceil_div(iw - sw - c, sw), 0, ow - 1) * (c + sw < fw)
        n_h += rows_h.sum(axis=0) * cols_h * ch
        if cut.size:
            same = _same_block((r * fw_c + c) * ch_c, sw_c * ch_c, ch_c, block_c)
            same_h[cut] += (rows_h[:, cut] * same).sum(axis=0) * cols_h[cut]
        if not any_v:
            continue
        for j in range(cols_max):
            c_hi = c + j * sw
            if not np.any(c_hi < fw):
                break
            # ocol_max of the word's windows (col = ocol_max*sw + c), ocol_min = ocol_max - j
            lo = np.full(shape, j, dtype=np.int64)
            hi = np.minimum(ow - 1, (iw - 1 - c) // sw)
            lo = np.where(c >= sw, np.maximum(lo, ow - 1), lo)  # c lowest: else at the end
            hi = np.where(c_hi + sw < fw, np.minimum(hi, j), hi)  # c_hi highest: else first
            cols_v = (np.maximum(hi - lo + 1, 0) * (c_hi < fw)).astype(np.float64)
            n_v[j] += rows_v.sum(axis=0) * cols_v * ch
            if cut.size:
                dj = np.maximum((sh_c * fw_c - j * sw_c) * ch_c, 1)
                start = ((r - sh_c) * fw_c + c_hi[cut]) * ch_c
                same = _same_block(start, dj, ch_c, block_c)
                same_v[j][cut] += (rows_v[:, cut] * same).sum(axis=0) * cols_v[cut]

    def share(same: FloatArray, n: FloatArray) -> FloatArray:
        out = np.where(folds & (n > 0), same / np.maximum(n, 1.0), 1.0)
        return np.asarray(out, dtype=np.float64)

    return _ReuseLinks(
        n_h=n_h,
        share_h=share(same_h, n_h),
        n_v=n_v,
        share_v=[share(x, n) for x, n in zip(same_v, n_v, strict=True)],
    )


def _calc_conv_reuse_reads(
    dataflow: IntArray,
    rows: IntArray,
    cols: IntArray,
    m: IntArray,
    k: IntArray,
    geometry: tuple[IntArray, ...],
    passes: IntArray,
    epoch: IntArray,
) -> IntArray:
    """CALC-mode ifmap DRAM reads of convs whose windows overlap, beyond one epoch (1-D pairs):
    a working-set estimate of ``ReadBufferEstimateBw`` on reuse links derived from the conv.

    A request misses when the previous request of its address came before the epoch start. The
    windows requesting an ifmap word form a grid of (output row, output column) pairs; within a
    fold every dataflow walks it in raster order of the output pixels (or its reverse). Per pass
    each word has one first request and links to the previous request: horizontal (next output
    column, ``di = 1`` pixel, window positions ``dj = sw*C`` apart) and vertical (next output
    row, ``di = Ew - j`` pixels, ``dj = (sh*S - j*sw)*C`` with ``j + 1`` windows over the word's
    column), counted cell by cell (:func:`_reuse_links`). A link's distance in requests follows
    the demand order: os folds of ``u`` pixels, skewed lines of ``min(u, K)`` requests (``|dj -
    di|*min(u, K)``); ws folds of ``Rows`` window positions, skewed lines of ``min(ur, M)``
    requests (``|di - dj|*min(ur, M)``; across position folds ``max(dj, ur)*M - di*ur``); is
    folds of ``u`` pixels outer and ``Rows`` positions inner, one position a line (``dj*u``;
    into the next position fold ``(Rows + R' - dj)*u``, ``R'`` its positions). Across os/is
    pixel folds the word's last request of one fold is its largest window position and the next
    fold's first its smallest: ``(max(di/u, 1)*K - span)*u``, ``span`` that word's position
    range (the link's plus the mean extra rows of words with two windows a row or more). Shares
    across folds: pixel folds from the fold boundaries, position folds from the window cells.
    Passes after the first re-request every word a pass later. With ``c_i`` links of distance
    ``d_i`` and ``F`` first requests of ``N``, an epoch spans ``L`` requests, ``(F*L + sum
    c_i*min(d_i, L))/N = E`` (a link misses when an epoch starts within it, probability
    ``min(d/L, 1)``); reads = ``floor(N/L)*E`` plus the last, partial epoch's ``(F*l + sum
    c_i*min(d_i, l))/N`` over its ``l`` requests."""
    ih, iw, fh, fw, ch, sh, sw = geometry
    is_os, is_ws = dataflow == 0, dataflow == 1
    oh = _ceil_div(ih - fh + sh, sh)
    ow = _ceil_div(iw - fw + sw, sw)
    vh = (oh - 1) * fh + np.clip(ih - (oh - 1) * sh, 0, fh)
    vw = (ow - 1) * fw + np.clip(iw - (ow - 1) * sw, 0, fw)
    ht = np.where(sh >= fh, vh, np.minimum((oh - 1) * sh + fh, ih))
    wt = np.where(sw >= fw, vw, np.minimum((ow - 1) * sw + fw, iw))
    first = (ch * ht * wt).astype(np.float64)
    mf, kf = m.astype(np.float64), k.astype(np.float64)
    pix_fold = np.where(is_os, np.minimum(rows, m), np.minimum(cols, m))
    blocks = _ceil_div(m, pix_fold)
    # requests per line (os) or per window position (is) met by a request: pixel folds of
    # ``u`` pixels, the last one ``M - (blocks - 1)*u``
    u_last = (m - (blocks - 1) * pix_fold).astype(np.float64)
    u = ((blocks - 1) * pix_fold * pix_fold + u_last * u_last) / m.astype(np.float64)
    # window positions of the fold after a boundary (is: the last one holds K - (rf - 1)*Rows)
    rf = _ceil_div(k, rows)
    next_rows = np.where(rf > 1, (k - rows) / np.maximum(rf - 1, 1), rows).astype(np.float64)
    ur = np.minimum(rows, k).astype(np.float64)
    links = _reuse_links(geometry, ow, oh, rows, ~is_os & (k > rows))
    n_h, win_h = links.n_h, links.share_h
    # pixel folds: horizontal links crossing a fold boundary (not at the end of an output row)
    period = ow // np.gcd(pix_fold, ow)
    cross_h = (blocks - 1) - (blocks - 1) // np.maximum(period, 1)
    pix_h = 1.0 - np.clip(cross_h / np.maximum(oh * (ow - 1), 1).astype(np.float64), 0.0, 1.0)
    rr = rows.astype(np.float64)

    # Window positions between a word's first and last request (os/is: a pixel fold ends with
    # the word's request of largest position, the next fold starts with its smallest), for the
    # words holding a link: extra windows over a row (column) on average over all rows and over
    # those with two windows or more (``(R - s)``-long overlaps ``s`` apart).
    def multi(out: IntArray, f: IntArray, s: IntArray, touched: IntArray) -> FloatArray:
        lap = np.where((f > s) & (out >= 2), (out - 2) * np.minimum(s, f - s) + (f - s), 0)
        return np.maximum(np.minimum(lap, touched), 1).astype(np.float64)

    more_r = (vh - ht).astype(np.float64)
    more_c = (vw - wt).astype(np.float64)
    span_h = (more_r / np.maximum(ht, 1) * sh * fw + more_c / multi(ow, fw, sw, wt) * sw) * ch
    span_v = more_r / multi(oh, fh, sh, ht) * sh * fw * ch

    def link_classes(
        n: FloatArray,
        di: FloatArray,
        dj: FloatArray,
        pix: FloatArray,
        win: FloatArray,
        span: FloatArray,
    ) -> list[tuple[FloatArray, FloatArray]]:
        across_pix = np.maximum((np.maximum(di / u, 1.0) * kf - span) * u, 1.0)
        os_is = [
            (
                n * pix * np.where(is_os, 1.0, win),
                np.where(is_os, np.abs(dj - di) * np.minimum(u, kf), dj * u),
            ),
            (
                n * pix * np.where(is_os, 0.0, 1.0 - win),
                np.where(dj < rr, (rr + next_rows - dj) * u, dj * u),
            ),
            (n * (1.0 - pix), across_pix),
        ]
        ws = [
            (n * win, np.maximum(np.abs(di - dj) * np.minimum(ur, mf), 1.0)),
            (n * 0.0, np.ones_like(n)),
            (n * (1.0 - win), np.maximum(np.maximum(dj, ur) * mf - di * ur, 1.0)),
        ]
        return [
            (np.where(is_ws, cw, co), np.where(is_ws, dw, do))
            for (co, do), (cw, dw) in zip(os_is, ws, strict=True)
        ]

    p = passes.astype(np.float64)
    per_pass = first + n_h + sum(links.n_v, np.zeros_like(first))
    total = p * per_pass
    classes = [
        (p * c, d)
        for c, d in link_classes(
            n_h, np.ones_like(n_h), (sw * ch).astype(np.float64), pix_h, win_h, span_h
        )
    ]
    for j, (n_v, win_v) in enumerate(zip(links.n_v, links.share_v, strict=True)):
        if not np.any(n_v > 0):
            continue
        di_v = np.maximum(ow - j, 1).astype(np.float64)
        dj_v = np.maximum((sh * fw - j * sw) * ch, 1).astype(np.float64)
        pix_v = 1.0 - np.clip((blocks - 1) * di_v / np.maximum(mf - di_v, 1.0), 0.0, 1.0)
        span = span_v + j * sw * ch
        classes += [(p * c, d) for c, d in link_classes(n_v, di_v, dj_v, pix_v, win_v, span)]
    classes.append(((p - 1.0) * first, per_pass))
    e = epoch.astype(np.float64)
    counts = np.stack([c for c, _ in classes])
    dists = np.stack([np.broadcast_to(d, c.shape) for c, d in classes])
    keep = np.any(counts > 0, axis=1)
    counts, dists = counts[keep], dists[keep]
    weighted = counts * dists
    # Epoch length: Newton on the concave, piecewise linear left side from L = E (at or below
    # the root, as it is at most L): each step reaches the next linear piece or the root.
    length = e.copy()
    for _ in range(counts.shape[0] + 1):
        short = dists < length
        below = np.where(short, weighted, 0.0).sum(axis=0)
        slope = first + np.where(short, 0.0, counts).sum(axis=0)
        step = np.maximum((total * e - below) / np.maximum(slope, 1e-9), length)
        if np.array_equal(step, length):
            break
        length = step
    full = np.floor(total / length)
    tail = total - full * length
    last = first * tail + (counts * np.minimum(dists, tail)).sum(axis=0)
    reads = full * e + last / np.maximum(total, 1.0)
    return np.asarray(np.rint(np.clip(reads, first, total)), dtype=np.int64)


# Epoch-by-epoch walk of CALC convs (:func:`_calc_conv_epoch_walk`): the most epochs walked, and
# the most (pass, output pixel, window cell) requests of a pair; beyond, the average estimate.
_CALC_WALK_EPOCHS = 32
_CALC_WALK_ITEMS = 1 << 12
# os requests are skewed one line per pixel of the fold: the walk treats a window cell's
# requests as one run, which holds where a cell's ``C`` lines are many pixel folds long.
_CALC_WALK_OS_SKEW = 8


def _walk_items(
    key: tuple[int, ...],
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Runs of one (pass, output pixel, window cell) of a conv's ifmap demand (os or is, pixel
    folds of ``u``): start, step (requests between two channels of the run) and distance back
    to the previous request of its words (``inf`` for first requests)."""
    ih, iw, fh, fw, ch, sh, sw, is_os, u, passes = key
    oh, ow = -(-(ih - fh + sh) // sh), -(-(iw - fw + sw) // sw)
    pix = np.arange(oh * ow, dtype=np.int64)
    oy, ox = np.divmod(pix, ow)
    cell_r, cell_c = np.divmod(np.arange(fh * fw, dtype=np.int64), fw)
    row = oy[:, np.newaxis] * sh + cell_r[np.newaxis, :]
    col = ox[:, np.newaxis] * sw + cell_c[np.newaxis, :]
    valid = (row < ih) & (col < iw)
    fold, x = np.divmod(pix, u)
    # v[f, s]: pixels of fold f whose window cell s is inside the ifmap (requests per channel)
    v = np.zeros((int(fold[-1]) + 1, fh * fw), dtype=np.float64)
    np.add.at(v, fold, valid.astype(np.float64))
    run = (v * ch).ravel()
    cell_start = (np.cumsum(run) - run).reshape(v.shape)
    rank = np.zeros(valid.shape, dtype=np.float64)
    for f in range(v.shape[0]):
        sel = fold == f
        rank[sel] = np.cumsum(valid[sel], axis=0) - 1
    step = v[fold]
    # os: pixel x of the fold lags x lines; is: a line holds the fold's valid pixels in order
    offset = x[:, np.newaxis] * step if is_os else rank
    pp, cc = np.nonzero(valid)
    per_pass = float(run.sum())
    start = np.concatenate(
        [(cell_start[fold] + offset)[pp, cc] + q * per_pass for q in range(passes)]
    )
    word = np.tile((row * iw + col)[pp, cc], passes)
    steps = np.tile(step[pp, cc], passes)
    order = np.lexsort((start, word))
    word, start, steps = word[order], start[order], steps[order]
    again = np.zeros(word.shape, dtype=bool)
    again[1:] = word[1:] == word[:-1]
    back = np.full(word.shape, np.inf)
    back[1:] = start[1:] - start[:-1] + (ch - 1) / 2 * (steps[1:] - steps[:-1])
    return start, steps, np.where(again, back, np.inf)


def _calc_conv_epoch_walk(
    dataflow: IntArray,
    rows: IntArray,
    cols: IntArray,
    m: IntArray,
    geometry: tuple[IntArray, ...],
    passes: IntArray,
    epoch: IntArray,
    average: IntArray,
) -> tuple[IntArray, BoolArray]:
    """CALC-mode ifmap DRAM reads of os/is convs, epoch by epoch (1-D pairs), and where they
    apply; elsewhere :func:`_calc_conv_reuse_reads`' ``average`` stands.

    ``ReadBufferEstimateBw`` inserts a request whose previous request of the same address came
    before the epoch start ``p``; the epoch flips on its ``E``-th insertion. Both dataflows walk
    each pixel fold through the window positions, cell by cell (``C`` channels each), so the
    demand is a sequence of runs, one per (pass, output pixel, window cell) inside the ifmap
    (:func:`_walk_items`): ``C`` requests, one per channel, ``v`` requests apart (``v`` the
    fold's pixels with that cell inside the ifmap), os pixels lagging one line each. A run's
    words were last requested by the previous run of the same ifmap pixel, ``d`` requests back
    (first runs: never). Insertions of an epoch from ``p`` over ``L`` requests are the requests
    of each run in ``[p, p + min(L, d))``, at ``1/v`` per position. Each epoch's length solves
    ``inserted(p, L) = E`` (bisection, the count grows with ``L``) and the next starts where it
    ends; the last epoch inserts what the rest of the demand does. Applies to is where ``C >=
    Rows`` (a position fold, walked backwards, stays within a cell or two) and os where ``C >=
    8*u`` (the skew of ``u`` lines small against a cell's ``C`` lines), to pairs of at most
    ``_CALC_WALK_ITEMS`` runs whose average estimate is below ``_CALC_WALK_EPOCHS`` epochs."""
    ih, iw, fh, fw, ch, sh, sw = geometry
    is_os = dataflow == 0
    u = np.where(is_os, np.minimum(rows, m), np.minimum(cols, m))
    fits = np.where(is_os, ch >= _CALC_WALK_OS_SKEW * u, (dataflow == 2) & (ch >= rows))
    small = (passes * m * fh * fw <= _CALC_WALK_ITEMS) & (average < _CALC_WALK_EPOCHS * epoch)
    idx = np.flatnonzero(fits & small)
    reads = np.asarray(average, dtype=np.int64).copy()
    walked = np.zeros(m.shape, dtype=bool)
    if idx.size == 0:
        return reads, walked
    # one walk per distinct (conv, pixel fold, passes, epoch): design parameters that change
    # none of them (other SRAMs, bandwidths, the other array side) share it
    fields = (ih, iw, fh, fw, ch, sh, sw, is_os.astype(np.int64), u, passes, epoch)
    pair_keys = np.stack([np.asarray(x, dtype=np.int64)[idx] for x in fields], axis=1)
    walks, walk_of = np.unique(pair_keys, axis=0, return_inverse=True)
    walk_of = np.asarray(walk_of).ravel()
    n_walks = walks.shape[0]
    uniq, inv = np.unique(walks[:, :-1], axis=0, return_inverse=True)
    runs = [_walk_items(tuple(int(x) for x in key)) for key in uniq]
    inv = np.asarray(inv).ravel()
    pid = np.concatenate([np.full(runs[g][0].size, j, dtype=np.int64) for j, g in enumerate(inv)])
    start, step, back = (np.concatenate([runs[g][i] for g in inv]) for i in range(3))
    end = start + walks[:, 4][pid] * step
    e = walks[:, -1].astype(np.float64)
    rate = 1.0 / step
    p = np.zeros(n_walks, dtype=np.float64)
    out = np.zeros(n_walks, dtype=np.float64)
    flips = np.zeros(n_walks, dtype=np.float64)
    done = np.zeros(n_walks, dtype=bool)
    for _ in range(_CALC_WALK_EPOCHS):
        # runs that ended before the epoch start, or of finished pairs, count no more
        live = (end > p[pid]) & ~done[pid]
        pid, start, end, back, rate = pid[live], start[live], end[live], back[live], rate[live]
        # inserted(L) from p: run i adds ``rate`` per request over [a, c), a piecewise linear
        # sum; its breakpoints sorted per pair give the running slope and value
        pr = p[pid]
        a = np.maximum(start - pr, 0.0)
        c = np.minimum(end - pr, back)
        on = c > a
        g = np.concatenate((pid[on], pid[on]))
        x = np.concatenate((a[on], c[on]))
        dslope = np.concatenate((rate[on], -rate[on]))
        order = np.lexsort((x, g))
        g, x, dslope = g[order], x[order], dslope[order]
        first = np.ones(g.size, dtype=bool)
        first[1:] = g[1:] != g[:-1]
        slope = np.zeros(g.size, dtype=np.float64)  # slope before each breakpoint
        slope[1:] = np.cumsum(dslope)[:-1]
        slope[first] = 0.0
        dx = np.zeros(g.size, dtype=np.float64)
        dx[1:] = x[1:] - x[:-1]
        value = np.cumsum(slope * dx)
        value -= value[np.flatnonzero(first)][np.cumsum(first) - 1]
        last = np.ones(g.size, dtype=bool)
        last[:-1] = first[1:]
        rest = np.zeros(n_walks, dtype=np.float64)
        rest[g[last]] = value[last]
        now = ~done & (rest < e)
        out[now] = flips[now] * e[now] + rest[now]
        done |= now
        if done.all():
            break
        hit = np.flatnonzero(value >= e[g])
        pairs, at = np.unique(g[hit], return_index=True)
        k = hit[at]
        length = x[k - 1] + (e[pairs] - value[k - 1]) / slope[k]
        p[pairs] += length
        flips[pairs] += 1.0
    ok = done[walk_of]
    reads[idx[ok]] = np.rint(out[walk_of][ok]).astype(np.int64)
    walked[idx[ok]] = True
    return reads, walked


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
    conv: ConvGeometry | None = None,
    replay: bool = True,
    replay_max_words: int = REPLAY_MAX_WORDS,
    replay_ragged_max_words: int = 0,
    replay_dups_max_words: int = 0,
    replay_calc_max_words: int = 0,
) -> SystolicResult:
    """Evaluate SCALE-Sim's figures for every broadcast (layer, design point) pair.

    ``m, n, k``: GEMM view of the layers (ofmap pixels, filters, window). Design parameters
    broadcast against them, e.g. layers of shape ``(L, 1)`` and designs of shape ``(1, D)`` give
    ``(L, D)`` results. ``user_bandwidth`` selects SCALE-Sim's ``InterfaceBandwidth = USER``
    mode, where ``bandwidth_words_per_cycle`` is the ofmap drain rate and the read fill rates are
    ``*_fill_bw_words_per_cycle`` (SCALE-Sim's ``IfmapSRAMBankBandwidth`` and
    ``FilterSRAMBankBandwidth``); otherwise (CALC) reads fill at 10 words/cycle and the ofmap
    drains ``array_cols`` words/cycle. ``ifmap_footprint_words`` is the count of distinct ifmap
    words (conv halos overlap; see :func:`conv_gemm_view`), ``m * k`` if omitted.

    Where an operand overflows its read SRAM or the ofmap SRAM drains during the run, ``replay``
    (the default) replays SCALE-Sim's memory system on the pair
    (:func:`~codesign_playground.perf.scalesim_replay.replay_layer`), which needs the conv shape
    ``conv`` (a GEMM when omitted) and at most ``replay_max_words`` SRAM requests; elsewhere, and
    with ``replay=False`` (:data:`FAST`), those figures are closed-form estimates, flagged by the
    ``*_exact`` fields; there ``replay_ragged_max_words`` still replays USER-mode pairs whose
    overflowing ifmap has windows hanging over its edge and that run longer than the ring
    replay does (:data:`RAGGED_REPLAY_MAX_WORDS`), up to that many requests, and
    ``replay_dups_max_words`` those whose ring-replayed ifmap refills on overlapping windows
    its duplicate-address rule does not cover (:data:`DUPS_REPLAY_MAX_WORDS`), and
    ``replay_calc_max_words`` CALC-mode pairs with estimated figures
    (:data:`CALC_REPLAY_MAX_WORDS`).
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
    # the stationary operand (R) and drain the partial sums through the rows (R-1).
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

    # Valid ifmap operand entries (windows hanging over the ifmap edge demand nothing) and
    # whether a pass demands each ifmap word once (windows do not overlap).
    if conv is None:
        if_valid = mm * kk
        if_once = ifp == if_valid
        if_ragged = np.zeros(mm.shape, dtype=bool)
    else:
        ih, iw, fh, fw, ch, sh, sw = (
            np.broadcast_to(_i64(x), mm.shape)
            for x in (
                conv.ifmap_h,
                conv.ifmap_w,
                conv.filter_h,
                conv.filter_w,
                conv.channels,
                conv.stride_h,
                conv.stride_w,
            )
        )
        oh = _ceil_div(ih - fh + sh, sh)
        ow = _ceil_div(iw - fw + sw, sw)
        valid_h = (oh - 1) * fh + np.clip(ih - (oh - 1) * sh, 0, fh)
        valid_w = (ow - 1) * fw + np.clip(iw - (ow - 1) * sw, 0, fw)
        if_valid = valid_h * valid_w * ch
        # windows overlap along an axis with a stride below the window and two windows or more
        if_once = ((sh >= fh) | (oh == 1)) & ((sw >= fw) | (ow == 1))
        # windows hanging over the ifmap edge (ceil output sizes) demand -1 entries
        if_ragged = ((oh - 1) * sh + fh > ih) | ((ow - 1) * sw + fw > iw)
        if_width = np.where(is_is, cc, rr)  # ifmap prefetch block width

    # DRAM reads. Prefetch matrices (USER mode) are padded to whole array rows/cols.
    filt_fp = kk * nn
    pre_if = np.where(is_is, col_folds * cc * sr, row_folds * rr * t)
    val_if = if_valid
    pre_fi = np.where(
        is_ws, col_folds * cc * sr, np.where(is_os, col_folds * cc * t, row_folds * rr * t)
    )
    val_fi = np.where(is_ws, b_term, np.where(is_os, t * sc, t * sr))
    passes_if = np.where(is_is, 1, col_folds)
    passes_fi = np.where(is_ws, 1, np.where(is_os, row_folds, col_folds))
    ifmap_words = (ikb * 1024) // wb
    filter_words = (fkb * 1024) // wb

    # USER ring traversals. ws/os ifmap and is filter prefetch their row-fold blocks (T x Rows)
    # stacked and flattened by anti-diagonals: the next fold's first entry lies
    # Rows^2 - Rows - 1 entries behind the last one demanded (T >= Rows). When that is a whole
    # active window back, the window laps the ring at every fold boundary (one traversal per
    # fold, not per pass); below, a fraction of boundaries does (expected value).
    def traversals(words: IntArray, passes: IntArray) -> FloatArray:
        eps = np.maximum(_ceil_div(words, _i64(100)), 1)
        a_sets = _ceil_div(_ceil_div(words, _i64(2)), eps)
        p_sets = np.maximum(_ceil_div(words - _ceil_div(words, _i64(2)), eps), 1)
        back = (rr * rr - rr - 1) / eps.astype(np.float64)
        frac = np.clip((back - (a_sets - p_sets)) / p_sets, 0.0, 1.0)
        frac = np.where((t >= rr) & (frac >= 1.0), 1.0, 0.0)
        return np.asarray(passes * (1 + (row_folds - 1) * frac), dtype=np.float64)

    ring_if = np.where(is_is, passes_if, traversals(ifmap_words, passes_if))
    ring_fi = np.where(is_is, traversals(filter_words, passes_fi), passes_fi)
    ofmap_buf_words = (okb * 1024) // wb
    fill_calc = _i64(CALC_FILL_BW_WORDS_PER_CYCLE)
    # CALC-mode demand streams (SCALE-Sim folds: column fold outer, row fold inner). ifmap: os
    # and ws cycle through the row folds once per column fold (one group of all its words,
    # col_folds passes); is reads each tile once. filter: os streams each column fold's K x Cols
    # slice row_folds times in a row; ws reads each tile once; is cycles (col_folds passes).
    one = np.ones_like(mm)
    if_stream = (one, if_valid, if_valid, np.where(is_is, 1, col_folds))
    # Distinct addresses within a pass: layers whose windows do not overlap only.
    if_distinct = if_once
    # Convs with overlapping windows beyond one epoch: the working-set estimate of
    # :func:`_calc_conv_reuse_reads` (flagged as an estimate).
    if_estimate = np.minimum(ifmap_sram, passes_if * if_valid)
    if conv is not None:
        epoch_if = _ACTIVE_SETS * (ifmap_words // 100)
        reuse = ~user & ~if_once & (ifp >= epoch_if) & (epoch_if > 0)
        if np.any(reuse):
            if_estimate = np.array(if_estimate, dtype=np.int64, copy=True)
            if_estimate[reuse] = _calc_conv_reuse_reads(
                df[reuse],
                rr[reuse],
                cc[reuse],
                mm[reuse],
                kk[reuse],
                tuple(x[reuse] for x in (ih, iw, fh, fw, ch, sh, sw)),
                passes_if[reuse],
                epoch_if[reuse],
            )
            if_estimate[reuse] = _calc_conv_epoch_walk(
                df[reuse],
                rr[reuse],
                cc[reuse],
                mm[reuse],
                tuple(x[reuse] for x in (ih, iw, fh, fw, ch, sh, sw)),
                passes_if[reuse],
                epoch_if[reuse],
                if_estimate[reuse],
            )[0]
    last_cols = nn - (col_folds - 1) * cc
    fi_stream = (
        np.where(is_os, col_folds, 1),
        np.where(is_os, kk * cc, filt_fp),
        np.where(is_os, kk * last_cols, filt_fp),
        np.where(is_os, row_folds, np.where(is_is, col_folds, 1)),
    )
    fi_distinct = np.ones_like(user)
    fi_estimate = filter_sram

    # USER mode: the prefetch matrix fits the active half of the SRAM (no refills).
    def user_fit(words: IntArray, valid: IntArray) -> BoolArray:
        e = np.maximum(_ceil_div(words, _i64(2 * _ACTIVE_SETS)), 1)
        return valid // e + 1 <= _ceil_div(_ceil_div(words, _i64(2)), e)

    def calc_fit(words: IntArray, footprint: IntArray) -> BoolArray:
        items = words // 100
        return (items > 0) & (footprint < _ACTIVE_SETS * items)

    if_fit, fi_fit = user_fit(ifmap_words, val_if), user_fit(filter_words, val_fi)
    reads_fit = np.where(
        user, if_fit & fi_fit, calc_fit(ifmap_words, ifp) & calc_fit(filter_words, filt_fp)
    )
    if_reads, if_start, if_stop, if_exact, if_timing = _read_dram(
        user,
        ifmap_words,
        np.where(user, ibw, fill_calc),
        ifp,
        pre_if,
        val_if,
        ifmap_sram,
        ring_if,
        if_stream,
        if_distinct,
        if_estimate,
    )
    fi_reads, fi_start, fi_stop, fi_exact, fi_timing = _read_dram(
        user,
        filter_words,
        np.where(user, fbw, fill_calc),
        filt_fp,
        pre_fi,
        val_fi,
        filter_sram,
        ring_fi,
        fi_stream,
        fi_distinct,
        fi_estimate,
    )

    # USER mode beyond the active half: the refills replayed fold by fold on the ring of sets.
    if_fit, fi_fit = np.broadcast_to(if_fit, mm.shape), np.broadcast_to(fi_fit, mm.shape)
    # (runs of at most _RING_FOLDS folds; ifmaps with -1 addresses on ring positions that count
    # valid entries only. Where conv windows overlap, SCALE-Sim also finds a request in the sets
    # of its duplicates: skewed ifmaps whose copies lie less than a window apart sweep their
    # addresses' first copies (_DupLayout), others take each request as its own prefetch entry;
    # this models those runs, it does not replay them)
    ring = user & (folds <= _RING_FOLDS)
    # ofmap drain batches (runs with few keep their refill lines: :func:`_joint_stall`)
    half_ofmap = ofmap_buf_words - _ceil_div(ofmap_buf_words, _i64(2))
    drain_batches = _ceil_div(
        np.maximum(ofmap_words - ofmap_buf_words, 0), np.maximum(half_ofmap, 1)
    )
    if np.any(ring & ~(if_fit & fi_fit)):
        ring_if = ring & ~if_fit
        ring_fi = ring & ~fi_fit
        ring_ops = (
            dict(
                row_major=is_is,
                by_row_fold=~is_is,
                t=np.where(is_is, sr, t),
                width=np.where(is_is, cc, rr),
                span=np.where(is_is, sc, sr),
                blocks=np.where(is_is, col_folds, row_folds),
                prefix=np.where(is_ws, rr, 0),
                sram_words=ifmap_words,
                valid=val_if,
                fill_bw=ibw,
            ),
            dict(
                row_major=is_ws,
                by_row_fold=is_is,
                t=np.where(is_ws, sr, t),
                width=np.where(is_is, rr, cc),
                span=np.where(is_is, sr, sc),
                blocks=np.where(is_is, row_folds, col_folds),
                prefix=np.where(is_is, rr, 0),
                sram_words=filter_words,
                valid=val_fi,
                fill_bw=fbw,
            ),
        )
        (
            ((if_reads, if_stop, if_timing), (fi_reads, fi_stop, fi_timing)),
            ring_ok,
            ring_stall,
            ring_events,
            dup_unmodelled,
        ) = _user_ring(
            (ring_if, ring_fi),
            ring_ops,
            (rr, row_folds, folds, fold_lines),
            [(if_reads, if_stop, if_timing), (fi_reads, fi_stop, fi_timing)],
            compute_cycles + 1,
            ring & (drain_batches > 0) & (drain_batches <= _WRITE_BATCHES),
            None if conv is None else (if_ragged, (ih, iw, fh, fw, ch, sh, sw), df, if_width),
        )
    else:
        ring_ok = np.zeros(mm.shape, dtype=bool)
        ring_stall = np.zeros(mm.shape, dtype=np.int64)
        ring_events = tuple(np.zeros(0, dtype=np.int64) for _ in range(4))
        dup_unmodelled = np.zeros(mm.shape, dtype=bool)

    # Stalls (:func:`_stall_cycles`), evaluated only where a refill or the ofmap SRAM's
    # overflow can stall the array.
    drain_bw = np.where(user, bw, cc)
    n_lines = compute_cycles + 1
    write_time = _ceil_div(ofmap_words, drain_bw)
    half_buf = ofmap_buf_words - _ceil_div(ofmap_buf_words, _i64(2))
    ofmap_fits = ofmap_words <= half_buf
    may_stall = (if_timing.refills > 0) | (fi_timing.refills > 0) | (ofmap_words > ofmap_buf_words)
    stall_cycles = np.zeros(mm.shape, dtype=np.int64)
    if np.any(may_stall):
        geo = _FoldTimeline(
            *(
                x[may_stall]
                for x in (rr, cc, t, sr, sc, folds, row_folds, col_folds, fold_lines, is_os)
            )
        )
        stall_cycles[may_stall] = _stall_cycles(
            if_timing.take(may_stall),
            fi_timing.take(may_stall),
            n_lines[may_stall],
            ofmap_words[may_stall],
            ofmap_buf_words[may_stall],
            drain_bw[may_stall],
            geo,
            (ring_ok[may_stall], ring_stall[may_stall]),
            (np.cumsum(may_stall.ravel())[ring_events[0]] - 1, *ring_events[1:]),
        )
    stall_exact = (~user | (if_fit & fi_fit)) & ofmap_fits
    total_cycles = compute_cycles + stall_cycles

    # Ofmap drain to DRAM: after the last write (all writes fit the buffer), drain_bw words/cycle.
    # A drain during the run pads the line it cuts and counts the padding (``drain_bw - 1`` words
    # once in CALC mode on the grid, and in most USER runs).
    of_start = total_cycles
    of_stop = total_cycles + write_time - 1
    ofmap_dram = ofmap_words + np.where(ofmap_fits, 0, drain_bw - 1)

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

    sram_cycles: tuple[IntArray, ...] = (
        pick(os_if[0], ws_if[0], is_if[0]),
        pick(os_if[1], ws_if[1], is_if[1]),
        pick(os_fi[0], ws_fi[0], is_fi[0]),
        pick(os_fi[1], ws_fi[1], is_fi[1]),
        pick(os_of[0], ws_of[0], is_of[0]),
        pick(os_of[1], ws_of[1], is_of[1]),
    )

    # Exact replay of SCALE-Sim's memory system where the closed forms do not hold (an operand
    # overflows its read SRAM, or the ofmap SRAM drains during the run); in fast mode, where the
    # ring replay does not apply to a USER-mode ifmap with -1 entries that overflows its SRAM
    # (more than _RING_FOLDS folds), or refills on overlapping windows the ring's
    # duplicate-address rule does not cover; and CALC-mode pairs with estimated figures.
    if replay or max(replay_ragged_max_words, replay_dups_max_words, replay_calc_max_words) > 0:
        if conv is None:
            # GEMM geometry: M x K ifmap, 1 x K filter, one channel, stride 1.
            geom: tuple[IntArray, ...] = (mm, kk, one, kk, one, one, one)
            geom_ok = ifp == mm * kk
        else:
            geom = tuple(
                np.broadcast_to(_i64(x), mm.shape)
                for x in (
                    conv.ifmap_h,
                    conv.ifmap_w,
                    conv.filter_h,
                    conv.filter_w,
                    conv.channels,
                    conv.stride_h,
                    conv.stride_w,
                )
            )
            geom_ok = np.ones(mm.shape, dtype=bool)
        # Windows hanging over the ifmap edge (ceil output sizes) demand -1 entries, which shift
        # SCALE-Sim's SRAM start/stop cycles: replayed as well.
        g = geom
        oh = _ceil_div(g[0] - g[2] + g[5], g[5])
        ow = _ceil_div(g[1] - g[3] + g[6], g[6])
        ragged = ((oh - 1) * g[5] + g[2] > g[0]) | ((ow - 1) * g[6] + g[3] > g[1])
        if replay:
            need = (~(reads_fit & ofmap_fits) | ragged) & geom_ok
            need &= ifmap_sram + filter_sram <= replay_max_words
        else:
            words = ifmap_sram + filter_sram
            need = user & ragged & ~if_fit & geom_ok & (folds > _RING_FOLDS)
            need &= words <= replay_ragged_max_words
            need |= dup_unmodelled & geom_ok & (words <= replay_dups_max_words)
            estimated = ~(if_exact & fi_exact & stall_exact)
            need |= ~user & estimated & geom_ok & (words <= replay_calc_max_words)
        if np.any(need):
            outs = [
                np.array(x, dtype=np.int64, copy=True)
                for x in (
                    stall_cycles,
                    total_cycles,
                    if_reads,
                    fi_reads,
                    ofmap_dram,
                    if_start,
                    if_stop,
                    fi_start,
                    fi_stop,
                    of_start,
                    of_stop,
                    *sram_cycles,
                )
            ]
            flags = [np.array(x, dtype=bool, copy=True) for x in (if_exact, fi_exact, stall_exact)]
            for flat in np.flatnonzero(need):
                idx = np.unravel_index(flat, need.shape)
                got = replay_layer(
                    ifmap_h=int(geom[0][idx]),
                    ifmap_w=int(geom[1][idx]),
                    filter_h=int(geom[2][idx]),
                    filter_w=int(geom[3][idx]),
                    channels=int(geom[4][idx]),
                    num_filters=int(nn[idx]),
                    stride_h=int(geom[5][idx]),
                    stride_w=int(geom[6][idx]),
                    array_rows=int(rr[idx]),
                    array_cols=int(cc[idx]),
                    dataflow=DATAFLOWS[int(df[idx])],
                    ifmap_sram_words=int(ifmap_words[idx]),
                    filter_sram_words=int(filter_words[idx]),
                    ofmap_sram_words=int(ofmap_buf_words[idx]),
                    user_bandwidth=bool(user[idx]),
                    bandwidth_words_per_cycle=int(bw[idx]),
                    ifmap_fill_bw_words_per_cycle=int(ibw[idx]),
                    filter_fill_bw_words_per_cycle=int(fbw[idx]),
                )
                for arr, name in zip(outs, _REPLAY_FIELDS, strict=True):
                    arr[idx] = getattr(got, name)
                for flag in flags:
                    flag[idx] = True
            (
                stall_cycles,
                total_cycles,
                if_reads,
                fi_reads,
                ofmap_dram,
                if_start,
                if_stop,
                fi_start,
                fi_stop,
                of_start,
                of_stop,
                *sram_list,
            ) = outs
            sram_cycles = tuple(sram_list)
            if_exact, fi_exact, stall_exact = flags
    incl_prefetch = of_stop - np.minimum(if_start, fi_start)

    # Utilization figures.
    macs = mm * nn * kk
    total_f = np.maximum(total_cycles, 1).astype(np.float64)  # SCALE-Sim divides by 0 here
    utilization = macs / (total_f * macs_pe)
    mapping_eff = b_term / (folds * macs_pe).astype(np.float64)
    util_lines = np.where(is_os, t + rr + cc - 2, 2 * rr + 2 * cc + t - 3)
    compute_util = (b_term * t) / (macs_pe * util_lines * folds).astype(np.float64)

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
        ofmap_dram_writes_words=ofmap_dram,
        ifmap_sram_start_cycle=sram_cycles[0],
        ifmap_sram_stop_cycle=sram_cycles[1],
        filter_sram_start_cycle=sram_cycles[2],
        filter_sram_stop_cycle=sram_cycles[3],
        ofmap_sram_start_cycle=sram_cycles[4],
        ofmap_sram_stop_cycle=sram_cycles[5],
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
        avg_ofmap_dram_bw_words_per_cycle=per_cycle(ofmap_dram, of_stop - of_start + 1),
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
