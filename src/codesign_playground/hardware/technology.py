"""Energy and area of arithmetic and memory, from Horowitz (ISSCC 2014, 45 nm) and scaled.

All figures come from ``data/technology.yaml``, which names the source of each one.  At the
45 nm reference node the functions return Horowitz's numbers unchanged; other nodes use
Stillmaker & Baas's fitted scaling (Integration 58, 2017)::

    energy(L) = energy(45 nm) * E_L(Vdd) / E_45(Vdd),   E_n(V) = a_n V^2 + b_n V + c_n
    area(L)   = area(45 nm)   * A_45->L                 (their area-factor table)

The **MAC** is one multiply at the operand precision plus one add at the accumulator
precision (``ACCUMULATOR``): an int8 MAC is an 8-bit multiply (0.2 pJ) feeding a 32-bit
accumulator add (0.1 pJ), 0.3 pJ at 45 nm — the structure of TPU- and Gemmini-style int8
arrays, whose products are summed in 32 bits so that long dot products do not overflow.

Functions taking ``node_nm`` or ``capacity_bytes`` accept a float or a NumPy array and return
the same kind.
"""

from __future__ import annotations

import math
from functools import cache
from importlib import resources
from typing import Any, Literal, cast, overload

import numpy as np
import yaml

from codesign_playground.errors import HardwareSpecError
from codesign_playground.units import FloatArray

__all__ = [
    "ACCUMULATOR",
    "REFERENCE_NODE_NM",
    "ArithPrecision",
    "Op",
    "area_scale",
    "dram_energy_pj_per_byte",
    "energy_scale",
    "mac_energy_pj",
    "op_area_um2",
    "op_energy_pj",
    "pe_area_um2",
    "sram_area_mm2",
    "sram_read_energy_pj",
    "technology_data",
]

Op = Literal["add", "mult"]
ArithPrecision = Literal["fp32", "fp16", "bf16", "int32", "int16", "int8", "int4"]

REFERENCE_NODE_NM = 45.0


@cache
def technology_data() -> dict[str, Any]:
    """The parsed ``data/technology.yaml`` (read once)."""
    text = resources.files("codesign_playground.hardware").joinpath("data/technology.yaml")
    data = yaml.safe_load(text.read_text(encoding="utf-8"))
    return cast(dict[str, Any], data)


ACCUMULATOR: dict[str, str] = dict(technology_data()["accumulator"])
"""Accumulator precision used by :func:`mac_energy_pj` and :func:`pe_area_um2`."""


# ------------------------------------------------------------------------ scaling
def _nodes(node_nm: float | FloatArray) -> FloatArray:
    scaling = technology_data()["scaling"]
    lo, hi = float(scaling["min_node_nm"]), float(scaling["max_node_nm"])
    arr = np.asarray(node_nm, dtype=np.float64)
    bad = ~np.isfinite(arr) | (arr < lo) | (arr > hi)
    if np.any(bad):
        got = arr[bad].flat[0] if arr.ndim else arr
        raise HardwareSpecError(
            f"hardware field 'tech_node_nm': must be between {lo:g} and {hi:g} nm "
            f"(got {float(got):g})"
        )
    return arr


def _out(arr: FloatArray, *inputs: object) -> Any:
    if any(isinstance(x, np.ndarray) for x in inputs):
        return arr
    return float(arr)


@overload
def energy_scale(node_nm: float) -> float: ...
@overload
def energy_scale(node_nm: FloatArray) -> FloatArray: ...
def energy_scale(node_nm: float | FloatArray) -> float | FloatArray:
    """Energy of a node relative to 45 nm (Stillmaker & Baas 2017 fits at a fixed Vdd)."""
    factor = _energy_at(_nodes(node_nm)) / _energy_at(np.asarray(REFERENCE_NODE_NM))
    return cast(float | FloatArray, _out(np.asarray(factor, dtype=np.float64), node_nm))


