"""The fast mode's USER-mode ring replay on ragged ifmaps (conv windows hanging over the ifmap
edge, ``-1`` addresses that SCALE-Sim drops from its prefetch stream): ring positions count
valid entries only (``systolic._RaggedLayout``). Checked against SCALE-Sim's own prefetch
stream and against the exact replay on random ragged convs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from codesign_playground.perf import systolic
from codesign_playground.perf.scalesim_replay import ifmap_prefetch_valid
from codesign_playground.perf.systolic import ConvGeometry, SystolicResult, simulate

FIELDS = tuple(SystolicResult.__dataclass_fields__)


def _stream(v: np.ndarray, diagonal: bool) -> list[tuple[int, int, int, int]]:
    """Entries ``(anti-diagonal or row, block, row in block, valid)`` of a prefetch matrix's
    blocks in SCALE-Sim's fetch order, padding dropped, by brute force."""
    nb, t, w = v.shape
    out = []
    if not diagonal:
        for b in range(nb):
            for k in range(t):
                out += [(b * t + k, b, k, int(v[b, k, j])) for j in range(w) if v[b, k, j] >= 0]
        return out
    for d in range(nb * t + w - 1):
        for row in range(min(d, nb * t - 1), -1, -1):
            if d - row >= w:
                break
            b, k = divmod(row, t)
            if v[b, k, d - row] >= 0:
                out.append((d, b, k, int(v[b, k, d - row])))
    return out


@pytest.mark.parametrize("seed", range(4))
def test_layout_matches_prefetch_stream(seed: int) -> None:
    """Per block (skewed) or row (row-major), the valid-entry counts the ring uses equal those
    of the prefetch stream SCALE-Sim builds."""
    rng = np.random.default_rng(seed)
    for _ in range(40):
        ih, iw = (int(x) for x in rng.integers(3, 16, 2))
        fh, fw = int(rng.integers(1, min(ih, 4) + 1)), int(rng.integers(1, min(iw, 4) + 1))
        ch, sh, sw = (int(x) for x in rng.integers(1, 4, 3))
        df, width = int(rng.integers(0, 3)), int(rng.integers(1, 10))
        geo = (ih, iw, fh, fw, ch, sh, sw)
        lay = systolic._ragged_layout(*geo, df, width)
        v = ifmap_prefetch_valid(
            ifmap_h=ih,
            ifmap_w=iw,
            filter_h=fh,
            filter_w=fw,
            channels=ch,
            stride_h=sh,
            stride_w=sw,
            array_rows=width,
            array_cols=width,
            dataflow=systolic.DATAFLOWS[df],
        )
        entries = _stream(v, df != 2)
        valid = [e for e in entries if e[3] == 1]
        assert lay.valid == len(valid)
        if df == 2:
            per_row = np.bincount([e[0] for e in valid], minlength=v.shape[0] * v.shape[1])
            np.testing.assert_array_equal(lay.row_count, per_row)
            np.testing.assert_array_equal(lay.row_first, np.cumsum(per_row) - per_row)
            continue
        for b in range(v.shape[0]):
            at = [i for i, e in enumerate(valid) if e[1] == b]
            if not at:
                assert lay.last[b] < lay.first[b]
                continue
            assert (lay.first[b], lay.last[b]) == (at[0], at[-1])
            assert lay.first_diag[b] == valid[at[0]][0] - b * v.shape[1]
        per_diag = np.bincount([e[0] for e in valid], minlength=lay.diag_end.size)
        np.testing.assert_array_equal(lay.diag_end, np.cumsum(per_diag))


