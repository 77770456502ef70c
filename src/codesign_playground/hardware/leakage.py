"""Leakage (static) power of logic and SRAM, from sourced figures in ``data/leakage.yaml``.

    P_logic(A, L) = A_45nm-equivalent * rho_logic * energy_scale(L)
    P_sram(B)     = B * p_sram_per_byte                        (kept constant across nodes)

with ``rho_logic`` the leakage per unit area of Aladdin's 40 nm 32-bit adder and multiplier
and ``p_sram_per_byte`` CACTI 7's standby leakage of a 100 KB high-performance SRAM.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, cast

import numpy as np
import yaml

from codesign_playground.hardware import technology

__all__ = ["leakage_data", "leakage_power_w", "logic_leakage_w_per_mm2", "sram_leakage_w_per_byte"]


@cache
def leakage_data() -> dict[str, Any]:
    """The parsed ``data/leakage.yaml`` (read once)."""
    text = resources.files("codesign_playground.hardware").joinpath("data/leakage.yaml")
    return cast(dict[str, Any], yaml.safe_load(text.read_text(encoding="utf-8")))


def logic_leakage_w_per_mm2() -> float:
    """Leakage per mm^2 of logic at the reference node (Aladdin, 40 nm): about 12 mW/mm^2."""
    d = leakage_data()["logic"]
    mw = float(d["adder_leakage_mw"]) + float(d["multiplier_leakage_mw"])
    um2 = float(d["adder_area_um2"]) + float(d["multiplier_area_um2"])
    return mw * 1e-3 / (um2 * 1e-6)


def sram_leakage_w_per_byte() -> float:
    """Standby leakage per SRAM byte (CACTI 7, 40 nm HP cells, 300 K): about 0.39 uW/byte."""
    d = leakage_data()["sram"]
    return float(d["leakage_mw"]) * 1e-3 / float(d["capacity_bytes"])


def leakage_power_w(*, logic_area_mm2: Any, sram_bytes: Any, node_nm: Any) -> Any:
    """Static power of ``logic_area_mm2`` of logic (modeled at ``node_nm``) and ``sram_bytes``
    (floats, or NumPy arrays of many designs that broadcast together)."""
    area_ref = logic_area_mm2 / technology.area_scale(node_nm)
    logic = area_ref * logic_leakage_w_per_mm2() * technology.energy_scale(node_nm)
    total = logic + sram_bytes * sram_leakage_w_per_byte()
    return total if isinstance(total, np.ndarray) else float(total)