def _table() -> tuple[FloatArray, FloatArray, FloatArray]:
    sc = technology_data()["scaling"]
    nodes = np.asarray(sc["nodes_nm"], dtype=np.float64)
    vdd = float(sc["vdd_v"])
    abc = np.asarray(sc["energy_poly_abc"], dtype=np.float64)
    energy = abc[:, 0] * vdd**2 + abc[:, 1] * vdd + abc[:, 2]
    area = np.asarray(sc["area_from_45nm"], dtype=np.float64)
    # np.interp needs increasing x
    return nodes[::-1], energy[::-1], area[::-1]


def _energy_at(node: FloatArray) -> FloatArray:
    nodes, energy, _ = _table()
    clipped = np.clip(node, nodes[0], nodes[-1])
    e = np.interp(clipped, nodes, energy)
    # outside the fitted range: energy ~ sqrt(L) (IRDS-based, as Accelergy)
    return np.asarray(e * np.sqrt(node / clipped), dtype=np.float64)


@overload
def area_scale(node_nm: float) -> float: ...
@overload
def area_scale(node_nm: FloatArray) -> FloatArray: ...
def area_scale(node_nm: float | FloatArray) -> float | FloatArray:
    """Area of a node relative to 45 nm (Stillmaker & Baas 2017 area factors)."""
    nodes, _, area = _table()
    arr = _nodes(node_nm)
    clipped = np.clip(arr, nodes[0], nodes[-1])
    # outside the fitted range: area ~ L (IRDS-based, as Accelergy)
    factor = np.interp(clipped, nodes, area) * (arr / clipped)
    return cast(float | FloatArray, _out(np.asarray(factor, dtype=np.float64), node_nm))


# ------------------------------------------------------------------- arithmetic
def _entry(op: str, precision: str) -> dict[str, float] | None:
    ops = technology_data()["operations"]
    table = ops.get(op)
    if table is None:
        raise HardwareSpecError(f"technology op '{op}' is unknown; use 'add' or 'mult'")
    entry = table.get(precision)
    return None if entry is None else {k: float(v) for k, v in entry.items() if k != "source"}


def _reference_value(op: str, precision: str, quantity: str) -> float:
    """Horowitz's 45 nm figure, or the derivation documented in technology.yaml."""
    if precision == "bf16":
        precision = "fp16"
    entry = _entry(op, precision)
    if entry is not None:
        return entry[quantity]
    if op == "mult" and precision in ("int16", "int4"):
        e8, e32 = (
            _reference_value("mult", "int8", quantity),
            _reference_value("mult", "int32", quantity),
        )
        k = math.log(e32 / e8) / math.log(4.0)
        bits = 16 if precision == "int16" else 4
        return float(e8 * (bits / 8) ** k)
    if op == "add" and precision == "int4":
        e8, e16 = (
            _reference_value("add", "int8", quantity),
            _reference_value("add", "int16", quantity),
        )
        return e8 * e8 / e16
    known = ", ".join([*sorted(technology_data()["accumulator"]), "int32"])
    raise HardwareSpecError(
        f"technology precision '{precision}' is unknown for '{op}'; use one of {known}"
    )


@overload
def op_energy_pj(op: Op, precision: ArithPrecision | str, node_nm: float = ...) -> float: ...
@overload
def op_energy_pj(op: Op, precision: ArithPrecision | str, node_nm: FloatArray) -> FloatArray: ...
def op_energy_pj(
    op: Op, precision: ArithPrecision | str, node_nm: float | FloatArray = REFERENCE_NODE_NM
) -> float | FloatArray:
    """Energy of one ``add`` or ``mult`` at ``precision`` and ``node_nm``, in pJ."""
    return _reference_value(op, precision, "energy_pj") * energy_scale(node_nm)


