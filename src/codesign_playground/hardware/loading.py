"""Load and save hardware descriptions (YAML or JSON files, SCALE-Sim ``.cfg`` files, or
catalog names): the one place that resolves a hardware reference for every front end."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from codesign_playground.errors import HardwareSpecError
from codesign_playground.hardware.catalog import get_chip
from codesign_playground.hardware.spec import HardwareSpec, dump_hardware, parse_hardware

__all__ = ["load_hardware", "save_hardware"]

_SUFFIXES: dict[str, Literal["yaml", "json"]] = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}


def _format(path: Path) -> Literal["yaml", "json"]:
    fmt = _SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise HardwareSpecError(
            f"hardware file '{path}': unknown extension '{path.suffix}'; use .yaml, .yml or .json"
        )
    return fmt


def _looks_like_path(text: str) -> bool:
    return (
        Path(text).suffix.lower() in (*_SUFFIXES, ".cfg")
        or "/" in text
        or os.sep in text
        or text.startswith(".")
    )


def load_hardware(path_or_name: str | os.PathLike[str]) -> HardwareSpec:
    """A spec from a YAML/JSON file, a SCALE-Sim ``.cfg`` file, or from the catalog when
    given a chip name.

    A string that names an existing file, ends in .yaml/.yml/.json/.cfg or contains a path
    separator is read as a file; anything else is looked up with ``get_chip``.
    """
    if (
        isinstance(path_or_name, str)
        and not _looks_like_path(path_or_name)
        and not Path(path_or_name).is_file()
    ):
        return get_chip(path_or_name)
    path = Path(path_or_name)
    if not path.is_file():
        raise HardwareSpecError(
            f"hardware file '{path}' not found; give an existing .yaml/.json/.cfg file or a "
            "catalog name such as 'a100'"
        )
    if path.suffix.lower() == ".cfg":
        from codesign_playground.hardware.importers.scalesim_cfg import spec_from_scalesim_file

        return spec_from_scalesim_file(path)
    fmt = _format(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise HardwareSpecError(f"hardware file '{path}' cannot be read: {err}") from None
    return parse_hardware(text, fmt, origin=str(path))


def save_hardware(spec: HardwareSpec, path: str | os.PathLike[str]) -> Path:
    """Write ``spec`` as YAML or JSON (chosen by the extension); returns the path."""
    out = Path(path)
    out.write_text(dump_hardware(spec, _format(out)), encoding="utf-8")
    return out
