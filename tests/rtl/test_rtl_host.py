"""Host-side layouts and references, checked against a software model of the array."""

from __future__ import annotations

import numpy as np
import pytest

from codesign_playground.errors import InputError
from codesign_playground.rtl import SystolicDesign, buffer_words, check_gemm_fits, sample_cases
from codesign_playground.rtl._host import (
    GemmCase,
    conv2d_reference,
    im2col,
    make_operands,
    pack_a,
    pack_b,
    reference_gemm,
    unpack_c,
    wrap_signed,
)

pytestmark = pytest.mark.rtl


def _lanes(word: int, count: int, width: int) -> list[int]:
    out = []
    for i in range(count):
        v = (word >> (i * width)) & ((1 << width) - 1)
        out.append(v - (1 << width) if v >> (width - 1) else v)
    return out


def _model_run(d: SystolicDesign, a_words: list[int], b_words: list[int], m: int, n: int,
               k: int) -> list[int]:  # fmt: skip
    """What the controller computes from the buffer images, fold by fold (no timing)."""
    r, c, w = d.rows, d.cols, d.data_width
    nf, kf, mf = -(-n // c), -(-k // r), -(-m // r)
    cbuf = [0] * (nf * m)
    mask = (1 << d.acc_width) - 1
    if d.dataflow == "ws":
        bptr = 0
        for f in range(nf):
            for g in range(kf):
                wt = [[0] * c for _ in range(r)]
                for j in range(r):  # bottom row first
                    wt[r - 1 - j] = _lanes(b_words[bptr], c, w)
                    bptr += 1
                for row in range(m):
                    a = _lanes(a_words[g * m + row], r, w)
                    ps = [sum(a[i] * wt[i][col] for i in range(r)) for col in range(c)]
                    old = [0] * c if g == 0 else _lanes(cbuf[f * m + row], c, d.acc_width)
                    pairs = enumerate(zip(old, ps, strict=True))
                    cbuf[f * m + row] = sum(
                        ((o + p) & mask) << (i * d.acc_width) for i, (o, p) in pairs
                    )
    else:
        for f in range(nf):
            for g in range(mf):
                acc = [[0] * c for _ in range(r)]
                for kk in range(k):
                    a = _lanes(a_words[g * k + kk], r, w)
                    b = _lanes(b_words[f * k + kk], c, w)
                    for i in range(r):
                        for j in range(c):
                            acc[i][j] += a[i] * b[j]
                for i in range(r):
                    if g * r + i < m:
                        cbuf[f * m + g * r + i] = sum((v & mask) << (j * d.acc_width)
                                                      for j, v in enumerate(acc[i]))  # fmt: skip
    return cbuf


@pytest.mark.parametrize("dataflow", ["ws", "os"])
@pytest.mark.parametrize(("m", "n", "k"), [(1, 1, 1), (5, 7, 3), (4, 3, 9), (8, 6, 4)])
def test_layouts_compute_the_gemm(dataflow: str, m: int, n: int, k: int) -> None:
    d = SystolicDesign(3, 2, dataflow, data_width=8)  # type: ignore[arg-type]
    rng = np.random.default_rng(m * 100 + n * 10 + k)
    a = rng.integers(-128, 127, size=(m, k), endpoint=True)
    b = rng.integers(-128, 127, size=(k, n), endpoint=True)
    aw, bw = pack_a(d, a), pack_b(d, b)
    words = buffer_words(d, m, n, k)
    assert (len(aw), len(bw)) == (words["a"], words["b"])
    c = unpack_c(d, _model_run(d, aw, bw, m, n, k), m, n)
    np.testing.assert_array_equal(c, a @ b)


def test_reference_wraps_like_the_accumulator() -> None:
    a = np.full((1, 4), 32767, dtype=np.int64)
    b = np.full((4, 1), 32767, dtype=np.int64)
    exact = 4 * 32767 * 32767
    assert reference_gemm(a, b, 32)[0, 0] == ((exact + 2**31) % 2**32) - 2**31
    assert reference_gemm(a, b, 64)[0, 0] == exact
    assert wrap_signed(np.array([2**31]), 32)[0] == -(2**31)


def test_im2col_lowering_equals_convolution() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(-5, 5, size=(3, 7, 6))
    w = rng.integers(-5, 5, size=(4, 3, 3, 3))
    for stride, pad in [(1, 0), (1, 1), (2, 1)]:
        got = im2col(x, 3, 3, stride, pad) @ w.reshape(4, -1).T
        want = conv2d_reference(x, w, stride, pad)
        np.testing.assert_array_equal(got, want.reshape(4, -1).T)


def test_operand_kinds_cover_the_extremes() -> None:
    rng = np.random.default_rng(1)
    a, b, conv = make_operands(GemmCase(40, 40, 40, "extreme"), rng, 8)
    assert a.min() == -128 and a.max() == 127 and b.min() == -128 and b.max() == 127
    assert conv is None


def test_capacity_and_shape_errors() -> None:
    d = SystolicDesign(2, 2, "ws", buffer_depth=16)
    check_gemm_fits(d, 4, 4, 4)
    with pytest.raises(InputError) as info:
        check_gemm_fits(d, 20, 2, 2)
    assert str(info.value) == (
        "GEMM 20x2x2 needs 20 words of buffer A, more than buffer_depth=16; "
        "use a smaller shape or a deeper buffer"
    )
    with pytest.raises(InputError, match=r"m must be in 1\.\.65535, got 0"):
        GemmCase(0, 1, 1)


@pytest.mark.parametrize("dataflow", ["ws", "os"])
def test_sample_cases_fit_and_include_non_multiples(dataflow: str) -> None:
    for side in (2, 4, 8, 16):
        d = SystolicDesign(side, side, dataflow)  # type: ignore[arg-type]
        cases = sample_cases(d, 24)
        assert len(cases) == 24 and len(set(cases)) >= 20
        for cs in cases:
            check_gemm_fits(d, cs.m, cs.n, cs.k)
        assert any(cs.m % side and cs.n % side and cs.k % side for cs in cases)
        assert any(cs.kind == "extreme" for cs in cases)
        assert sample_cases(d, 24) == cases
