"""Workloads: the network IR, its importers (ONNX, torch.export, SCALE-Sim CSV) and the zoo."""

from __future__ import annotations

from codesign_playground.workload.ir import (
    PRECISION_BITS,
    Gemm,
    Network,
    Op,
    OpKind,
    Precision,
    TensorSpec,
    UnmodeledOp,
    parse_precision,
)
from codesign_playground.workload.load import load_workload
from codesign_playground.workload.profile import profile

__all__ = [
    "PRECISION_BITS",
    "Gemm",
    "Network",
    "Op",
    "OpKind",
    "Precision",
    "TensorSpec",
    "UnmodeledOp",
    "load_workload",
    "parse_precision",
    "profile",
]