@overload
def op_area_um2(op: Op, precision: ArithPrecision | str, node_nm: float = ...) -> float: ...
@overload
def op_area_um2(op: Op, precision: ArithPrecision | str, node_nm: FloatArray) -> FloatArray: ...
def op_area_um2(
    op: Op, precision: ArithPrecision | str, node_nm: float | FloatArray = REFERENCE_NODE_NM
) -> float | FloatArray:
    """Area of one ``add`` or ``mult`` unit at ``precision`` and ``node_nm``, in um^2."""
    return _reference_value(op, precision, "area_um2") * area_scale(node_nm)


def _accumulator(precision: str, accumulator: str | None) -> str:
    if accumulator is not None:
        return accumulator
    if precision not in ACCUMULATOR:
        known = ", ".join(ACCUMULATOR)
        raise HardwareSpecError(
            f"technology precision '{precision}' has no MAC definition; use one of {known}"
        )
    return ACCUMULATOR[precision]


@overload
def mac_energy_pj(
    precision: ArithPrecision | str, node_nm: float = ..., accumulator: str | None = ...
) -> float: ...
@overload
def mac_energy_pj(
    precision: ArithPrecision | str, node_nm: FloatArray, accumulator: str | None = ...
) -> FloatArray: ...
def mac_energy_pj(
    precision: ArithPrecision | str,
    node_nm: float | FloatArray = REFERENCE_NODE_NM,
    accumulator: str | None = None,
) -> float | FloatArray:
    """Energy of one MAC: ``mult(precision) + add(accumulator)`` in pJ.

    ``accumulator`` defaults to :data:`ACCUMULATOR` (int8 -> int32, fp16 -> fp32, ...).
    At 45 nm an int8 MAC is 0.2 + 0.1 = 0.3 pJ.
    """
    acc = _accumulator(precision, accumulator)
    mult = _reference_value("mult", precision, "energy_pj")
    add = _reference_value("add", acc, "energy_pj")
    return (mult + add) * energy_scale(node_nm)


@overload
def pe_area_um2(
    precision: ArithPrecision | str, node_nm: float = ..., accumulator: str | None = ...
) -> float: ...
@overload
def pe_area_um2(
    precision: ArithPrecision | str, node_nm: FloatArray, accumulator: str | None = ...
) -> FloatArray: ...
def pe_area_um2(
    precision: ArithPrecision | str,
    node_nm: float | FloatArray = REFERENCE_NODE_NM,
    accumulator: str | None = None,
) -> float | FloatArray:
    """Arithmetic area of one MAC PE (multiplier + accumulator adder) in um^2.

    Pipeline registers, local storage and control are not included (Horowitz gives none).
    """
    acc = _accumulator(precision, accumulator)
    mult = _reference_value("mult", precision, "area_um2")
    add = _reference_value("add", acc, "area_um2")
    return (mult + add) * area_scale(node_nm)


# ------------------------------------------------------------------------ memory
def _capacities(capacity_bytes: float | FloatArray) -> FloatArray:
    arr = np.asarray(capacity_bytes, dtype=np.float64)
    bad = ~np.isfinite(arr) | (arr <= 0)
    if np.any(bad):
        got = arr[bad].flat[0] if arr.ndim else arr
        raise HardwareSpecError(
            f"hardware field 'capacity_bytes': must be > 0 (got {float(got):g})"
        )
    return arr


def _sram_reference_pj(capacity: FloatArray) -> FloatArray:
    sram = technology_data()["sram"]
    caps = np.log(np.array([p["capacity_bytes"] for p in sram["points"]], dtype=np.float64))
    energies = np.log(np.array([p["read_energy_pj"] for p in sram["points"]], dtype=np.float64))
    x = np.log(capacity)
    y = np.interp(x, caps, energies)
    # extend the end segments' power laws outside the published range
    lo_slope = (energies[1] - energies[0]) / (caps[1] - caps[0])
    hi_slope = (energies[-1] - energies[-2]) / (caps[-1] - caps[-2])
    y = np.where(x < caps[0], energies[0] + lo_slope * (x - caps[0]), y)
    y = np.where(x > caps[-1], energies[-1] + hi_slope * (x - caps[-1]), y)
    out: FloatArray = np.exp(y)
    # hit the published points exactly (exp(log(x)) can be off by an ulp)
    for point in sram["points"]:
        out = np.where(capacity == point["capacity_bytes"], float(point["read_energy_pj"]), out)
    return out


