"""The typed description of one systolic-array design: parameters only, validated once.

Everything else in :mod:`codesign_playground.rtl` (the Verilog emitters, the host-side data
layout, the simulator and synthesis backends) reads a :class:`SystolicDesign` and nothing else.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from codesign_playground.errors import HardwareSpecError

__all__ = [
    "DATAFLOWS",
    "DIM_WIDTH",
    "MAX_ARRAY_SIDE",
    "Dataflow",
    "SystolicDesign",
]

Dataflow = Literal["ws", "os"]
DATAFLOWS: tuple[Dataflow, Dataflow] = ("ws", "os")
"""``ws``: weight-stationary (B tile held in the PEs); ``os``: output-stationary (C tile)."""

DIM_WIDTH = 16
"""Bits of the runtime GEMM dimension registers M, N and K (so each is at most 65535)."""

MAX_ARRAY_SIDE = 64
"""Largest number of PE rows or columns the generator accepts."""

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def _check_int(name: str, value: object, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise HardwareSpecError(f"{name} must be an integer in {lo}..{hi}, got {value!r}")
    return value


@dataclass(frozen=True)
class SystolicDesign:
    """Parameters of a generated systolic-array GEMM accelerator.

    Attributes:
        rows: PE rows ``R`` (2..64). In ``ws`` they span K, in ``os`` they span M.
        cols: PE columns ``C`` (2..64); they span N in both dataflows.
        dataflow: ``"ws"`` (weight-stationary) or ``"os"`` (output-stationary).
        data_width: bits of the signed A and B operands (4..16; 8 = int8, 16 = int16).
        acc_width: bits of the signed accumulators and of C (``2*data_width``..64). Sums wrap
            modulo ``2**acc_width`` (two's complement), exactly like NumPy's fixed-width ints.
        buffer_depth: words in each of the three on-chip buffers (A, B, C); a power of two in
            16..65536. It bounds the GEMM sizes one run can hold (see :mod:`.host`).
        name: module name of the top level.
    """

    rows: int
    cols: int
    dataflow: Dataflow = "ws"
    data_width: int = 8
    acc_width: int = 32
    buffer_depth: int = 512
    name: str = "systolic_top"

    def __post_init__(self) -> None:
        _check_int("rows", self.rows, 2, MAX_ARRAY_SIDE)
        _check_int("cols", self.cols, 2, MAX_ARRAY_SIDE)
        if self.dataflow not in DATAFLOWS:
            raise HardwareSpecError(f"dataflow must be 'ws' or 'os', got {self.dataflow!r}")
        _check_int("data_width", self.data_width, 4, 16)
        _check_int("acc_width", self.acc_width, 2 * self.data_width, 64)
        depth = _check_int("buffer_depth", self.buffer_depth, 16, 65536)
        if depth & (depth - 1):
            raise HardwareSpecError(f"buffer_depth must be a power of two, got {depth}")
        if not isinstance(self.name, str) or not _NAME_RE.match(self.name):
            raise HardwareSpecError(
                f"name must be a Verilog identifier (letters, digits, _), got {self.name!r}"
            )

    # -- derived sizes -------------------------------------------------------------------------

    @property
    def addr_width(self) -> int:
        """Bits of a buffer word address."""
        return self.buffer_depth.bit_length() - 1

    @property
    def a_word_bits(self) -> int:
        """One A-buffer word: ``rows`` operands (one per PE row)."""
        return self.rows * self.data_width

    @property
    def b_word_bits(self) -> int:
        """One B-buffer word: ``cols`` operands (one per PE column)."""
        return self.cols * self.data_width

    @property
    def c_word_bits(self) -> int:
        """One C-buffer word: ``cols`` accumulators (one output row of a column tile)."""
        return self.cols * self.acc_width

    @property
    def host_wdata_bits(self) -> int:
        """Width of the host write-data port (the wider of an A and a B word)."""
        return max(self.a_word_bits, self.b_word_bits)

    @property
    def buffer_bits(self) -> dict[str, int]:
        """Storage bits of each on-chip buffer."""
        return {
            "a": self.buffer_depth * self.a_word_bits,
            "b": self.buffer_depth * self.b_word_bits,
            "c": self.buffer_depth * self.c_word_bits,
        }

    @property
    def label(self) -> str:
        """A short name such as ``8x8-ws-int8``."""
        return f"{self.rows}x{self.cols}-{self.dataflow}-int{self.data_width}"

    # -- serialisation -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The parameters as a JSON-ready mapping (what ``design.json`` stores)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SystolicDesign:
        """Rebuild a design from :meth:`to_dict` output; unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise HardwareSpecError(f"unknown design parameter(s): {', '.join(unknown)}")
        return cls(**data)

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON."""
        return json.dumps(self.to_dict(), indent=2) + "\n"
