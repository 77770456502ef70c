"""Descriptions written for other tools (ZigZag 3.x, Timeloop/Accelergy v0.4), by content."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from codesign_playground.errors import HardwareSpecError
from codesign_playground.hardware.mapping_constraints import MappingConstraints
from codesign_playground.hardware.spec import HardwareSpec
from codesign_playground.hardware.timeloop import is_timeloop_architecture, read_timeloop
from codesign_playground.hardware.zigzag import is_zigzag_accelerator, read_zigzag

__all__ = ["ForeignHardware", "foreign_format", "read_foreign_hardware"]


@dataclass(frozen=True)
class ForeignHardware:
    """A spec read from another tool's files, the constraints they carry, and what the
    model cannot honour (also issued as Python warnings)."""

    spec: HardwareSpec
    constraints: MappingConstraints | None
    warnings: tuple[str, ...]
    format: Literal["zigzag", "timeloop"]


def foreign_format(path: str | Path) -> Literal["zigzag", "timeloop"] | None:
    """``zigzag`` or ``timeloop`` when ``path`` is a YAML file in that format, else None."""
    p = Path(path)
    if p.suffix.lower() not in (".yaml", ".yml") or not p.is_file():
        return None
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if "!Container" in text or "!Component" in text or "architecture:" in text:
        from codesign_playground.hardware.timeloop import _Loader

        try:
            # _Loader subclasses yaml.SafeLoader: no arbitrary objects
            data = yaml.load(text, Loader=_Loader)  # nosec B506
        except yaml.YAMLError:
            return None
        return "timeloop" if is_timeloop_architecture(data) else None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    return "zigzag" if is_zigzag_accelerator(data) else None


def read_foreign_hardware(
    path: str | Path, *, mapping: str | Path | None = None, ert: str | Path | None = None
) -> ForeignHardware | None:
    """Read a ZigZag accelerator (with its ``mapping`` file) or a Timeloop architecture
    (with an Accelergy ``ert`` and a constraints file as ``mapping``); None when ``path`` is
    neither."""
    fmt = foreign_format(path)
    if fmt is None:
        return None
    if fmt == "zigzag":
        if ert is not None:
            raise HardwareSpecError("ert: an Accelergy ERT applies to Timeloop architectures")
        z = read_zigzag(path, mapping)
        return ForeignHardware(z.spec, z.constraints, z.warnings, "zigzag")
    t = read_timeloop(path, ert=ert, constraints=mapping)
    return ForeignHardware(t.spec, t.constraints, t.warnings, "timeloop")
