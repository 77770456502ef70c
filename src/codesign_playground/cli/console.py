"""Output helpers shared by the commands: one console for results, one for errors."""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = ["err_console", "human", "out_console", "print_json", "wide_console"]

_NUMBER = re.compile(r"^[-+]?[\d,_.]+(?:e[-+]?\d+)?%?(?: ?[kMGTmunp]?[A-Za-z/^0-9]*)?$")
_TEXT_MIN = 8  # narrowest a wrapping text column is squeezed to


def _cell_text(cell: Any) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def _protect_numbers(table: Table) -> int:
    """Fix each numeric column at its longest value so no number is cut; return the width needed.

    Fixed-width columns are never collapsed by Rich (their headers wrap instead); text columns
    stay flexible and wrap.
    """
    needed = 1
    for column in table.columns:
        cells = [_cell_text(c) for c in column.cells]
        column.overflow = "fold"  # wrap long words (headers, names) rather than cut them
        numeric = bool(cells) and all(_NUMBER.match(c.strip()) or not c.strip() for c in cells)
        if numeric and column.width is None:
            words = str(column.header).split() or [""]
            column.width = max(max(len(c) for c in cells), max(len(w) for w in words))
        if column.width is not None:
            needed += column.width + 3
        else:
            needed += min(_TEXT_MIN, max((len(c) for c in cells), default=1)) + 3
    return needed


class _Console(Console):
    """A console whose tables never cut a number, at any width or when piped.

    Numeric columns keep their full width and text columns wrap; when even that does not fit,
    the table is printed as wide as it needs (the terminal wraps the lines) rather than cut.
    """

    def print(self, *objects: Any, **kwargs: Any) -> None:
        widths = [_protect_numbers(o) for o in objects if isinstance(o, Table)]
        if not widths or max(widths) <= self.width:
            super().print(*objects, **kwargs)
            return
        saved = self._width  # print() clamps its width argument to the console's: widen both
        self.width = max(widths)
        try:
            super().print(*objects, **kwargs)
        finally:
            self._width = saved


out_console = _Console(highlight=False, soft_wrap=False)
#: for wide tables (the hardware catalog): 160 columns whatever the terminal reports
wide_console = _Console(highlight=False, soft_wrap=False, width=160)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(obj: Any) -> None:
    """Machine-readable output: plain JSON on stdout, no styling."""
    sys.stdout.write(json.dumps(obj, indent=2, sort_keys=False) + "\n")


def human(value: float, unit: str = "") -> str:
    """A number with an SI prefix: 1814073344 -> '1.81 G'."""
    v = float(value)
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= factor:
            return f"{v / factor:.3g} {prefix}{unit}"
    if v == int(v):
        return f"{int(v)} {unit}".rstrip()
    return f"{v:.3g} {unit}".rstrip()