def _ragged_pairs(seed: int, n: int, **design: Any) -> tuple[dict[str, Any], ConvGeometry]:
    """``n`` random ragged convs whose windows do not overlap (stride >= filter), on random
    small arrays and SRAMs in USER mode (the ifmap overflows its SRAM)."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[int, ...]] = []
    while len(rows) < n:
        ih, iw = (int(x) for x in rng.integers(4, 40, 2))
        fh, fw = (int(x) for x in rng.integers(1, 4, 2))
        sh, sw = fh + int(rng.integers(0, 3)), fw + int(rng.integers(0, 3))
        fh, fw = min(fh, ih), min(fw, iw)
        oh, ow = -(-(ih - fh + sh) // sh), -(-(iw - fw + sw) // sw)
        if (oh - 1) * sh + fh > ih or (ow - 1) * sw + fw > iw:
            rows.append((ih, iw, fh, fw, int(rng.integers(1, 65)), sh, sw, oh * ow))
    a = np.array(rows, dtype=np.int64)
    ih, iw, fh, fw, ch, sh, sw, m = a.T
    args = dict(
        m=m,
        n=rng.integers(1, 65, n),
        k=fh * fw * ch,
        array_rows=rng.choice([2, 4, 8, 16, 32], n),
        array_cols=rng.choice([2, 4, 8, 16, 32], n),
        dataflow=rng.choice(np.array(["ws", "os", "is"]), n),
        ifmap_sram_kb=rng.choice([1, 2, 4], n),
        filter_sram_kb=rng.choice([1, 2, 4, 64], n),
        ofmap_sram_kb=rng.choice([1, 2, 16, 1024], n),
        user_bandwidth=True,
        bandwidth_words_per_cycle=rng.choice([1, 4, 10], n),
        ifmap_fill_bw_words_per_cycle=rng.choice([1, 4, 10, 32], n),
        filter_fill_bw_words_per_cycle=rng.choice([1, 4, 10, 32], n),
    )
    args.update(design)
    return args, ConvGeometry(ih, iw, fh, fw, ch, sh, sw)


@pytest.mark.parametrize("seed", [0, 1])
def test_ragged_ring_refills_match_exact_replay(seed: int) -> None:
    """Without the exact-replay fallback, the ring replay's DRAM reads and refill stop cycles
    equal the exact replay's on every ragged pair it covers (windows that do not overlap:
    each request is its own prefetch entry); where the ofmap SRAM does not drain during the run
    and the filter SRAM is large (write stalls and two refilling SRAMs are estimated apart from
    the ring, ragged or not) the cycles are within 1%."""
    args, geo = _ragged_pairs(seed, 150)
    exact = simulate(**args, conv=geo)
    fast = simulate(**args, conv=geo, replay=False, replay_ragged_max_words=0)
    ring = np.asarray(exact.folds) <= systolic._RING_FOLDS
    assert ring.sum() > 100
    assert np.any(np.asarray(fast.ifmap_dram_reads_words)[ring] > 0)
    for name in (
        "ifmap_dram_reads_words",
        "filter_dram_reads_words",
        "ifmap_dram_stop_cycle",
        "filter_dram_stop_cycle",
    ):
        np.testing.assert_array_equal(
            np.asarray(getattr(fast, name))[ring], np.asarray(getattr(exact, name))[ring], name
        )
    ring &= (args["ofmap_sram_kb"] == 1024) & (args["filter_sram_kb"] == 64)
    assert ring.sum() > 10
    cyc_e = np.asarray(exact.total_cycles)[ring]
    cyc_f = np.asarray(fast.total_cycles)[ring]
    assert np.all(np.abs(cyc_f / cyc_e - 1) <= 0.01)


@pytest.mark.parametrize("seed", [2, 3])
def test_ragged_skips_change_nothing(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The periodic and refill-free skips (``_RingPeriod``, its row-major skip on ragged is
    ifmaps included) change no figure of ragged pairs."""
    args, geo = _ragged_pairs(seed, 300, filter_sram_kb=1024)
    skips = []
    step = systolic._RingPeriod.step

    def counting(self: Any, pairs: Any, fp: Any, *rest: Any) -> None:
        before = fp.copy()
        step(self, pairs, fp, *rest)
        skips.append(int(np.count_nonzero(fp > before)))

    monkeypatch.setattr(systolic._RingPeriod, "step", counting)
    fast = simulate(**args, conv=geo, replay=False, replay_ragged_max_words=0)
    assert sum(skips) > 0, "no stretch was skipped: the test does not exercise the skips"
    monkeypatch.setattr(systolic._RingPeriod, "step", lambda *a, **k: None)
    slow = simulate(**args, conv=geo, replay=False, replay_ragged_max_words=0)
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name), err_msg=name)
