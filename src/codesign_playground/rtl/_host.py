"""The host side of a generated design: register map, buffer layouts and reference results.

A host (the cocotb testbench, or driver software) runs a GEMM ``C[M,N] = A[M,K] @ B[K,N]`` by
writing A and B into the on-chip buffers in the layout below, writing M, N, K, writing 1 to
CTRL and waiting for ``done``; then it reads C back. Layouts (``R`` rows, ``C`` columns,
``KF = ceil(K/R)``, ``MF = ceil(M/R)``, ``NF = ceil(N/C)``; lanes are little-endian in a word,
out-of-range elements are zero):

==========  =======================================  ========================================
buffer      weight-stationary (ws)                   output-stationary (os)
==========  =======================================  ========================================
A  word     ``kf*M + m``, lane r = A[m, kf*R + r]     ``mf*K + k``, lane r = A[mf*R + r, k]
B  word     ``(nf*KF + kf)*R + j``,                   ``nf*K + k``, lane c = B[k, nf*C + c]
            lane c = B[kf*R + R-1-j, nf*C + c]
C  word     ``nf*M + m``, lane c = C[m, nf*C + c]     same
==========  =======================================  ========================================

(ws loads the weight tile bottom row first because it is shifted down the columns.)
A convolution runs as the GEMM of its im2col lowering (:func:`im2col`), done by the host.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from codesign_playground.errors import InputError
from codesign_playground.rtl._design import DIM_WIDTH, SystolicDesign

__all__ = [
    "CASE_KINDS",
    "CONV_SHAPE",
    "CSR",
    "GemmCase",
    "buffer_words",
    "check_gemm_fits",
    "conv2d_reference",
    "conv_case",
    "im2col",
    "make_operands",
    "pack_a",
    "pack_b",
    "reference_gemm",
    "sample_cases",
    "unpack_c",
    "wrap_signed",
]

IntMatrix = npt.NDArray[np.int64]


class CSR:
    """Register map (32-bit registers at word addresses 0..7 of the ``csr_*`` port)."""

    CTRL = 0
    """W: bit 0 = 1 starts a run (ignored while busy). Reads 0."""
    STATUS = 1
    """R: bit 0 = done (sticky until the next start), bit 1 = busy."""
    M = 2
    """RW: rows of A and C (1..65535)."""
    N = 3
    """RW: columns of B and C (1..65535)."""
    K = 4
    """RW: columns of A, rows of B (1..65535)."""
    CYCLES = 5
    """R: clock cycles the last run was busy (start edge to done edge)."""
    CONFIG = 6
    """R: rows [7:0], cols [15:8], data width [20:16], dataflow [24] (0 ws, 1 os)."""
    CAPS = 7
    """R: buffer address bits [7:0], accumulator width [15:8]."""


CaseKind = Literal["random", "extreme", "small", "conv"]
CASE_KINDS: tuple[CaseKind, ...] = ("random", "extreme", "small", "conv")


@dataclass(frozen=True)
class GemmCase:
    """One GEMM to run: its shape and how its operands are drawn (:func:`make_operands`)."""

    m: int
    n: int
    k: int
    kind: CaseKind = "random"

    def __post_init__(self) -> None:
        for name in ("m", "n", "k"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise InputError(f"{name} must be an integer, got {value!r}")
            if not 1 <= value < 2**DIM_WIDTH:
                raise InputError(f"{name} must be in 1..{2**DIM_WIDTH - 1}, got {value}")
        if self.kind not in CASE_KINDS:
            raise InputError(f"kind must be one of {', '.join(CASE_KINDS)}, got {self.kind!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def buffer_words(design: SystolicDesign, m: int, n: int, k: int) -> dict[str, int]:
    """Words of the A, B and C buffers a GEMM of this shape occupies."""
    r, c = design.rows, design.cols
    nf = _ceil(n, c)
    if design.dataflow == "ws":
        kf = _ceil(k, r)
        return {"a": kf * m, "b": nf * kf * r, "c": nf * m}
    return {"a": _ceil(m, r) * k, "b": nf * k, "c": nf * m}


def check_gemm_fits(design: SystolicDesign, m: int, n: int, k: int) -> None:
    """Raise :class:`InputError` when the GEMM does not fit the buffers or the registers."""
    GemmCase(m, n, k)
    for buf, words in buffer_words(design, m, n, k).items():
        if words > design.buffer_depth:
            raise InputError(
                f"GEMM {m}x{n}x{k} needs {words} words of buffer {buf.upper()}, more than "
                f"buffer_depth={design.buffer_depth}; use a smaller shape or a deeper buffer"
            )


def _pad(x: IntMatrix, rows: int, cols: int) -> IntMatrix:
    out = np.zeros((rows, cols), dtype=np.int64)
    out[: x.shape[0], : x.shape[1]] = x
    return out


def _lanes_to_words(lanes: IntMatrix, width: int) -> list[int]:
    """Pack each row of ``lanes`` (signed ints) into one word, lane 0 in the low bits."""
    mask = (1 << width) - 1
    words = []
    for row in lanes.tolist():
        word = 0
        for i, value in enumerate(row):
            word |= (int(value) & mask) << (i * width)
        words.append(word)
    return words


def _words_to_lanes(words: list[int], lanes: int, width: int) -> IntMatrix:
    """Unpack words into signed lanes (two's complement of ``width`` bits)."""
    mask, sign = (1 << width) - 1, 1 << (width - 1)
    out = np.zeros((len(words), lanes), dtype=np.int64)
    for w, word in enumerate(words):
        for i in range(lanes):
            value = (word >> (i * width)) & mask
            out[w, i] = value - (1 << width) if value & sign else value
    return out


def _as_matrix(x: npt.ArrayLike, name: str, bits: int) -> IntMatrix:
    arr = np.asarray(x)
    if arr.ndim != 2 or arr.dtype.kind not in "iu":
        raise InputError(f"{name} must be a 2-D integer matrix, got shape {arr.shape} {arr.dtype}")
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    if arr.size and (arr.min() < lo or arr.max() > hi):
        raise InputError(f"{name} values must fit int{bits} ({lo}..{hi})")
    return arr.astype(np.int64)


def pack_a(design: SystolicDesign, a: npt.ArrayLike) -> list[int]:
    """A-buffer words, in address order, for ``a`` (``M x K``)."""
    x = _as_matrix(a, "a", design.data_width)
    (m, k), r = x.shape, design.rows
    if design.dataflow == "ws":
        kf = _ceil(k, r)
        lanes = _pad(x, m, kf * r).reshape(m, kf, r).transpose(1, 0, 2).reshape(kf * m, r)
    else:
        mf = _ceil(m, r)
        lanes = _pad(x, mf * r, k).reshape(mf, r, k).transpose(0, 2, 1).reshape(mf * k, r)
    return _lanes_to_words(lanes, design.data_width)


def pack_b(design: SystolicDesign, b: npt.ArrayLike) -> list[int]:
    """B-buffer words, in address order, for ``b`` (``K x N``)."""
    x = _as_matrix(b, "b", design.data_width)
    (k, n), r, c = x.shape, design.rows, design.cols
    nf = _ceil(n, c)
    if design.dataflow == "ws":
        kf = _ceil(k, r)
        tiles = _pad(x, kf * r, nf * c).reshape(kf, r, nf, c).transpose(2, 0, 1, 3)
        lanes = tiles[:, :, ::-1, :].reshape(nf * kf * r, c)  # bottom row of a tile first
    else:
        lanes = _pad(x, k, nf * c).reshape(k, nf, c).transpose(1, 0, 2).reshape(nf * k, c)
    return _lanes_to_words(lanes, design.data_width)


def unpack_c(design: SystolicDesign, words: list[int], m: int, n: int) -> IntMatrix:
    """C (``M x N``) from the first ``NF*M`` C-buffer words."""
    c = design.cols
    nf = _ceil(n, c)
    if len(words) < nf * m:
        raise InputError(f"need {nf * m} C words for a {m}x{n} result, got {len(words)}")
    lanes = _words_to_lanes(words[: nf * m], c, design.acc_width)
    return lanes.reshape(nf, m, c).transpose(1, 0, 2).reshape(m, nf * c)[:, :n]


def wrap_signed(x: npt.ArrayLike, width: int) -> IntMatrix:
    """Integers reduced to ``width``-bit two's complement (what a ``width``-bit register holds)."""
    arr = np.asarray(x, dtype=np.int64)
    if width >= 64:
        return arr
    half = np.int64(1) << np.int64(width - 1)
    mask = (np.int64(1) << np.int64(width)) - np.int64(1)
    wrapped: IntMatrix = ((arr + half) & mask) - half
    return wrapped


def reference_gemm(a: npt.ArrayLike, b: npt.ArrayLike, acc_width: int = 32) -> IntMatrix:
    """``a @ b`` with the hardware's arithmetic: exact products, sums wrapped to ``acc_width``."""
    exact = np.asarray(a, dtype=np.int64) @ np.asarray(b, dtype=np.int64)  # wraps mod 2**64
    return wrap_signed(exact, acc_width)


def im2col(x: npt.ArrayLike, kh: int, kw: int, stride: int = 1, pad: int = 0) -> IntMatrix:
    """Lower an NCHW input (batch 1: ``C x H x W``) to the GEMM operand A (``OH*OW x C*kh*kw``).

    Column order is ``(c, i, j)``, matching ``weights.reshape(F, C*kh*kw)``, so
    ``conv = im2col(x) @ weights.reshape(F, -1).T`` (an ``OH*OW x F`` matrix).
    """
    arr = np.asarray(x, dtype=np.int64)
    if arr.ndim != 3:
        raise InputError(f"im2col input must be C x H x W, got shape {arr.shape}")
    ch, h, w = arr.shape
    xp = np.pad(arr, ((0, 0), (pad, pad), (pad, pad)))
    oh, ow = (h + 2 * pad - kh) // stride + 1, (w + 2 * pad - kw) // stride + 1
    if oh < 1 or ow < 1:
        raise InputError(f"kernel {kh}x{kw} does not fit input {h}x{w} with pad {pad}")
    cols = np.empty((oh * ow, ch * kh * kw), dtype=np.int64)
    for oy in range(oh):
        for ox in range(ow):
            patch = xp[:, oy * stride : oy * stride + kh, ox * stride : ox * stride + kw]
            cols[oy * ow + ox] = patch.reshape(-1)
    return cols


def conv2d_reference(
    x: npt.ArrayLike, weights: npt.ArrayLike, stride: int = 1, pad: int = 0
) -> IntMatrix:
    """Direct convolution (``C x H x W`` input, ``F x C x kh x kw`` weights) -> ``F x OH x OW``."""
    arr = np.asarray(x, dtype=np.int64)
    wt = np.asarray(weights, dtype=np.int64)
    f, _, kh, kw = wt.shape
    xp = np.pad(arr, ((0, 0), (pad, pad), (pad, pad)))
    oh = (arr.shape[1] + 2 * pad - kh) // stride + 1
    ow = (arr.shape[2] + 2 * pad - kw) // stride + 1
    out = np.zeros((f, oh, ow), dtype=np.int64)
    for i in range(kh):
        for j in range(kw):
            window = xp[:, i : i + stride * oh : stride, j : j + stride * ow : stride]
            out += np.einsum("chw,fc->fhw", window, wt[:, :, i, j])
    return out


CONV_SHAPE = {"channels": 3, "height": 6, "width": 6, "kernel": 3, "pad": 1}
"""The convolution a ``conv`` case lowers with :func:`im2col` (its N is the filter count)."""


def conv_case(filters: int) -> GemmCase:
    """The GEMM shape of :data:`CONV_SHAPE` with ``filters`` output channels."""
    s = CONV_SHAPE
    oh = s["height"] + 2 * s["pad"] - s["kernel"] + 1
    ow = s["width"] + 2 * s["pad"] - s["kernel"] + 1
    return GemmCase(oh * ow, filters, s["channels"] * s["kernel"] ** 2, "conv")


def make_operands(
    case: GemmCase, rng: np.random.Generator, data_width: int
) -> tuple[IntMatrix, IntMatrix, IntMatrix | None]:
    """Operands ``(A, B, expected_conv)`` of a case; ``expected_conv`` only for ``conv`` cases.

    ``random``: uniform over the whole signed range; ``extreme``: only the most negative and
    most positive values (and a few -1, 0, 1), the worst case for the accumulators; ``small``:
    values in -3..3; ``conv``: a random input and filters of :data:`CONV_SHAPE`, lowered.
    """
    lo, hi = -(2 ** (data_width - 1)), 2 ** (data_width - 1) - 1
    m, n, k = case.m, case.n, case.k
    if case.kind == "random":
        a = rng.integers(lo, hi, size=(m, k), endpoint=True)
        b = rng.integers(lo, hi, size=(k, n), endpoint=True)
    elif case.kind == "extreme":
        pool = np.array([lo, lo, lo, hi, hi, hi, -1, 0, 1], dtype=np.int64)
        a = rng.choice(pool, size=(m, k))
        b = rng.choice(pool, size=(k, n))
    elif case.kind == "small":
        a = rng.integers(-3, 3, size=(m, k), endpoint=True)
        b = rng.integers(-3, 3, size=(k, n), endpoint=True)
    else:
        s = CONV_SHAPE
        x = rng.integers(lo, hi, size=(s["channels"], s["height"], s["width"]), endpoint=True)
        w = rng.integers(lo, hi, size=(n, s["channels"], s["kernel"], s["kernel"]), endpoint=True)
        a = im2col(x, s["kernel"], s["kernel"], pad=s["pad"])
        b = w.reshape(n, -1).T
        if a.shape != (m, k):
            raise InputError(f"conv case must be {a.shape[0]}x{n}x{a.shape[1]}, got {m}x{n}x{k}")
        return a, b.astype(np.int64), conv2d_reference(x, w, pad=s["pad"])
    return a.astype(np.int64), b.astype(np.int64), None


def sample_cases(
    design: SystolicDesign, count: int = 24, seed: int = 0, max_dim: int | None = None
) -> list[GemmCase]:
    """``count`` GEMM shapes for a design: edge shapes first, then random ones.

    The edge shapes are 1x1x1, exactly one array tile, one past it in every dimension (the
    non-multiples), most-negative/most-positive operands (``extreme``) and a lowered convolution
    (when it fits the buffers). Random shapes draw M, N, K uniformly in ``1..max_dim`` (default
    ``3 * max(rows, cols)``), redrawn until they fit the buffers. Deterministic in ``seed``.
    """
    if count < 1:
        raise InputError(f"count must be >= 1, got {count}")
    r, c = design.rows, design.cols
    limit = max_dim if max_dim is not None else 3 * max(r, c)
    if limit < 1:
        raise InputError(f"max_dim must be >= 1, got {limit}")
    edge = [
        GemmCase(1, 1, 1),
        GemmCase(r, c, r),
        GemmCase(r + 1, c + 1, r + 1),
        GemmCase(2 * r - 1, 2 * c + 1, 3 * r + 1, "extreme"),
        GemmCase(min(limit, 3 * r), min(limit, 2 * c), min(limit, 2 * r + 3), "extreme"),
        GemmCase(1, 2 * c + 3, 2, "small"),
        GemmCase(2 * r + 5, 1, 1),
        conv_case(c + 1),
    ]

    def fits(case: GemmCase) -> bool:
        words = buffer_words(design, case.m, case.n, case.k)
        return max(words.values()) <= design.buffer_depth

    cases = [e for e in edge if fits(e)][:count]
    rng = np.random.default_rng(seed)
    kinds: tuple[CaseKind, ...] = ("random", "random", "random", "extreme")
    attempts = 0
    while len(cases) < count:
        attempts += 1
        if attempts > 100 * count:
            raise InputError(f"cannot draw {count} shapes up to {limit} that fit the buffers")
        m, n, k = (int(v) for v in rng.integers(1, limit, size=3, endpoint=True))
        case = GemmCase(m, n, k, kinds[len(cases) % len(kinds)])
        if fits(case):
            cases.append(case)
    return cases
