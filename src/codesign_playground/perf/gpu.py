"""Kernel-level GPU timing: launch floors, tile and wave quantization, achievable fractions.

The multi-level roofline (``perf/roofline.py``) is a lower bound: on a GPU at small sizes it
is far too optimistic, because every kernel pays a fixed launch and synchronization cost,
its work is cut into CTA tiles that run in waves over the SMs, and real kernels reach only
a fraction of the tensor-core peak and of the HBM bandwidth. This model prices each op as
one kernel with three terms (equations and their justification: ``docs/models.md``,
"GPU kernel model"):

- ``floor``: a per-kernel overhead by family (GEMM, attention, elementwise, softmax, norm);
- ``compute``: waves x tile time. A GEMM is cut into ``tm x tn`` CTA tiles (optionally
  split along K), ``waves = ceil(count x tiles x splits / SMs)`` and each tile runs at the
  achievable fraction ``eta_c`` of the per-SM peak of its precision. The tile and split
  are the fastest of a fixed candidate set, as a library heuristic picks one. Attention
  is a FlashAttention-style kernel: one CTA per 128 query rows, each streaming 64-key
  blocks (both matrix products at ``eta_c``; causal CTAs stop at the diagonal);
- ``memory``: DRAM bytes over ``eta_bw x`` the DRAM bandwidth.

and combines them as ``(floor^p + max(compute, memory)^p)^(1/p)``: ``p = 1`` adds the
overhead to the work (nothing overlaps), ``p -> inf`` is a pure maximum; ``p`` is fitted.
Parameters are fitted to kernels measured on one H200 (``scripts/calibrate_gpu.py``,
``hardware/data/gpu_calibration.yaml``, errors in ``docs/validation-gpu.md``); they apply
to any GPU through that GPU's own SM count, peaks and bandwidth (validated on Hopper only).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

from codesign_playground.errors import HardwareSpecError
from codesign_playground.hardware.spec import HardwareSpec
from codesign_playground.perf.roofline import RooflineResult
from codesign_playground.perf.timing import Timing
from codesign_playground.workload.arrays import LayerArrays
from codesign_playground.workload.ir import PRECISION_BITS, Network

__all__ = [
    "FAMILIES",
    "BenchmarkKernels",
    "GpuParams",
    "attention_compute_s",
    "benchmark_kernels",
    "combine",
    "default_params",
    "gemm_compute_s",
    "gemm_dram_bytes",
    "gpu_timing",
    "kernel_family",
    "load_calibration",
    "predict_attention_s",
    "predict_elementwise_s",
    "predict_gemm_s",
]

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike

#: Kernel families, each with its own launch floor.
FAMILIES: tuple[str, ...] = ("gemm", "attention", "elementwise", "softmax", "norm")

#: IR op kind -> kernel family (``shape`` ops that copy are copy kernels: elementwise).
_KIND_FAMILY: Mapping[str, str] = {
    "conv": "gemm",
    "gemm": "gemm",
    "matmul": "gemm",
    "attention": "attention",
    "elementwise": "elementwise",
    "activation": "elementwise",
    "embedding": "elementwise",
    "shape": "elementwise",
    "pool": "softmax",
    "reduce": "softmax",
    "softmax": "softmax",
    "norm": "norm",
}

#: Precisions with tensor-core MMA (tiles at least 64 rows: one Hopper warpgroup MMA).
_TENSOR = frozenset({"fp16", "bf16", "int8", "int4"})
#: Precision whose calibrated fraction an uncalibrated precision borrows.
#: bf16 and fp16 run at one tensor-core rate and the data do not tell them apart.
_EFF_FALLBACK: Mapping[str, str] = {"bf16": "fp16", "int4": "int8", "int16": "fp16"}

_TM_TENSOR = (64, 128, 256)
_TN_TENSOR = (32, 64, 128, 256)
_TILE_TENSOR_MAX = 256 * 128
_TM_SIMT = (16, 32, 64, 128)
_TN_SIMT = (16, 32, 64, 128)
_TILE_SIMT_MAX = 128 * 128
_SPLIT_K = (1, 2, 4, 8, 16)
_MIN_K_CHUNK = 64.0
#: FlashAttention-style tiles: query rows per CTA, keys per inner block.
ATTN_BLOCK_M = 128
ATTN_BLOCK_N = 64


@dataclass(frozen=True)
class GpuParams:
    """The fitted constants of the GPU kernel model (``hardware/data/gpu_calibration.yaml``).

    ``floor_s``: per-kernel overhead by family; ``compute_eff``: achievable fraction of the
    per-SM peak by precision (GEMM tiles and attention's two matrix products);
    ``bw_eff``: achievable fraction of DRAM bandwidth; ``element_s``: seconds per element,
    whole GPU, for families with per-element work beyond their bytes (softmax, norm);
    ``combine_p``: exponent combining the floor with the work.
    """

    floor_s: Mapping[str, float]
    compute_eff: Mapping[str, float]
    bw_eff: float
    element_s: Mapping[str, float]
    combine_p: float
    source: str = "unfitted defaults"
    extra: Mapping[str, Any] = field(default_factory=dict)

    def eff(self, precision: str) -> float:
        p = (
            _EFF_FALLBACK.get(precision, precision)
            if precision not in self.compute_eff
            else precision
        )
        if p not in self.compute_eff:
            raise HardwareSpecError(
                f"gpu model: no calibrated compute fraction for precision '{precision}'"
            )
        return float(self.compute_eff[p])

    # -- flat vector view, for fitting ------------------------------------------------
    def names(self) -> list[str]:
        return [
            *(f"floor_s.{f}" for f in self.floor_s),
            *(f"compute_eff.{p}" for p in self.compute_eff),
            "bw_eff",
            *(f"element_s.{f}" for f in self.element_s),
            "combine_p",
        ]

    def to_vector(self) -> FloatArray:
        return np.asarray(
            [
                *self.floor_s.values(),
                *self.compute_eff.values(),
                self.bw_eff,
                *self.element_s.values(),
                self.combine_p,
            ],
            dtype=np.float64,
        )

    def from_vector(self, v: ArrayLike) -> GpuParams:
        x = [float(a) for a in np.asarray(v, dtype=np.float64)]
        i = 0

        def take(keys: Mapping[str, float]) -> dict[str, float]:
            nonlocal i
            out = {key: x[i + j] for j, key in enumerate(keys)}
            i += len(keys)
            return out

        floor = take(self.floor_s)
        eff = take(self.compute_eff)
        bw = x[i]
        i += 1
        elem = take(self.element_s)
        return replace(
            self,
            floor_s=floor,
            compute_eff=eff,
            bw_eff=bw,
            element_s=elem,
            combine_p=x[i],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "floor_s": dict(self.floor_s),
            "compute_eff": dict(self.compute_eff),
            "bw_eff": self.bw_eff,
            "element_s": dict(self.element_s),
            "combine_p": self.combine_p,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, source: str = "", extra: Any = None) -> GpuParams:
        return cls(
            floor_s={str(k): float(v) for k, v in d["floor_s"].items()},
            compute_eff={str(k): float(v) for k, v in d["compute_eff"].items()},
            bw_eff=float(d["bw_eff"]),
            element_s={str(k): float(v) for k, v in d["element_s"].items()},
            combine_p=float(d["combine_p"]),
            source=source,
            extra=dict(extra or {}),
        )


def default_params() -> GpuParams:
    """Starting point of the fit (order of magnitude values, not a calibration)."""
    return GpuParams(
        floor_s={f: 30e-6 for f in FAMILIES},
        compute_eff={"fp16": 0.8, "fp32": 0.8, "int8": 0.4},
        bw_eff=0.85,
        element_s={"softmax": 3e-12, "norm": 2e-12},
        combine_p=1.5,
    )


@cache
def load_calibration() -> GpuParams:
    """The packaged calibration (``hardware/data/gpu_calibration.yaml``)."""
    text = (
        resources.files("codesign_playground.hardware")
        .joinpath("data", "gpu_calibration.yaml")
        .read_text(encoding="utf-8")
    )
    data = yaml.safe_load(text)
    return GpuParams.from_dict(data["parameters"], source=str(data["source"]), extra=data)


# -- hardware facts --------------------------------------------------------------------


def _sms(spec: HardwareSpec) -> float:
    return float(spec.compute.cores)


def _dram_bw(spec: HardwareSpec) -> float:
    bw = spec.dram.bandwidth(spec.compute.clock_hz)
    if bw is None:
        raise HardwareSpecError(
            f"hardware field 'memory.{spec.dram.name}.bandwidth_bytes_per_s': the gpu model "
            f"needs the DRAM bandwidth ({spec.name} has none)"
        )
    return float(bw * spec.dram.instances)


def _onchip_bytes(spec: HardwareSpec) -> float:
    """The largest on-chip level (the L2 on a GPU): what stays warm between kernels."""
    caps = [lv.total_capacity_bytes or 0 for lv in spec.memory[:-1]]
    return float(max(caps, default=0))


def _peak_per_sm(spec: HardwareSpec, precision: str) -> float:
    if precision not in spec.precisions:
        raise HardwareSpecError(
            f"precision: {spec.name} does not compute in {precision}; "
            f"use one of {', '.join(spec.precisions)}"
        )
    return spec.peak_ops_per_s(precision) / _sms(spec)


def _bytes(precision: str) -> float:
    return PRECISION_BITS[precision] / 8.0  # type: ignore[index]


def _out_bytes(precision: str) -> float:
    """GEMM output element: int8 products accumulate to int32, others keep their type."""
    return 4.0 if precision in ("int8", "int4") else _bytes(precision)


def _by_precision(values: ArrayLike, n: int) -> list[str]:
    arr = np.broadcast_to(np.asarray(values, dtype=object), (n,))
    return [str(a) for a in arr]


# -- the three terms --------------------------------------------------------------------


def combine(floor: ArrayLike, work: ArrayLike, p: float) -> FloatArray:
    """``(floor^p + work^p)^(1/p)``: between their sum (p = 1) and their maximum (p -> inf)."""
    f = np.asarray(floor, dtype=np.float64)
    w = np.asarray(work, dtype=np.float64)
    top = np.maximum(f, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(top > 0, np.minimum(f, w) / top, 0.0)
    return np.asarray(top * (1.0 + lo**p) ** (1.0 / p), dtype=np.float64)


def _tile_candidates(tensor: bool) -> FloatArray:
    tms, tns, cap = (
        (_TM_TENSOR, _TN_TENSOR, _TILE_TENSOR_MAX)
        if tensor
        else (_TM_SIMT, _TN_SIMT, _TILE_SIMT_MAX)
    )
    rows = [(tm, tn, s) for tm in tms for tn in tns if tm * tn <= cap for s in _SPLIT_K]
    return np.asarray(rows, dtype=np.float64)


def gemm_compute_s(
    count: ArrayLike,
    m: ArrayLike,
    n: ArrayLike,
    k: ArrayLike,
    precision: ArrayLike,
    spec: HardwareSpec,
    params: GpuParams,
) -> FloatArray:
    """Compute time of ``count`` (m x k)(k x n) products in one kernel: the fastest CTA tile
    and K split of the candidates, waves over the SMs, each tile at the achievable rate."""
    cnt, mm, nn, kk = np.broadcast_arrays(
        *(np.asarray(a, dtype=np.float64) for a in (count, m, n, k))
    )
    shape = mm.shape
    cnt, mm, nn, kk = (a.reshape(-1) for a in (cnt, mm, nn, kk))
    precs = _by_precision(precision, mm.size) if mm.size else []
    out = np.zeros(mm.size)
    sms = _sms(spec)
    for prec in sorted(set(precs)):
        sel = np.asarray([p == prec for p in precs])
        cand = _tile_candidates(prec in _TENSOR)
        tm, tn, sk = (c[np.newaxis, :] for c in cand.T)
        c_, m_, n_, k_ = (a[sel][:, np.newaxis] for a in (cnt, mm, nn, kk))
        # a split-K slice is at least one 64-deep chunk (monotone in k: no shape gains by
        # growing into a split)
        k_chunk = np.where(sk > 1, np.maximum(np.ceil(k_ / sk), _MIN_K_CHUNK), k_)
        ctas = c_ * np.ceil(m_ / tm) * np.ceil(n_ / tn) * sk
        waves = np.ceil(ctas / sms)
        rate = params.eff(prec) * _peak_per_sm(spec, prec)
        t = waves * 2.0 * tm * tn * k_chunk / rate
        out[sel] = np.min(t, axis=1)
    out = np.where(cnt * mm * nn * kk > 0, out, 0.0)
    return out.reshape(shape)


def gemm_dram_bytes(
    count: ArrayLike, m: ArrayLike, n: ArrayLike, k: ArrayLike, precision: ArrayLike
) -> FloatArray:
    """Compulsory bytes of a GEMM kernel: both operands read once, the product written."""
    cnt, mm, nn, kk = np.broadcast_arrays(
        *(np.asarray(a, dtype=np.float64) for a in (count, m, n, k))
    )
    precs = _by_precision(precision, mm.size)
    b_in = np.asarray([_bytes(p) for p in precs]).reshape(mm.shape)
    b_out = np.asarray([_out_bytes(p) for p in precs]).reshape(mm.shape)
    return np.asarray(cnt * ((mm * kk + kk * nn) * b_in + mm * nn * b_out), dtype=np.float64)


def _warm_dram_bytes(footprint: FloatArray, spec: HardwareSpec) -> FloatArray:
    """DRAM bytes of a kernel rerun on the same data (as in a benchmark loop): nothing when
    its whole footprint fits in the L2, all of it otherwise (LRU streaming keeps nothing)."""
    return np.where(footprint > _onchip_bytes(spec), footprint, 0.0)


def _memory_s(dram_bytes: FloatArray, spec: HardwareSpec, params: GpuParams) -> FloatArray:
    return np.asarray(dram_bytes / (params.bw_eff * _dram_bw(spec)), dtype=np.float64)


def predict_gemm_s(
    m: ArrayLike,
    n: ArrayLike,
    k: ArrayLike,
    dtype: ArrayLike,
    spec: HardwareSpec,
    params: GpuParams | None = None,
    *,
    count: ArrayLike = 1,
    dram_bytes: ArrayLike | None = None,
) -> FloatArray:
    """Seconds of one GEMM kernel per element of the (broadcast) arrays.

    ``dram_bytes`` defaults to the warm-L2 benchmark case (rerun on the same operands);
    pass the traffic of a cold or network context instead.
    """
    p = params or load_calibration()
    compute = gemm_compute_s(count, m, n, k, dtype, spec, p)
    if dram_bytes is None:
        dram = _warm_dram_bytes(gemm_dram_bytes(count, m, n, k, dtype), spec)
    else:
        dram = np.broadcast_to(np.asarray(dram_bytes, dtype=np.float64), compute.shape)
    work = np.maximum(compute, _memory_s(dram, spec, p))
    return combine(p.floor_s["gemm"], work, p.combine_p)


def _causal_mean_max_blocks(lq: float, lk: float) -> tuple[float, float]:
    """Mean and largest number of key blocks per query block under a causal mask
    (bottom-right aligned, as when the queries are the last ``lq`` of ``lk`` positions)."""
    n_q = max(math.ceil(lq / ATTN_BLOCK_M), 1)
    ends = np.minimum(np.arange(1, n_q + 1) * ATTN_BLOCK_M + (lk - lq), lk)
    blocks = np.ceil(np.maximum(ends, 1.0) / ATTN_BLOCK_N)
    return float(blocks.mean()), float(blocks.max())


def attention_compute_s(
    count: ArrayLike,
    seq_q: ArrayLike,
    seq_k: ArrayLike,
    d: ArrayLike,
    dv: ArrayLike,
    causal: ArrayLike,
    spec: HardwareSpec,
    params: GpuParams,
    precision: str = "fp16",
) -> FloatArray:
    """Compute time of a fused attention kernel: CTAs of 128 query rows in waves over the
    SMs; each streams 64-key blocks (QK^T and PV of a 128 x 64 block at ``eta_c``)."""
    cnt, lq, lk, dd, ddv, cz = np.broadcast_arrays(
        *(np.asarray(a, dtype=np.float64) for a in (count, seq_q, seq_k, d, dv, causal))
    )
    shape = lq.shape
    cnt, lq, lk, dd, ddv, cz = (a.reshape(-1) for a in (cnt, lq, lk, dd, ddv, cz))
    mean_blocks = np.ceil(lk / ATTN_BLOCK_N)
    max_blocks = mean_blocks.copy()
    for i in np.flatnonzero(cz > 0):
        mean_blocks[i], max_blocks[i] = _causal_mean_max_blocks(lq[i], lk[i])
    rate = params.eff(precision) * _peak_per_sm(spec, precision)
    block_s = 2.0 * ATTN_BLOCK_M * ATTN_BLOCK_N * (dd + ddv) / rate
    ctas = cnt * np.ceil(lq / ATTN_BLOCK_M)
    waves = np.ceil(ctas / _sms(spec))
    t = np.maximum(waves * mean_blocks, max_blocks) * block_s
    return np.asarray(np.where(ctas * lk > 0, t, 0.0).reshape(shape), dtype=np.float64)


def predict_attention_s(
    batch: ArrayLike,
    heads: ArrayLike,
    seq: ArrayLike,
    d: ArrayLike,
    causal: ArrayLike,
    spec: HardwareSpec,
    params: GpuParams | None = None,
    *,
    precision: str = "fp16",
    seq_k: ArrayLike | None = None,
    dram_bytes: ArrayLike | None = None,
) -> FloatArray:
    """Seconds of one fused scaled-dot-product attention kernel, ``(batch, heads, seq, d)``."""
    p = params or load_calibration()
    count = np.asarray(batch, dtype=np.float64) * np.asarray(heads, dtype=np.float64)
    lk = seq if seq_k is None else seq_k
    compute = attention_compute_s(count, seq, lk, d, d, causal, spec, p, precision)
    if dram_bytes is None:
        lq_a = np.asarray(seq, dtype=np.float64)
        lk_a = np.asarray(lk, dtype=np.float64)
        foot = count * np.asarray(d, dtype=np.float64) * (2 * lq_a + 2 * lk_a) * _bytes(precision)
        dram = _warm_dram_bytes(np.asarray(foot, dtype=np.float64), spec)
    else:
        dram = np.asarray(dram_bytes, dtype=np.float64)
    work = np.maximum(compute, _memory_s(np.broadcast_to(dram, compute.shape), spec, p))
    return combine(p.floor_s["attention"], work, p.combine_p)


def predict_elementwise_s(
    n_elements: ArrayLike,
    family: ArrayLike,
    dtype: ArrayLike,
    spec: HardwareSpec,
    params: GpuParams | None = None,
    *,
    tensors: ArrayLike = 2,
    dram_bytes: ArrayLike | None = None,
) -> FloatArray:
    """Seconds of one memory-bound kernel over ``n_elements`` touching ``tensors`` tensors
    of that size (read plus written: 3 for a binary add, 2 for softmax or layernorm)."""
    p = params or load_calibration()
    n = np.asarray(n_elements, dtype=np.float64)
    fam, prec, tens, n = np.broadcast_arrays(
        np.asarray(family, dtype=object),
        np.asarray(dtype, dtype=object),
        np.asarray(tensors, dtype=np.float64),
        n,
    )
    flat_f = [str(f) for f in fam.reshape(-1)]
    b = np.asarray([_bytes(str(d)) for d in prec.reshape(-1)]).reshape(n.shape)
    if dram_bytes is None:
        dram = _warm_dram_bytes(np.asarray(n * tens * b, dtype=np.float64), spec)
    else:
        dram = np.broadcast_to(np.asarray(dram_bytes, dtype=np.float64), n.shape)
    per_elem = np.asarray([p.element_s.get(f, 0.0) for f in flat_f]).reshape(n.shape)
    floor = np.asarray([p.floor_s[f] for f in flat_f]).reshape(n.shape)
    work = np.maximum(n * per_elem, _memory_s(dram, spec, p))
    return combine(floor, work, p.combine_p)


# -- whole networks ---------------------------------------------------------------------


def kernel_family(kind: str) -> str:
    """The kernel family (launch floor) of an IR op kind."""
    return _KIND_FAMILY.get(kind, "elementwise")


def gpu_timing(
    net: Network,
    la: LayerArrays,
    spec: HardwareSpec,
    rf: RooflineResult,
    params: GpuParams | None = None,
) -> Timing:
    """Per-op seconds and per-level bytes of ``net`` on GPU ``spec``, one kernel per op.

    Traffic is the roofline's (compulsory, activations passed between ops kept in the L2
    when they fit, weights cold); every term is at least the roofline's, so this model is
    never faster than the roofline. A view (a ``shape`` op that copies nothing)
    launches no kernel and costs nothing.
    """
    p = params or load_calibration()
    n_ops = la.n_ops
    clock = spec.compute.clock_hz
    g = la.gemm_op
    compute = np.zeros(n_ops)
    if g.size:
        precs = [la.act_precisions[i] for i in g]
        kinds = [la.kinds[i] for i in g]
        is_attn = np.asarray([k == "attention" for k in kinds])
        gemm_t = gemm_compute_s(la.gemm_count, la.gemm_m, la.gemm_n, la.gemm_k, precs, spec, p)
        compute += np.bincount(g, weights=np.where(is_attn, 0.0, gemm_t), minlength=n_ops)
        for i in sorted(set(g[is_attn].tolist())):
            rows = np.flatnonzero(g == i)
            qk, pv = rows[0], rows[-1]
            causal = bool(net.ops[i].attrs.get("causal", False))
            compute[i] += float(
                attention_compute_s(
                    la.gemm_count[qk],
                    la.gemm_m[qk],
                    la.gemm_n[qk],
                    la.gemm_k[qk],
                    la.gemm_n[pv],
                    causal,
                    spec,
                    p,
                    la.act_precisions[i],
                )
            )
    # ops without a GEMM: their per-element work (softmax, norm) over their output
    out_elems = np.asarray([op.output_elements for op in net.ops], dtype=np.float64)
    fams = [kernel_family(k) for k in la.kinds]
    per_elem = np.asarray([p.element_s.get(f, 0.0) for f in fams])
    has_gemm = np.bincount(g, minlength=n_ops) > 0 if g.size else np.zeros(n_ops, dtype=bool)
    compute = np.where(has_gemm, compute, out_elems * per_elem)
    # never under the roofline: on-chip levels at their published bandwidth, the DRAM at
    # the achievable fraction of its own, compute at least the roofline's
    memory = _memory_s(rf.traffic_bytes[-1], spec, p)
    if rf.memory_s.shape[0] > 1:
        memory = np.maximum(memory, rf.memory_s[:-1].max(axis=0))
    compute = np.maximum(compute, rf.compute_s)
    work = np.maximum(compute, memory)
    moves = (la.flops > 0) | (rf.traffic_bytes.sum(axis=0) > 0)
    floor = np.where(moves, np.asarray([p.floor_s[f] for f in fams]), 0.0)
    latency = combine(floor, work, p.combine_p)
    dram_name = spec.dram.name
    bound = tuple(
        "none"
        if latency[i] == 0
        else "launch"
        if floor[i] >= work[i]
        else ("compute" if compute[i] >= memory[i] else dram_name)
        for i in range(n_ops)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        util = np.where(latency > 0, rf.compute_s / latency, 0.0)
    by_op = rf.operand_traffic_bytes
    return Timing(
        model="gpu",
        cycles=np.ceil(latency * clock),
        latency_s=latency,
        utilization=np.asarray(util, dtype=np.float64),
        bound=bound,
        read_bytes=by_op[:, 0] + by_op[:, 1],
        write_bytes=by_op[:, 2],
    )


# -- measured kernels (the calibration set) -------------------------------------------

_BENCH_FAMILY: Mapping[str, tuple[str, int]] = {
    "add": ("elementwise", 3),
    "softmax_rows4096": ("softmax", 2),
    "layernorm4096": ("norm", 2),
}


@dataclass(frozen=True)
class BenchmarkKernels:
    """The kernels of a microbenchmark file as arrays: their family, a label, the measured
    seconds, the model's prediction and the single-level roofline (compulsory bytes)."""

    family: tuple[str, ...]
    label: tuple[str, ...]
    measured_s: FloatArray
    predicted_s: FloatArray
    roofline_s: FloatArray