@overload
def sram_read_energy_pj(
    capacity_bytes: float, width_bits: float = ..., node_nm: float = ...
) -> float: ...
@overload
def sram_read_energy_pj(
    capacity_bytes: FloatArray, width_bits: float = ..., node_nm: float | FloatArray = ...
) -> FloatArray: ...
@overload
def sram_read_energy_pj(
    capacity_bytes: float, width_bits: float, node_nm: FloatArray
) -> FloatArray: ...
def sram_read_energy_pj(
    capacity_bytes: float | FloatArray,
    width_bits: float = 64,
    node_nm: float | FloatArray = REFERENCE_NODE_NM,
) -> float | FloatArray:
    """Energy of one ``width_bits`` read from an SRAM of ``capacity_bytes``, in pJ.

    Horowitz's 64-bit figures (8 KB 10 pJ, 32 KB 20 pJ, 1 MB 100 pJ) are interpolated as a
    power law per segment (log E linear in log capacity), extended outside that range with
    the end segment's exponent, scaled linearly with width and by :func:`energy_scale`.
    """
    if not (math.isfinite(width_bits) and width_bits > 0):
        raise HardwareSpecError(
            f"hardware field 'access_width_bits': must be > 0 (got {width_bits:g})"
        )
    caps = _capacities(capacity_bytes)
    ref_width = float(technology_data()["sram"]["width_bits"])
    energy = _sram_reference_pj(caps) * (width_bits / ref_width) * energy_scale(_nodes(node_nm))
    return cast(
        float | FloatArray, _out(np.asarray(energy, dtype=np.float64), capacity_bytes, node_nm)
    )


@overload
def sram_area_mm2(capacity_bytes: float, node_nm: float = ...) -> float: ...
@overload
def sram_area_mm2(capacity_bytes: FloatArray, node_nm: float | FloatArray = ...) -> FloatArray: ...
@overload
def sram_area_mm2(capacity_bytes: float, node_nm: FloatArray) -> FloatArray: ...
def sram_area_mm2(
    capacity_bytes: float | FloatArray, node_nm: float | FloatArray = REFERENCE_NODE_NM
) -> float | FloatArray:
    """Bit-cell area of an SRAM of ``capacity_bytes`` in mm^2 (no periphery: a lower bound).

    ``capacity_bytes * 8 * 0.346 um^2`` (Intel 45 nm 6T cell, Mistry et al. IEDM 2007)
    scaled by :func:`area_scale`.
    """
    cell = float(technology_data()["sram"]["bitcell_area_um2"])
    caps = _capacities(capacity_bytes)
    area = caps * 8.0 * cell * 1e-6 * area_scale(_nodes(node_nm))
    return cast(
        float | FloatArray, _out(np.asarray(area, dtype=np.float64), capacity_bytes, node_nm)
    )


def dram_energy_pj_per_byte(bound: Literal["low", "mid", "high"] = "mid") -> float:
    """DRAM access energy per byte from Horowitz's 1.3-2.6 nJ per 64-bit access.

    ``low`` = 1300/8 = 162.5 pJ, ``high`` = 2600/8 = 325 pJ, ``mid`` = their mean, 243.75 pJ.
    Not scaled with the logic node (DRAM has its own process).
    """
    figures = technology_data()["dram"]["energy_pj_per_64bit_access"]
    low, high = float(figures["low"]) / 8.0, float(figures["high"]) / 8.0
    if bound == "low":
        return low
    if bound == "high":
        return high
    if bound == "mid":
        return (low + high) / 2.0
    raise HardwareSpecError(f"dram bound '{bound}' is unknown; use 'low', 'mid' or 'high'")
