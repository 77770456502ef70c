"""Import SCALE-Sim topology CSV files, in the convolution form and the GEMM ``M, N, K`` form.

Convolution rows are ``Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width,
Channels, Num Filter, Strides[, Stride W]``; SCALE-Sim takes the IFMAP as already padded, so
layers are built with zero padding. GEMM rows are ``Layer, M, N, K`` and, as in SCALE-Sim
3.0 (``topology_utils.load_arrays_gemm``), stand for a 1x1-output-column convolution with
IFMAP ``M x K``, filter ``1 x K``, one channel and ``N`` filters.

SCALE-Sim itself drops the last field of every row (it expects a trailing comma); this reader
takes every non-empty field, so a row without the trailing comma keeps its stride.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from codesign_playground.errors import ModelFormatError, ModelNotFoundError
from codesign_playground.workload import ops
from codesign_playground.workload.ir import Network, Op, Precision, TensorSpec

__all__ = ["TopologyRow", "network_from_scalesim_csv", "read_topology"]

_CONV_COLUMNS = (
    "IFMAP Height",
    "IFMAP Width",
    "Filter Height",
    "Filter Width",
    "Channels",
    "Num Filter",
    "Strides",
)


@dataclass(frozen=True, slots=True)
class TopologyRow:
    """One SCALE-Sim layer in its convolution form (GEMM rows converted as SCALE-Sim does)."""

    name: str
    ifmap_h: int
    ifmap_w: int
    filter_h: int
    filter_w: int
    channels: int
    num_filters: int
    stride_h: int = 1
    stride_w: int = 1
    gemm: bool = False

    @property
    def ofmap_h(self) -> int:
        return (self.ifmap_h - self.filter_h) // self.stride_h + 1

    @property
    def ofmap_w(self) -> int:
        return (self.ifmap_w - self.filter_w) // self.stride_w + 1

    @property
    def mnk(self) -> tuple[int, int, int]:
        """SCALE-Sim's GEMM view: (ofmap pixels, filters, window size)."""
        return (
            self.ofmap_h * self.ofmap_w,
            self.num_filters,
            self.filter_h * self.filter_w * self.channels,
        )


def _ints(fields: list[str], where: str, names: tuple[str, ...]) -> list[int]:
    out = []
    for value, col in zip(fields, names, strict=False):
        try:
            v = int(value.strip())
        except ValueError:
            msg = f"{where}: column {col!r} must be an integer (got {value!r})"
            raise ModelFormatError(msg) from None
        if v <= 0:
            raise ModelFormatError(f"{where}: column {col!r} must be > 0 (got {v})")
        out.append(v)
    return out


def read_topology(path: str | Path) -> list[TopologyRow]:
    """Parse a SCALE-Sim topology CSV, with one-line errors naming the row and column."""
    p = Path(path)
    if not p.is_file():
        raise ModelNotFoundError(f"model: file not found: {p}")
    try:
        text = p.read_text()
    except UnicodeDecodeError as exc:
        raise ModelFormatError(f"model: {p.name} is not a text CSV file") from exc
    rows = [
        [f.strip() for f in r] for r in csv.reader(io.StringIO(text)) if any(f.strip() for f in r)
    ]
    if not rows:
        raise ModelFormatError(f"model: {p.name} is empty; expected a SCALE-Sim topology CSV")
    header = [h.lower() for h in rows[0] if h]
    gemm_form = header[1:4] == ["m", "n", "k"]
    if not gemm_form and (len(header) < 8 or "ifmap" not in header[1]):
        raise ModelFormatError(
            f"model: {p.name} header is neither SCALE-Sim's conv form "
            f"(Layer name, {', '.join(_CONV_COLUMNS)}) nor its GEMM form (Layer, M, N, K)"
        )
    out = []
    for i, raw in enumerate(rows[1:], start=2):
        fields = [f for f in raw if f != ""]
        where = f"{p.name} row {i}"
        if gemm_form:
            if len(fields) < 4:
                raise ModelFormatError(
                    f"{where}: expected Layer, M, N, K (got {len(fields)} fields)"
                )
            m, n, k = _ints(fields[1:4], where, ("M", "N", "K"))
            out.append(TopologyRow(fields[0], m, k, 1, k, 1, n, 1, 1, gemm=True))
            continue
        if len(fields) < 8:
            raise ModelFormatError(
                f"{where}: expected 8 fields (Layer name, {', '.join(_CONV_COLUMNS)}), "
                f"got {len(fields)}"
            )
        vals = _ints(fields[1:9], where, (*_CONV_COLUMNS, "Stride W"))
        ih, iw, fh, fw, c, nf, sh = vals[:7]
        sw = vals[7] if len(vals) > 7 else sh
        if fh > ih or fw > iw:
            raise ModelFormatError(f"{where}: filter {fh}x{fw} is larger than IFMAP {ih}x{iw}")
        out.append(TopologyRow(fields[0], ih, iw, fh, fw, c, nf, sh, sw))
    if not out:
        raise ModelFormatError(f"model: {p.name} has a header but no layer rows")
    return out


def _row_op(row: TopologyRow, precision: Precision, batch: int) -> Op:
    if row.gemm:
        x = TensorSpec(f"{row.name}.in", (batch * row.ifmap_h, row.ifmap_w))
        return ops.gemm(row.name, x, row.num_filters, bias=False, precision=precision)
    x = TensorSpec(f"{row.name}.in", (batch, row.channels, row.ifmap_h, row.ifmap_w))
    return ops.conv(
        row.name,
        x,
        (row.num_filters, row.channels, row.filter_h, row.filter_w),
        strides=(row.stride_h, row.stride_w),
        precision=precision,
    )


def network_from_scalesim_csv(
    path: str | Path, *, precision: Precision = "int8", batch: int = 1
) -> Network:
    """A network of independent layers, one per topology row (SCALE-Sim models no edges).

    ``batch`` > 1 multiplies the GEMM rows (M) and the convolution batch; SCALE-Sim's own
    files are batch 1. Precision defaults to int8, SCALE-Sim's one-byte words.
    """
    ops_ = tuple(_row_op(row, precision, batch) for row in read_topology(path))
    return Network(
        name=Path(path).stem,
        ops=ops_,
        inputs=tuple(o.inputs[0] for o in ops_),
        outputs=tuple(o.outputs[0] for o in ops_),
        source=f"scalesim-topology:{Path(path).name}",
    )
