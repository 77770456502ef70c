"""Import SCALE-Sim topology CSV files, in the convolution form and the GEMM ``M, N, K`` form.

This is the one SCALE-Sim topology parser of the project: the workload importer uses it with its
lenient defaults, and :mod:`codesign_playground.perf.scalesim_compat` with SCALE-Sim's own rules
(``trailing_comma="require"`` or ``"drop"``, ``expand_depthwise=True``).

Convolution rows are ``Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width,
Channels, Num Filter, Strides[, N:M sparsity]``; SCALE-Sim takes the IFMAP as already padded, so
layers are built with zero padding, and sizes its outputs ``ceil((H - R + s) / s)``
(``topology_utils.calc_spatio_temporal_params``: a last window may hang over the IFMAP's edge,
e.g. 113 x 113 outputs for ResNet-18's 230 x 230 stride-2 7 x 7 ``Conv1``), so the layers are
built the same way. In the lenient mode an integer ninth field is read as a
separate column stride (an extension; SCALE-Sim uses one stride for both axes). GEMM rows are
``Layer, M, N, K[, N:M]`` and, as in SCALE-Sim 3.0 (``topology_utils.load_arrays_gemm``), stand
for a 1x1-output-column convolution with IFMAP ``M x K``, filter ``1 x K``, one channel and ``N``
filters.

SCALE-Sim itself drops the last field of every row (``row.split(',')[:-1]``; it expects a
trailing comma). ``trailing_comma`` picks the behaviour: ``"lenient"`` (default) takes every
non-empty field, so a row without the trailing comma keeps its stride; ``"require"`` raises
:class:`~codesign_playground.errors.ModelFormatError` for such a row; ``"drop"`` drops its last
field exactly as SCALE-Sim does. With ``expand_depthwise`` a conv layer whose name contains
``DP`` becomes one single-channel layer per channel, named ``<name>Channel_<i>``, as SCALE-Sim's
``topology_utils.load_arrays_conv`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from codesign_playground.errors import ModelFormatError, ModelNotFoundError
from codesign_playground.workload import ops
from codesign_playground.workload.ir import Network, Op, Precision, TensorSpec

__all__ = ["TopologyRow", "TrailingComma", "network_from_scalesim_csv", "read_topology"]

TrailingComma = Literal["lenient", "require", "drop"]

_CONV_COLUMNS = (
    "IFMAP Height",
    "IFMAP Width",
    "Filter Height",
    "Filter Width",
    "Channels",
    "Num Filter",
    "Strides",
)
_GEMM_COLUMNS = ("M", "N", "K")


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
    sparsity_n: int = 1
    sparsity_m: int = 1
    row: int = 0
    """1-based line number in the source CSV (0 when built by hand)."""
    gemm: bool = False

    @property
    def ofmap_h(self) -> int:
        """SCALE-Sim's ``ceil((H - R + s) / s)``: the last window may hang over the edge."""
        return -(-(self.ifmap_h - self.filter_h + self.stride_h) // self.stride_h)

    @property
    def ofmap_w(self) -> int:
        """SCALE-Sim's ``ceil((W - S + s) / s)``."""
        return -(-(self.ifmap_w - self.filter_w + self.stride_w) // self.stride_w)

    @property
    def mnk(self) -> tuple[int, int, int]:
        """SCALE-Sim's GEMM view: (ofmap pixels, filters, window size)."""
        return (
            self.ofmap_h * self.ofmap_w,
            self.num_filters,
            self.filter_h * self.filter_w * self.channels,
        )


def _int(text: str, where: str, column: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        msg = f"{where}, column {column!r}: must be an integer (got {text.strip()!r})"
        raise ModelFormatError(msg) from None
    if value <= 0:
        raise ModelFormatError(f"{where}, column {column!r}: must be > 0 (got {value})")
    return value


def _sparsity(text: str, where: str) -> tuple[int, int]:
    parts = text.strip().split(":")
    if len(parts) != 2:
        raise ModelFormatError(f"{where}, column 'Sparsity': expected N:M (got {text.strip()!r})")
    return _int(parts[0], where, "Sparsity"), _int(parts[1], where, "Sparsity")


def _header_form(header: list[str], where: str) -> bool:
    """True for the GEMM form, False for the conv form; raise if neither."""
    names = [h.strip().lower() for h in header if h.strip()]
    if names[1:4] == ["m", "n", "k"]:
        return True
    if len(names) >= 8 and "ifmap" in names[1]:
        return False
    raise ModelFormatError(
        f"{where}: header is neither SCALE-Sim's conv form "
        f"(Layer name, {', '.join(_CONV_COLUMNS)}) nor its GEMM form (Layer, M, N, K)"
    )


def read_topology(
    path: str | Path,
    *,
    gemm: bool | None = None,
    trailing_comma: TrailingComma = "lenient",
    expand_depthwise: bool = False,
) -> list[TopologyRow]:
    """Parse a SCALE-Sim topology CSV, with one-line errors naming the row and column.

    ``gemm``: None detects the form from the header (conv or ``Layer, M, N, K``); True / False
    force it and skip the header check (SCALE-Sim ignores the header). ``trailing_comma`` and
    ``expand_depthwise``: see the module docstring. Blank lines are skipped.
    """
    p = Path(path)
    if not p.is_file():
        raise ModelNotFoundError(f"model: file not found: {p}")
    try:
        text = p.read_text()
    except UnicodeDecodeError:
        raise ModelFormatError(f"model: {p} is not a text CSV file") from None
    except OSError as exc:
        raise ModelFormatError(f"model: cannot read {p} ({exc.strerror})") from None
    lines = [(i, ln.strip()) for i, ln in enumerate(text.splitlines(), start=1) if ln.strip()]
    if not lines:
        raise ModelFormatError(f"model: {p} is empty; expected a SCALE-Sim topology CSV")
    gemm_form = _header_form(lines[0][1].split(","), f"model: {p}") if gemm is None else gemm
    scalesim_rules = trailing_comma != "lenient"
    columns = _GEMM_COLUMNS if gemm_form else _CONV_COLUMNS
    out: list[TopologyRow] = []
    for lineno, line in lines[1:]:
        where = f"{p}: row {lineno}"
        fields = line.split(",")
        if line.endswith(","):
            fields = fields[:-1]
        elif trailing_comma == "require":
            raise ModelFormatError(
                f"{where}: no trailing comma; SCALE-Sim would drop its last field "
                f"({fields[-1].strip()!r})"
            )
        elif trailing_comma == "drop":
            fields = fields[:-1]
        if not scalesim_rules:
            fields = [f for f in fields if f.strip()]
        if len(fields) < 1 + len(columns):
            missing = columns[len(fields) - 1] if fields else "Layer name"
            raise ModelFormatError(
                f"{where}, column {missing!r}: missing; expected {1 + len(columns)} fields "
                f"(Layer name, {', '.join(columns)})"
            )
        name = fields[0].strip()
        if not name:
            raise ModelFormatError(f"{where}, column 'Layer name': empty")
        vals = [_int(fields[i + 1], where, col) for i, col in enumerate(columns)]
        extra = [f for f in fields[1 + len(columns) :] if f.strip()]
        sp_n, sp_m = 1, 1
        stride_w: int | None = None
        if extra and (scalesim_rules or gemm_form or ":" in extra[0]):
            sp_n, sp_m = _sparsity(extra[0], where)
        elif extra:
            stride_w = _int(extra[0], where, "Stride W")
            if len(extra) > 1:
                sp_n, sp_m = _sparsity(extra[1], where)
        if gemm_form:
            m, n, k = vals
            out.append(TopologyRow(name, m, k, 1, k, 1, n, 1, 1, sp_n, sp_m, lineno, gemm=True))
            continue
        ih, iw, fh, fw, ch, nf, sh = vals
        if fh > ih:
            raise ModelFormatError(
                f"{where}, column 'Filter Height': {fh} is larger than IFMAP Height {ih}"
            )
        if fw > iw:
            raise ModelFormatError(
                f"{where}, column 'Filter Width': {fw} is larger than IFMAP Width {iw}"
            )
        sw = sh if stride_w is None else stride_w
        if expand_depthwise and "DP" in name:
            out.extend(
                TopologyRow(f"{name}Channel_{c}", ih, iw, fh, fw, 1, nf, sh, sw, sp_n, sp_m, lineno)
                for c in range(ch)
            )
        else:
            out.append(TopologyRow(name, ih, iw, fh, fw, ch, nf, sh, sw, sp_n, sp_m, lineno))
    if not out:
        raise ModelFormatError(f"model: {p} has a header but no layer rows")
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
        ceil_mode=True,
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
