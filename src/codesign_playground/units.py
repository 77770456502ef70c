"""Shared value types: precisions and their bit widths, dataflows, array aliases.

Every package that names a precision or a dataflow imports it from here, so the list of
choices is written once (``workload.ir`` and ``hardware.spec`` re-export these names).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt

__all__ = [
    "DATAFLOWS",
    "PRECISIONS",
    "PRECISION_BITS",
    "BoolArray",
    "Dataflow",
    "FloatArray",
    "IntArray",
    "Precision",
    "widest_precision",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

Precision = Literal["fp32", "fp16", "bf16", "int16", "int8", "int4"]
"""Arithmetic precision of an op or a datapath."""
PRECISIONS: tuple[Precision, ...] = get_args(Precision)

PRECISION_BITS: Mapping[Precision, int] = {
    "fp32": 32,
    "fp16": 16,
    "bf16": 16,
    "int16": 16,
    "int8": 8,
    "int4": 4,
}
"""Bits per element of each precision."""

Dataflow = Literal["ws", "os", "is", "rs", "simt", "vector"]
"""What stays in the PEs: weight/output/input stationary (systolic), row stationary
(spatial); simt: GPU; vector: vector/SIMD processors."""
DATAFLOWS: tuple[Dataflow, ...] = get_args(Dataflow)


def widest_precision(precisions: set[Precision] | tuple[Precision, ...]) -> Precision:
    """The widest of ``precisions`` (floating point beats integer at equal width): the
    datapath that computes all of them."""
    return max(precisions, key=lambda p: (PRECISION_BITS[p], p.startswith(("fp", "bf"))))
