"""Area per component: the MAC array and every on-chip memory level.

    A = n_PE * MACs/PE/cycle * (A_mult(p) + A_add(acc)) + sum_on-chip-levels A_SRAM(bytes)

with Horowitz's 45 nm arithmetic areas (ISSCC 2014) and a 6T bit cell of 0.346 um^2 (Intel
45 nm, Mistry et al., IEDM 2007), both scaled by the node (``hardware/technology.py``). This
counts arithmetic and bit cells only (no control, wiring, SRAM periphery or I/O), so it is a
lower bound on silicon area; ``docs/validation.md`` compares it with synthesis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from codesign_playground.hardware import technology
from codesign_playground.hardware.spec import HardwareSpec
from codesign_playground.perf.energy import tech_node

__all__ = ["AreaBreakdown", "area_breakdown", "array_area_mm2"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class AreaBreakdown:
    """Modeled area per component in mm^2, with the published die area when known."""

    components: dict[str, float]
    published_die_area_mm2: float | None

    @property
    def total_mm2(self) -> float:
        return float(sum(self.components.values()))


def _pe_area_um2(spec: HardwareSpec, node: float) -> float:
    """Arithmetic per PE: the widest supported datapath sets the area."""
    areas = [
        technology.pe_area_um2(p, node) * spec.compute.macs_per_pe_per_cycle[p]
        for p in spec.precisions
    ]
    return max(areas)


def area_breakdown(spec: HardwareSpec) -> AreaBreakdown:
    """Area of ``spec``'s PE array and on-chip levels (all but the outermost)."""
    node = tech_node(spec)
    comps = {"pe_array": spec.compute.num_pes * _pe_area_um2(spec, node) * 1e-6}
    for level in spec.memory[:-1]:
        total = level.total_capacity_bytes
        if total:
            comps[level.name] = float(technology.sram_area_mm2(float(total), node))
    return AreaBreakdown(comps, spec.die_area_mm2)


def array_area_mm2(
    num_pes: FloatArray | float,
    sram_bytes: FloatArray | float,
    node_nm: FloatArray | float,
    precision: str = "int8",
) -> FloatArray:
    """Vectorized area of many systolic design points: PE array plus on-chip SRAM."""
    nodes = np.asarray(node_nm, dtype=np.float64)
    pe = technology.pe_area_um2(precision, nodes) * 1e-6
    cell = float(technology.technology_data()["sram"]["bitcell_area_um2"])
    sram = np.asarray(sram_bytes, dtype=np.float64) * 8.0 * cell * 1e-6
    area = np.asarray(num_pes, dtype=np.float64) * pe + sram * technology.area_scale(nodes)
    return np.asarray(area, dtype=np.float64)
