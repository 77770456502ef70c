"""Catalog of real chips: one sourced YAML file per chip under ``hardware/catalog/``.

``list_catalog()`` gives the chip ids; ``get_chip(name)`` accepts an id, an alias (``h100``,
``tpuv4``, ``coral``, ...) or the display name, case-insensitively.  Unknown names raise
:class:`~codesign_playground.errors.HardwareSpecError` naming close matches.
"""

from __future__ import annotations

import difflib
import re
from functools import cache
from importlib import resources

from codesign_playground.errors import HardwareSpecError
from codesign_playground.hardware.spec import HardwareSpec, parse_hardware

__all__ = ["ALIASES", "catalog_specs", "get_chip", "list_catalog"]

ALIASES: dict[str, str] = {
    "a100": "a100-sxm4-80gb",
    "a100-80gb": "a100-sxm4-80gb",
    "a100-sxm4": "a100-sxm4-80gb",
    "h100": "h100-sxm5",
    "h100-sxm": "h100-sxm5",
    "h200": "h200-sxm",
    "tpu1": "tpu-v1",
    "tpuv1": "tpu-v1",
    "tpu": "tpu-v1",
    "tpu4": "tpu-v4",
    "tpuv4": "tpu-v4",
    "coral": "edge-tpu",
    "coral-edge-tpu": "edge-tpu",
    "edgetpu": "edge-tpu",
    "orin": "jetson-agx-orin-64gb",
    "agx-orin": "jetson-agx-orin-64gb",
    "jetson-orin": "jetson-agx-orin-64gb",
    "jetson-agx-orin": "jetson-agx-orin-64gb",
    "stm32h7": "stm32h743",
    "cortex-m7": "stm32h743",
    "m7": "stm32h743",
    "eyeriss": "eyeriss-v1",
    "gemmini": "gemmini-default",
}
"""Alias -> catalog id."""


def _catalog_dir() -> resources.abc.Traversable:
    return resources.files("codesign_playground.hardware").joinpath("catalog")


def list_catalog() -> list[str]:
    """Ids of the chips in the catalog, sorted."""
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in _catalog_dir().iterdir()
        if entry.name.endswith(".yaml")
    )


def _normalise(name: str) -> str:
    return re.sub(r"[\s_]+", "-", name.strip().lower())


@cache
def _load(chip_id: str) -> HardwareSpec:
    entry = _catalog_dir().joinpath(f"{chip_id}.yaml")
    return parse_hardware(
        entry.read_text(encoding="utf-8"), "yaml", origin=f"catalog/{chip_id}.yaml"
    )


def _index() -> dict[str, str]:
    ids = list_catalog()
    index = {i: i for i in ids}
    index.update({alias: target for alias, target in ALIASES.items() if target in index})
    return index


def get_chip(name: str) -> HardwareSpec:
    """The catalog spec for ``name`` (id, alias or display name; case-insensitive)."""
    key = _normalise(name)
    index = _index()
    if key in index:
        return _load(index[key])
    for chip_id in list_catalog():
        if _normalise(_load(chip_id).name) == key:
            return _load(chip_id)
    close = difflib.get_close_matches(key, list(index), n=3, cutoff=0.5)
    hint = (
        "did you mean " + ", ".join(f"'{c}'" for c in close) + "?"
        if close
        else "known chips: " + ", ".join(list_catalog())
    )
    raise HardwareSpecError(f"unknown chip '{name}'; {hint}")


def catalog_specs() -> dict[str, HardwareSpec]:
    """Every catalog entry, id -> spec."""
    return {chip_id: _load(chip_id) for chip_id in list_catalog()}
