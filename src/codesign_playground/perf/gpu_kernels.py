"""Kernel-level GPU time (GPU time only, no launch overhead): GEMM, convolution, attention,
memory-bound kernels.

Every kernel costs ``t = t0 + work``: ``t0`` is the fixed GPU-side cost of one kernel in a
stream of kernels (ramp-up, tail, dependent-kernel gap inside a CUDA graph: 1-5 us, fitted
per family), ``work`` depends on the family (equations: ``docs/models.md``, "GPU model"):

- GEMM (and a dense or large-group convolution as an implicit GEMM): the output is cut into
  ``tm x tn`` CTA tiles, optionally split along K; ``waves = ceil(tiles x splits / SMs)``;
  each tile costs ``2 tm tn (k_chunk + k_ovh) / (eta x peak_per_SM)`` (``k_ovh``: prologue
  and epilogue as extra K depth; smaller tiles reach less of the peak: factor
  ``min(1, tm tn / 128^2)^beta``). The tile and split are the fastest of the candidates a
  library picks from for that dtype. The work is the larger of that and the compulsory
  bytes over the bandwidth of the level they live in (L2 when the footprint fits).
- depthwise / small-group convolution: memory-bound or a device-wide CUDA-core MAC rate.
- prefill attention: FlashAttention-style, CTAs of 128 query rows streaming 64-key blocks;
  decode attention (one query per sequence): the KV cache over the DRAM bandwidth.
- elementwise, activation, softmax, normalization: bytes over the achievable bandwidth
  combined with a per-element cost (``(mem^p + elem^p)^(1/p)``).

The constants are fitted to H200 kernels timed as CUDA-graph replays
(``scripts/calibrate_gpu.py`` -> ``hardware/data/gpu_calibration.yaml``); they carry to
another GPU through that GPU's own SM count, peaks, bandwidth and L2 (``gpu_specs.yaml``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

from codesign_playground.errors import HardwareSpecError
from codesign_playground.hardware.spec import HardwareSpec

__all__ = [
    "ATTN_BLOCK_M",
    "ATTN_BLOCK_N",
    "MEMORY_OPS",
    "GpuFacts",
    "GpuParams",
    "attention_s",
    "conv_s",
    "decode_attention_s",
    "gemm_s",
    "gpu_facts",
    "load_calibration",
    "memory_op_s",
    "power_model",
]

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike

#: Kernel dtypes: IR precisions plus ``tf32`` (fp32 data on the tensor cores).
DTYPE_BYTES: Mapping[str, float] = {
    "fp32": 4.0,
    "tf32": 4.0,
    "fp16": 2.0,
    "bf16": 2.0,
    "int8": 1.0,
    "int4": 0.5,
    "int16": 2.0,
}
#: Dtype whose fitted constants an uncalibrated dtype borrows (same tensor-core rate).
_FALLBACK: Mapping[str, str] = {"bf16": "fp16", "int4": "int8", "int16": "fp16"}

#: Memory-bound kernel families and the tensors of their size each touches (read + write).
MEMORY_OPS: Mapping[str, float] = {"add": 3.0, "gelu": 2.0, "softmax": 2.0, "norm": 2.0}

PW_FAMILY = "gemm"
ATTN_BLOCK_M = 128
ATTN_BLOCK_N = 64

#: CTA tile candidates per dtype class: tensor-core MMA (Hopper warpgroup tiles >= 64
#: rows), CUDA-core fp32 (SIMT) and int8 as PyTorch's ``_int_mm`` runs it (one 128 x 128
#: tile shape, no split-K: its measured rate is flat in K and M, see validation-gpu.md).
_TILES: Mapping[str, tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]] = {
    "tensor": ((64, 128, 256), (64, 128, 256), (1, 2, 4, 8)),
    "simt": ((32, 64, 128), (32, 64, 128), (1, 2, 4)),
    "int8": ((128,), (128,), (1,)),
}
_TILE_MAX = 128 * 256
_MIN_K_CHUNK = 256.0


@dataclass(frozen=True)
class GpuParams:
    """Fitted constants of the kernel model: a flat name -> value map
    (``hardware/data/gpu_calibration.yaml``); ``source`` says where they come from."""

    values: Mapping[str, float]
    source: str = "unfitted defaults"
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> float:
        return float(self.values[name])

    def by_dtype(self, prefix: str, dtype: str) -> float:
        """``prefix.dtype``, or the value of the dtype it falls back to."""
        key = f"{prefix}.{dtype}"
        if key in self.values:
            return float(self.values[key])
        alt = f"{prefix}.{_FALLBACK.get(dtype, dtype)}"
        if alt in self.values:
            return float(self.values[alt])
        raise HardwareSpecError(f"gpu model: no calibrated '{prefix}' for dtype '{dtype}'")

    def with_values(self, values: Mapping[str, float]) -> GpuParams:
        return GpuParams({**self.values, **values}, self.source, self.extra)


@cache
def load_calibration() -> GpuParams:
    """The packaged calibration (``hardware/data/gpu_calibration.yaml``)."""
    text = (
        resources.files("codesign_playground.hardware")
        .joinpath("data", "gpu_calibration.yaml")
        .read_text(encoding="utf-8")
    )
    data = yaml.safe_load(text)
    vals = {str(k): float(v) for k, v in data["parameters"].items()}
    return GpuParams(vals, source=str(data["source"]), extra=data)


# -- hardware facts ---------------------------------------------------------------------


@dataclass(frozen=True)
class GpuFacts:
    """What the kernel and power models need of a GPU: SMs, per-dtype tensor/CUDA-core
    peaks (ops/s), DRAM bandwidth, L2 bytes and board power figures (``tdp_w`` None when
    the description gives no power), each with a source."""

    name: str
    sms: float
    peak_ops: Mapping[str, float]
    dram_bw: float
    l2_bytes: float
    tdp_w: float | None
    idle_w: float
    sources: Mapping[str, str]

    def peak_per_sm(self, dtype: str) -> float:
        if dtype not in self.peak_ops:
            raise HardwareSpecError(
                f"precision: {self.name} has no {dtype} rate; use one of "
                f"{', '.join(sorted(self.peak_ops))}"
            )
        return self.peak_ops[dtype] / self.sms


@cache
def _gpu_specs_file() -> dict[str, Any]:
    text = (
        resources.files("codesign_playground.hardware")
        .joinpath("data", "gpu_specs.yaml")
        .read_text(encoding="utf-8")
    )
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _gpu_specs() -> dict[str, Any]:
    gpus: dict[str, Any] = _gpu_specs_file()["gpus"]
    return gpus


def power_model() -> dict[str, Any]:
    """The board power shares of ``gpu_specs.yaml`` (``perf/gpu_power.py``)."""
    pm: dict[str, Any] = _gpu_specs_file()["power_model"]
    return pm


def gpu_facts(spec: HardwareSpec) -> GpuFacts:
    """The GPU facts of ``spec``: its own description (SMs = cores, peaks, DRAM, L2, TDP)
    plus ``hardware/data/gpu_specs.yaml`` for what a description has no field for (TF32
    peak, idle board power). A description not listed there takes TF32 = half the fp16
    tensor rate (Ampere and Hopper datasheets) and an idle power of 10% of its TDP."""
    extra = _gpu_specs().get(spec.name, {})
    peaks: dict[str, float] = {str(p): float(spec.peak_ops_per_s(p)) for p in spec.precisions}
    sources = {"peaks": "hardware description", "sms": "hardware description: compute.cores"}
    if "tf32" in extra:
        peaks["tf32"] = float(extra["tf32"]["value"])
        sources["tf32"] = str(extra["tf32"]["source"])
    elif "fp16" in peaks:
        peaks["tf32"] = peaks["fp16"] / 2.0
        sources["tf32"] = "assumed half the fp16 tensor rate (Ampere/Hopper datasheets)"
    bw = spec.dram.bandwidth(spec.compute.clock_hz)
    if bw is None:
        raise HardwareSpecError(
            f"hardware field 'memory.{spec.dram.name}.bandwidth_bytes_per_s': the gpu model "
            f"needs the DRAM bandwidth ({spec.name} has none)"
        )
    l2 = max((float(lv.total_capacity_bytes or 0) for lv in spec.memory[:-1]), default=0.0)
    tdp = float(spec.power_w) if spec.power_w else None
    if "idle_w" in extra:
        idle = float(extra["idle_w"]["value"])
        sources["idle_w"] = str(extra["idle_w"]["source"])
    else:
        idle = 0.1 * tdp if tdp else 0.0
        sources["idle_w"] = "assumed 10% of TDP (no figure for this GPU)"
    return GpuFacts(
        name=spec.name,
        sms=float(spec.compute.cores),
        peak_ops=peaks,
        dram_bw=float(bw * spec.dram.instances),
        l2_bytes=l2,
        tdp_w=tdp,
        idle_w=idle,
        sources=sources,
    )


# -- shared terms -----------------------------------------------------------------------


def _f(a: ArrayLike) -> FloatArray:
    return np.asarray(a, dtype=np.float64)


def _resident(footprint: FloatArray, gpu: GpuFacts, p: GpuParams) -> npt.NDArray[np.bool_]:
    """Whether a kernel's footprint stays in the L2 between kernels: only a fitted fraction
    of the L2 holds data for reuse (Hopper's L2 is two partitions; a 32 MiB GEMV operand on
    the 60 MiB H200 L2 still streams from HBM at full DRAM cost in the measurements)."""
    return np.asarray(footprint <= p["mem.l2_resident_frac"] * gpu.l2_bytes)


def memory_s(nbytes: ArrayLike, footprint: ArrayLike, gpu: GpuFacts, p: GpuParams) -> FloatArray:
    """Seconds to move ``nbytes`` at the achievable bandwidth of the level that holds a
    ``footprint``-byte working set: the L2 when it fits (``l2_bw_ratio`` x DRAM), else DRAM."""
    dram = p["mem.bw_eff"] * gpu.dram_bw
    bw = np.where(_resident(_f(footprint), gpu, p), dram * p["mem.l2_bw_ratio"], dram)
    return np.asarray(_f(nbytes) / bw, dtype=np.float64)


def _tile_class(dtype: str) -> str:
    if dtype == "fp32":
        return "simt"
    if dtype in ("int8", "int4"):
        return "int8"
    return "tensor"


def _aligned(k: FloatArray, dtype: str) -> npt.NDArray[np.bool_]:
    """Tensor-core GEMM kernels load 16-byte aligned rows of both operands, whose leading
    dimension is K (activations row-major, a weight stored output x input as nn.Linear
    keeps it); otherwise cuBLAS/cuDNN fall back to slower kernels. An unaligned N only
    touches the output store."""
    b = DTYPE_BYTES[dtype]
    return np.asarray((k * b) % 16 == 0)


def _gemm_compute(
    count: FloatArray,
    m: FloatArray,
    n: FloatArray,
    k: FloatArray,
    dtype: str,
    gpu: GpuFacts,
    p: GpuParams,
    family: str,
) -> FloatArray:
    """Waves x per-wave time of the fastest tile and split: ``waves x (wave_s + 2 tm tn
    k_chunk / rate)``, rate = ``eta x tile_eff x peak_per_SM``."""
    cls = _tile_class(dtype)
    tms, tns, splits = _TILES[cls]
    if family == "conv":  # cuDNN's forward implicit-GEMM kernels do not split K
        splits = (1,)
    rows = [(a, b, s) for a in tms for b in tns if a * b <= _TILE_MAX for s in splits]
    cand = np.asarray(rows, dtype=np.float64)
    tm, tn, sk = (c[np.newaxis, :] for c in cand.T)
    c_, m_, n_, k_ = (a[:, np.newaxis] for a in (count, m, n, k))
    k_chunk = np.where(sk > 1, np.maximum(np.ceil(k_ / sk), _MIN_K_CHUNK), k_)
    splits_used = np.ceil(k_ / k_chunk)
    ctas = c_ * np.ceil(m_ / tm) * np.ceil(n_ / tn) * splits_used
    waves = np.ceil(ctas / gpu.sms)
    tile_eff = np.minimum(1.0, tm * tn / (128.0 * 128.0)) ** p[f"{family}.tile_beta"]
    # clock throttling: the more SMs busy, the closer to the power limit, the lower the
    # clock (the rate at full occupancy is eta / (1 + throttle))
    occupancy = ctas / (waves * gpu.sms)
    throttle = 1.0 + p.by_dtype(f"{family}.throttle", dtype) * occupancy
    rate = p.by_dtype(f"{family}.eff", dtype) * tile_eff * gpu.peak_per_sm(dtype) / throttle
    t = waves * (p.by_dtype(f"{family}.wave_s", dtype) + 2.0 * tm * tn * k_chunk / rate)
    best = np.min(t, axis=1)
    if cls == "tensor" and "fp32" in gpu.peak_ops:
        # misaligned operands: CUDA-core kernels at a fitted fraction of the fp32 rate
        slow = count * 2.0 * m * n * k / (p[f"{family}.unaligned_eff"] * gpu.peak_ops["fp32"])
        best = np.where(_aligned(k, dtype), best, np.maximum(best, slow))
    return np.asarray(best, dtype=np.float64)


def gemm_bytes(
    m: ArrayLike, n: ArrayLike, k: ArrayLike, dtype: str, count: ArrayLike = 1
) -> FloatArray:
    """Compulsory bytes of a GEMM kernel: both operands read once, the product written
    (int8 products accumulate to int32)."""
    b = DTYPE_BYTES[dtype]
    b_out = 4.0 if dtype in ("int8", "int4") else b
    mm, nn, kk, cc = (_f(a) for a in (m, n, k, count))
    return np.asarray(cc * ((mm * kk + kk * nn) * b + mm * nn * b_out), dtype=np.float64)


def gemm_s(
    m: ArrayLike,
    n: ArrayLike,
    k: ArrayLike,
    dtype: str,
    gpu: GpuFacts,
    p: GpuParams,
    *,
    count: ArrayLike = 1,
    dram_bytes: ArrayLike | None = None,
    footprint: ArrayLike | None = None,
    family: str = "gemm",
) -> FloatArray:
    """Seconds of one GEMM kernel (``count`` products of (m x k)(k x n) in ``dtype``).

    ``dram_bytes``/``footprint`` default to the compulsory bytes of the kernel alone (the
    benchmark case: operands rerun warm when they fit in the L2)."""
    cc, mm, nn, kk = np.broadcast_arrays(*(_f(a) for a in (count, m, n, k)))
    shape = mm.shape
    cc, mm, nn, kk = (a.reshape(-1) for a in (cc, mm, nn, kk))
    compute = _gemm_compute(cc, mm, nn, kk, dtype, gpu, p, family)
    # a matrix-vector product (PyTorch dispatches it to GEMV): bandwidth only
    compute = np.where(np.minimum(mm, nn) <= 1, 0.0, compute)
    nb = gemm_bytes(mm, nn, kk, dtype, cc) if dram_bytes is None else _f(dram_bytes).reshape(-1)
    fp = nb if footprint is None else _f(footprint).reshape(-1)
    mem = memory_s(nb, np.broadcast_to(fp, nb.shape), gpu, p)
    t = p[f"{family}.t0_s"] + np.maximum(compute, mem)
    return np.asarray(np.where(cc * mm * nn * kk > 0, t, 0.0).reshape(shape), dtype=np.float64)


def is_depthwise_like(channels_per_group: ArrayLike, p: GpuParams) -> npt.NDArray[np.bool_]:
    """Convolutions with few input channels per group run as direct (CUDA-core) kernels,
    not as implicit GEMMs on the tensor cores (threshold fitted: ``dwconv.max_cpg``)."""
    return np.asarray(_f(channels_per_group) <= p["dwconv.max_cpg"])


def conv_s(
    n: ArrayLike,
    c: ArrayLike,
    k: ArrayLike,
    p_out: ArrayLike,
    q_out: ArrayLike,
    r: ArrayLike,
    s: ArrayLike,
    groups: ArrayLike,
    h_in: ArrayLike,
    w_in: ArrayLike,
    dtype: str,
    gpu: GpuFacts,
    p: GpuParams,
    *,
    stride_h: ArrayLike | None = None,
    stride_w: ArrayLike | None = None,
) -> FloatArray:
    """Seconds of one 2-D convolution kernel (NCHW, as PyTorch/cuDNN run it).

    Dense and large-group: implicit GEMM (M = N P Q, N = K/g, K = C/g R S, ``g`` products)
    on the conv family's constants, plus ``layout`` extra passes over input and output
    (cuDNN's NCHW <-> NHWC transforms). Depthwise and small groups: the compulsory bytes
    over the bandwidth plus the MACs at a CUDA-core rate; an fp16 depthwise convolution
    runs cuDNN's kernel only where PyTorch picks it (:func:`torch_cudnn_depthwise`), else
    PyTorch's own ``conv_depthwise2d`` at its fp32 constants (the same kernel code, fp32
    accumulation). Strides default to ``round(h_in / p_out)`` (exact for "same" padding)."""
    nn, cc, kk, pp, qq, rr, ss, gg, hh, ww = np.broadcast_arrays(
        *(_f(a) for a in (n, c, k, p_out, q_out, r, s, groups, h_in, w_in))
    )
    sh = np.maximum(np.round(hh / np.maximum(pp, 1.0)), 1.0) if stride_h is None else _f(stride_h)
    sw = np.maximum(np.round(ww / np.maximum(qq, 1.0)), 1.0) if stride_w is None else _f(stride_w)
    b = DTYPE_BYTES["fp32" if dtype == "tf32" else dtype]
    in_b = nn * cc * hh * ww * b
    out_b = nn * kk * pp * qq * b
    w_b = kk * (cc / gg) * rr * ss * b
    io = in_b + out_b + w_b
    m_ = nn * pp * qq
    cpg = cc / gg
    dense = gemm_s(
        m_, kk / gg, cpg * rr * ss, dtype, gpu, p, count=gg, dram_bytes=io, family="conv"
    )
    layout = p.by_dtype("conv.layout", dtype) * memory_s(
        in_b + out_b, in_b + out_b, gpu, p
    ) + p.by_dtype("conv.layout_s", dtype)
    dense = dense + layout
    # a 1x1 stride-1 convolution is one plain GEMM (N P Q x C by C x K): no im2col, priced
    # with the GEMM constants (cuDNN runs these at cuBLAS-like rates); its NCHW tensors
    # still go through the same layout passes as any tensor-core convolution
    pointwise = gemm_s(m_, kk, cc, dtype, gpu, p, dram_bytes=io, family=PW_FAMILY) + layout
    is_pw = (rr == 1) & (ss == 1) & (gg == 1) & (pp * qq == hh * ww)
    dense = np.where(is_pw, pointwise, dense)
    # direct (depthwise-like) kernels: one thread per output element looping over its
    # R S (C/g) taps on the CUDA cores (PyTorch's conv_depthwise2d for fp32, cuDNN's
    # depthwise kernels for fp16): 2 flops per tap plus a per-output cost (indexing, the
    # store) in flop equivalents, at a fraction of the GPU's fp32 CUDA-core peak (so the
    # rate follows another GPU's SMs and clock), or the compulsory bytes when longer
    outs = nn * kk * pp * qq
    taps = 2.0 * rr * ss * cpg
    peak = gpu.peak_per_sm("fp32") * gpu.sms
    work = outs * (p.by_dtype("dwconv.out_flops", dtype) + taps)
    dw_compute = work / (p.by_dtype("dwconv.eff", dtype) * peak)
    depthwise = (gg > 1) & (cc == gg) & (np.mod(kk, np.maximum(cc, 1.0)) == 0)
    if dtype in ("fp16", "bf16"):
        # PyTorch's native conv_depthwise2d where it does not pick cuDNN's kernel: the
        # fp32 kernel's constants (same code, fp32 accumulation) over 16-bit bytes
        native = outs * (p.by_dtype("dwconv.out_flops", "fp32") + taps)
        native = native / (p.by_dtype("dwconv.eff", "fp32") * peak)
        use_cudnn = torch_cudnn_depthwise(nn, cc, hh, ww, rr, ss, sh, sw) & (dtype == "fp16")
        dw_compute = np.where(depthwise & ~use_cudnn, native, dw_compute)
    dw = p["dwconv.t0_s"] + np.maximum(memory_s(io, io, gpu, p), dw_compute)
    direct = is_depthwise_like(cpg, p) & (gg > 1)
    return np.asarray(np.where(direct, dw, dense), dtype=np.float64)


def torch_cudnn_depthwise(
    n: ArrayLike,
    c: ArrayLike,
    h_in: ArrayLike,
    w_in: ArrayLike,
    r: ArrayLike,
    s: ArrayLike,
    stride_h: ArrayLike,
    stride_w: ArrayLike,
) -> npt.NDArray[np.bool_]:
    """Whether PyTorch runs an fp16 NCHW depthwise convolution on cuDNN (else its native
    ``conv_depthwise2d``): ``ConvParams::use_cudnn_depthwise`` and
    ``check_cudnn_depthwise_workload_with_filter`` in ATen's ``native/Convolution.cpp``
    (PyTorch 2.x, cuDNN >= 8.2): at least 32 channels, equal strides (or a 1-row input), then
    1-D stride 1, or a square 1/3/5 filter over an input at least 7 wide with stride 1, or
    stride 2 at batch 1 (3/5 filters; 1x1 up to 28 wide) or at larger batches with 3/5
    filters over 512+ channels (256+ at width 28+), or 1x1 filters at batch <= 16 over 128+
    channels up to width 7."""
    nn, cc, hh, ww, rr, ss, sh, sw = np.broadcast_arrays(
        *(_f(a) for a in (n, c, h_in, w_in, r, s, stride_h, stride_w))
    )
    base = (cc >= 32) & ((sh == sw) | (hh == 1))
    one_d = (hh == 1) & (sw == 1)
    f = ss
    f_ok = (rr == ss) & ((f == 1) | (f == 3) | (f == 5)) & (ww >= 7)
    f35 = (f == 3) | (f == 5)
    s2_b1 = (nn == 1) & (((f == 1) & (ww <= 28)) | f35)
    s2_bn = (nn > 1) & (
        ((f == 1) & (nn <= 16) & (cc >= 128) & (ww <= 7))
        | (f35 & ((cc >= 512) | ((cc >= 256) & (ww >= 28))))
    )
    two_d = f_ok & ((sw == 1) | ((sw == 2) & (s2_b1 | s2_bn)))
    return np.asarray(base & (one_d | two_d))


def _causal_blocks(lq: float, lk: float) -> tuple[float, float]:
    """Mean and largest number of key blocks per query block under a causal mask
    (bottom-right aligned: the queries are the last ``lq`` of ``lk`` positions)."""
    n_q = max(math.ceil(lq / ATTN_BLOCK_M), 1)
    ends = np.minimum(np.arange(1, n_q + 1) * ATTN_BLOCK_M + (lk - lq), lk)
    blocks = np.ceil(np.maximum(ends, 1.0) / ATTN_BLOCK_N)
    return float(blocks.mean()), float(blocks.max())


def attention_s(
    count: ArrayLike,
    seq_q: ArrayLike,
    seq_k: ArrayLike,
    d: ArrayLike,
    causal: ArrayLike,
    dtype: str,
    gpu: GpuFacts,
    p: GpuParams,
    *,
    kv_bytes: ArrayLike | None = None,
) -> FloatArray:
    """Seconds of one fused scaled-dot-product attention over ``count`` (batch x heads)
    problems. One query per problem (``seq_q == 1``) is a decode step: memory-bound over the
    KV cache (:func:`decode_attention_s`); otherwise a FlashAttention-style kernel: CTAs of
    128 query rows in waves over the SMs, each streaming 64-key blocks (QK^T and PV)."""
    cnt, lq, lk, dd, cz = np.broadcast_arrays(*(_f(a) for a in (count, seq_q, seq_k, d, causal)))
    shape = lq.shape
    cnt, lq, lk, dd, cz = (a.reshape(-1) for a in (cnt, lq, lk, dd, cz))
    b = DTYPE_BYTES[dtype]
    kvb = 2.0 * cnt * lk * dd * b if kv_bytes is None else _f(kv_bytes).reshape(-1)
    mean_blocks = np.ceil(lk / ATTN_BLOCK_N)
    max_blocks = mean_blocks.copy()
    for i in np.flatnonzero(cz > 0):
        mean_blocks[i], max_blocks[i] = _causal_blocks(lq[i], lk[i])
    # head dimension: wider heads reuse each loaded key block over more MACs
    if dtype in ("fp32", "tf32"):
        # no FlashAttention kernel for fp32: PyTorch's memory-efficient kernel on the CUDA
        # cores, assumed at the fp32 GEMM fraction (no fp32 attention in the data)
        rate = np.full_like(dd, p.by_dtype("gemm.eff", "fp32") * gpu.peak_per_sm("fp32"))
    else:
        rate = (
            p.by_dtype("attn.eff", dtype)
            * (dd / 128.0) ** p["attn.d_gamma"]
            * gpu.peak_per_sm(dtype)
        )
    block_s = 2.0 * ATTN_BLOCK_M * ATTN_BLOCK_N * (2.0 * dd) / rate
    ctas = cnt * np.ceil(lq / ATTN_BLOCK_M)
    waves = np.ceil(ctas / gpu.sms)
    compute = np.maximum(waves * mean_blocks, max_blocks) * block_s
    io = kvb + 2.0 * cnt * lq * dd * b
    prefill = p["attn.t0_s"] + np.maximum(compute, memory_s(io, io, gpu, p))
    decode = decode_attention_s(kvb, gpu, p, q_bytes=2.0 * cnt * dd * b)
    t = np.where(lq <= 1, decode, prefill)
    return np.asarray(np.where(cnt * lk > 0, t, 0.0).reshape(shape), dtype=np.float64)


def decode_attention_s(
    kv_bytes: ArrayLike, gpu: GpuFacts, p: GpuParams, *, q_bytes: ArrayLike = 0.0
) -> FloatArray:
    """Seconds of one decode-step attention: the KV cache read once (GQA: the KV heads
    only) plus the query and output, over the achievable bandwidth."""
    nb = _f(kv_bytes) + _f(q_bytes)
    return np.asarray(p["decode.t0_s"] + memory_s(nb, nb, gpu, p), dtype=np.float64)


def memory_op_s(
    n_elements: ArrayLike,
    op: str,
    dtype: str,
    gpu: GpuFacts,
    p: GpuParams,
    *,
    nbytes: ArrayLike | None = None,
    footprint: ArrayLike | None = None,
) -> FloatArray:
    """Seconds of one memory-bound kernel of family ``op`` (``MEMORY_OPS``) over
    ``n_elements``: its bytes (default: ``MEMORY_OPS[op]`` tensors of that size) at the
    level's achievable bandwidth, combined with a per-element cost."""
    n = _f(n_elements)
    nb = n * MEMORY_OPS[op] * DTYPE_BYTES[dtype] if nbytes is None else _f(nbytes)
    fp = nb if footprint is None else _f(footprint)
    mem = memory_s(nb, fp, gpu, p)
    elem = n * p[f"ew.elem_s.{op}"]
    q = p["ew.combine_p"]
    work = (mem**q + elem**q) ** (1.0 / q)
    return np.asarray(np.where(n > 0, p[f"ew.t0_s.{op}"] + work, 0.0), dtype=np.float64)
