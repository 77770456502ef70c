"""Output helpers shared by the commands: one console for results, one for errors."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

__all__ = ["err_console", "human", "out_console", "print_json", "wide_console"]

out_console = Console(highlight=False, soft_wrap=False)
#: for wide tables (the hardware catalog): 160 columns whatever the terminal reports
wide_console = Console(highlight=False, soft_wrap=False, width=160)
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