def benchmark_kernels(
    data: Mapping[str, Any], spec: HardwareSpec, params: GpuParams | None = None
) -> BenchmarkKernels:
    """Predict every kernel of ``data`` (the layout of ``microbenchmarks.json``) on ``spec``."""
    from codesign_playground.perf.roofline import roofline_times

    p = params or load_calibration()
    fam: list[str] = []
    label: list[str] = []
    meas: list[float] = []
    pred: list[FloatArray] = []
    flops: list[float] = []
    foot: list[float] = []
    peak: list[float] = []
    g = list(data.get("gemm", ()))
    if g:
        m, n, k = (np.asarray([r[c] for r in g], dtype=np.float64) for c in ("M", "N", "K"))
        dt = [str(r["dtype"]) for r in g]
        pred.append(predict_gemm_s(m, n, k, dt, spec, p))
        foot.extend(gemm_dram_bytes(1, m, n, k, dt).tolist())
        flops.extend((2 * m * n * k).tolist())
        peak.extend(spec.peak_ops_per_s(d) for d in dt)  # type: ignore[arg-type]
        fam.extend("gemm" for _ in g)
        label.extend(f"{r['M']}x{r['N']}x{r['K']} {r['dtype']}" for r in g)
        meas.extend(float(r["ms"]) * 1e-3 for r in g)
    a = list(data.get("attention", ()))
    if a:
        b, h, s, d = (
            np.asarray([r[c] for r in a], dtype=np.float64) for c in ("B", "heads", "seq", "d")
        )
        cz = np.asarray([bool(r["causal"]) for r in a])
        pred.append(predict_attention_s(b, h, s, d, cz, spec, p))
        f = 4.0 * b * h * s * s * d * np.where(cz, 0.5, 1.0)
        flops.extend(f.tolist())
        foot.extend((4.0 * b * h * s * d * 2.0).tolist())
        peak.extend(spec.peak_ops_per_s(str(r["dtype"])) for r in a)  # type: ignore[arg-type]
        fam.extend("attention" for _ in a)
        label.extend(
            f"B{r['B']} h{r['heads']} s{r['seq']} d{r['d']}{' causal' if r['causal'] else ''}"
            for r in a
        )
        meas.extend(float(r["ms"]) * 1e-3 for r in a)
    e = list(data.get("elementwise", ()))
    if e:
        fams = [_BENCH_FAMILY[str(r["op"])][0] for r in e]
        tens = np.asarray([_BENCH_FAMILY[str(r["op"])][1] for r in e], dtype=np.float64)
        n_el = np.asarray([r["n"] for r in e], dtype=np.float64)
        dt = [str(r["dtype"]) for r in e]
        pred.append(predict_elementwise_s(n_el, fams, dt, spec, p, tensors=tens))
        foot.extend((n_el * tens * np.asarray([_bytes(x) for x in dt])).tolist())
        flops.extend([0.0] * len(e))
        peak.extend([1.0] * len(e))
        fam.extend(fams)
        label.extend(f"{r['op']} n={r['n']} {r['dtype']}" for r in e)
        meas.extend(float(r["ms"]) * 1e-3 for r in e)
    _, _, rl, _ = roofline_times(
        np.asarray(flops),
        np.asarray(foot)[np.newaxis],
        np.asarray(peak),
        np.asarray([[_dram_bw(spec)]]),
    )
    return BenchmarkKernels(
        family=tuple(fam),
        label=tuple(label),
        measured_s=np.asarray(meas, dtype=np.float64),
        predicted_s=np.concatenate(pred) if pred else np.zeros(0),
        roofline_s=np.asarray(rl, dtype=np.float64),
    )
