"""The measured kernels of ``kernels-graph.json`` as arrays, predicted by the kernel model.

Used by ``scripts/calibrate_gpu.py`` (the fit and its error tables) and the tests. Each row
gets a family (gemm, conv, attention, memory), a kernel dtype (``fp32`` GEMMs timed with
TF32 on are ``tf32``; fp32 convolutions are ``tf32`` too, cuDNN's default), a stable label,
the measured CUDA-graph time ``graph_ms`` and the eager single-call time ``eager_ms``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from codesign_playground.perf.gpu_kernels import (
    MEMORY_OPS,
    GpuFacts,
    GpuParams,
    attention_s,
    conv_s,
    gemm_s,
    memory_op_s,
)

__all__ = ["FAMILIES", "KernelSet", "holdout_mask", "kernel_set", "predict"]

FloatArray = npt.NDArray[np.float64]
FAMILIES: tuple[str, ...] = ("gemm", "conv", "attention", "memory")
HOLDOUT_EVERY = 4

_EW_FAMILY: Mapping[str, str] = {
    "add": "add",
    "gelu": "gelu",
    "softmax_rows4096": "softmax",
    "layernorm4096": "norm",
}


@dataclass(frozen=True)
class KernelSet:
    """Rows of the kernel file: family, dtype, label, measured seconds (graph and eager)
    and the raw records (for the predictor)."""

    family: tuple[str, ...]
    dtype: tuple[str, ...]
    label: tuple[str, ...]
    graph_s: FloatArray
    eager_s: FloatArray
    rows: tuple[Mapping[str, Any], ...]


def _gemm_dtype(d: str) -> str:
    return "tf32" if d == "fp32_tf32" else d


def kernel_set(data: Mapping[str, Any], *, cudnn_tf32: bool = True) -> KernelSet:
    """The rows of ``data`` (layout of ``kernels-graph.json``), in file order."""
    fam: list[str] = []
    dt: list[str] = []
    lab: list[str] = []
    rows: list[Mapping[str, Any]] = []
    for r in data.get("gemm", ()):
        fam.append("gemm")
        dt.append(_gemm_dtype(str(r["dtype"])))
        lab.append(f"{r['M']}x{r['N']}x{r['K']}")
        rows.append(r)
    for r in data.get("conv", ()):
        fam.append("conv")
        d = str(r["dtype"])
        dt.append("tf32" if d == "fp32" and cudnn_tf32 else d)
        lab.append(
            f"N{r['N']} C{r['C']} K{r['K']} {r['H']}x{r['W']} {r['R']}x{r['S']}"
            f" s{r['stride']} g{r['groups']}"
        )
        rows.append(r)
    for r in data.get("attention", ()):
        fam.append("attention")
        dt.append(str(r["dtype"]))
        if int(r["seq"]) == 1:
            lab.append(f"decode B{r['B']} h{r['heads']} kv{r['kv_len']} d{r['d']}")
        else:
            lab.append(
                f"B{r['B']} h{r['heads']} s{r['seq']} d{r['d']}{' causal' if r['causal'] else ''}"
            )
        rows.append(r)
    for r in data.get("elementwise", ()):
        fam.append("memory")
        dt.append(str(r["dtype"]))
        lab.append(f"{r['op']} n={r['n']}")
        rows.append(r)
    return KernelSet(
        family=tuple(fam),
        dtype=tuple(dt),
        label=tuple(lab),
        graph_s=np.asarray([float(r["graph_ms"]) * 1e-3 for r in rows]),
        eager_s=np.asarray([float(r["eager_ms"]) * 1e-3 for r in rows]),
        rows=tuple(rows),
    )


def holdout_mask(ks: KernelSet) -> npt.NDArray[np.bool_]:
    """The fixed held-out quarter: within each (family, dtype), rows sorted by their label
    (a stable key of the shape), every 4th from the 4th on."""
    out = np.zeros(len(ks.family), dtype=bool)
    groups: dict[tuple[str, str], list[int]] = {}
    for i, key in enumerate(zip(ks.family, ks.dtype, strict=True)):
        groups.setdefault(key, []).append(i)
    for idx in groups.values():
        for j, i in enumerate(sorted(idx, key=lambda i: ks.label[i])):
            out[i] = j % HOLDOUT_EVERY == HOLDOUT_EVERY - 1
    return out


def _predict_one(fam: str, dtype: str, r: Mapping[str, Any], gpu: GpuFacts, p: GpuParams) -> float:
    if fam == "gemm":
        return float(gemm_s(r["M"], r["N"], r["K"], dtype, gpu, p))
    if fam == "conv":
        stride = int(r["stride"])
        pad = int(r.get("pad", int(r["R"]) // 2))
        ho = (int(r["H"]) + 2 * pad - int(r["R"])) // stride + 1
        wo = (int(r["W"]) + 2 * pad - int(r["S"])) // stride + 1
        return float(
            conv_s(
                r["N"],
                r["C"],
                r["K"],
                ho,
                wo,
                r["R"],
                r["S"],
                r["groups"],
                r["H"],
                r["W"],
                dtype,
                gpu,
                p,
                stride_h=stride,
                stride_w=stride,
            )
        )
    if fam == "attention":
        b, h, d = int(r["B"]), int(r["heads"]), int(r["d"])
        if int(r["seq"]) == 1:  # decode, K/V expanded to all heads (the file's note)
            lk = int(r["kv_len"])
            return float(attention_s(b * h, 1, lk, d, False, dtype, gpu, p))
        s = int(r["seq"])
        return float(attention_s(b * h, s, s, d, bool(r["causal"]), dtype, gpu, p))
    op = _EW_FAMILY[str(r["op"])]
    assert op in MEMORY_OPS
    return float(memory_op_s(r["n"], op, dtype, gpu, p))


def predict(
    ks: KernelSet, gpu: GpuFacts, p: GpuParams, idx: Sequence[int] | None = None
) -> FloatArray:
    """Model seconds of the rows ``idx`` (all by default)."""
    sel = range(len(ks.family)) if idx is None else idx
    return np.asarray(
        [_predict_one(ks.family[i], ks.dtype[i], ks.rows[i], gpu, p) for i in sel],
        dtype=np.float64,
    )
