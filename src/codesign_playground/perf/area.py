"""Area per component: the MAC array and every on-chip memory level.

    A = n_PE * MACs/PE/cycle * (A_mult(p) + A_add(acc)) + sum_on-chip-levels A_SRAM(bytes)

with Horowitz's 45 nm arithmetic areas (ISSCC 2014) and a 6T bit cell of 0.346 um^2 (Intel
45 nm, Mistry et al., IEDM 2007), both scaled by the node (``hardware/technology.py``). This
counts arithmetic and bit cells only (no control, wiring, SRAM periphery or I/O), so it is a
lower bound on silicon area; ``docs/validation.md`` compares it with synthesis.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from codesign_playground.hardware import technology
from codesign_playground.hardware.spec import HardwareSpec
from codesign_playground.perf.energy import tech_node
from codesign_playground.units import FloatArray, Precision

__all__ = ["AreaBreakdown", "area_breakdown", "area_components", "pe_area_um2"]


@dataclass(frozen=True)
class AreaBreakdown:
    """Modeled area per component in mm^2, with the published die area when known."""

    components: dict[str, float]
    published_die_area_mm2: float | None

    @property
    def total_mm2(self) -> float:
        return float(sum(self.components.values()))


def pe_area_um2(macs_per_pe: Mapping[Precision, FloatArray], node_nm: FloatArray) -> FloatArray:
    """``(D,)`` arithmetic area of one PE: the widest supported datapath sets it."""
    areas = [
        np.where(m > 0, technology.pe_area_um2(p, node_nm) * m, 0.0) for p, m in macs_per_pe.items()
    ]
    return np.asarray(np.max(areas, axis=0), dtype=np.float64)


def area_components(
    num_pes: FloatArray,
    macs_per_pe: Mapping[Precision, FloatArray],
    node_nm: FloatArray,
    on_chip_bytes: FloatArray,
) -> FloatArray:
    """``(1 + L_on, D)`` mm^2: the PE array, then every on-chip level (``on_chip_bytes``:
    ``(L_on, D)`` capacity over all instances; 0 or ``nan`` counts nothing)."""
    node = np.asarray(node_nm, dtype=np.float64)
    pe = num_pes * pe_area_um2(macs_per_pe, node) * 1e-6
    caps = np.nan_to_num(np.asarray(on_chip_bytes, dtype=np.float64), nan=0.0)
    srams = [np.where(c > 0, technology.sram_area_mm2(np.maximum(c, 1.0), node), 0.0) for c in caps]
    return np.asarray([pe, *srams], dtype=np.float64).reshape(1 + len(caps), len(node))


def area_breakdown(spec: HardwareSpec) -> AreaBreakdown:
    """Area of ``spec``'s PE array and on-chip levels (all but the outermost): the
    one-design case of :func:`area_components`."""
    node = np.array([tech_node(spec)])
    macs = {p: np.array([float(v)]) for p, v in spec.compute.macs_per_pe_per_cycle.items()}
    caps = np.array([[float(lv.total_capacity_bytes or 0)] for lv in spec.memory[:-1]])
    arr = area_components(np.array([float(spec.compute.num_pes)]), macs, node, caps.reshape(-1, 1))
    comps = {"pe_array": float(arr[0, 0])}
    for j, level in enumerate(spec.memory[:-1]):
        if level.total_capacity_bytes:
            comps[level.name] = float(arr[1 + j, 0])
    return AreaBreakdown(comps, spec.die_area_mm2)
