"""Energy from action counts: MACs, other arithmetic, accesses to every memory level, and
leakage over the run time; a breakdown per component and per op.

    E_op = MACs * e_mac(p, node) + other_flops * e_add(p, node)
           + sum_levels (read_bytes * e_read + write_bytes * e_write) + P_leak * latency

Per-access energies come from the hardware description when it gives them
(``read_energy_pj`` per ``access_width_bits``), otherwise from the technology tables
(Horowitz, ISSCC 2014: SRAM by capacity, DRAM 1.3-2.6 nJ per 64 bits; see
``hardware/technology.py``). Equations and sources: ``docs/models.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from codesign_playground.hardware import leakage, technology
from codesign_playground.hardware.spec import HardwareSpec, MemoryLevel
from codesign_playground.workload.arrays import LayerArrays

__all__ = [
    "EnergyBreakdown",
    "access_energy_pj_per_byte",
    "energy_breakdown",
    "leakage_power_w",
    "tech_node",
]

FloatArray = npt.NDArray[np.float64]


def tech_node(spec: HardwareSpec) -> float:
    """The description's node, or the tables' 45 nm reference when it gives none."""
    return float(spec.tech_node_nm or technology.REFERENCE_NODE_NM)


def access_energy_pj_per_byte(
    spec: HardwareSpec, level: MemoryLevel, last: bool
) -> tuple[float, float, str]:
    """Read and write energy per byte of ``level`` and where the figure comes from."""
    if level.read_energy_pj is not None and level.access_width_bits is not None:
        per_byte = 8.0 / level.access_width_bits
        read = level.read_energy_pj * per_byte
        write = (level.write_energy_pj or level.read_energy_pj) * per_byte
        return read, write, "hardware description"
    if last:  # the outermost level is off-chip DRAM by the description's convention
        e = technology.dram_energy_pj_per_byte()
        return e, e, "Horowitz ISSCC 2014 DRAM, mid of 1.3-2.6 nJ per 64 bits"
    cap = float(level.capacity_bytes or 1)
    read = technology.sram_read_energy_pj(cap, 64, tech_node(spec)) / 8.0
    # Horowitz gives reads only; a write drives the same bit lines: taken equal to a read
    return read, read, "Horowitz ISSCC 2014 SRAM read energy by capacity (write = read)"


@dataclass(frozen=True)
class EnergyBreakdown:
    """Energy per component (rows) and per op (columns), in joules."""

    components: tuple[str, ...]
    per_op_j: FloatArray  # (n_components, n_ops)

    @property
    def op_total_j(self) -> FloatArray:
        return np.asarray(self.per_op_j.sum(axis=0), dtype=np.float64)

    @property
    def total_j(self) -> float:
        return float(self.per_op_j.sum())

    def by_component_j(self) -> dict[str, float]:
        return {
            c: float(v) for c, v in zip(self.components, self.per_op_j.sum(axis=1), strict=True)
        }


def energy_breakdown(
    la: LayerArrays,
    spec: HardwareSpec,
    *,
    read_bytes: FloatArray,
    write_bytes: FloatArray,
    latency_s: FloatArray,
    leakage_w: float,
) -> EnergyBreakdown:
    """Energy of every op from its actions; ``read_bytes``/``write_bytes`` are
    ``(n_levels, n_ops)`` bytes read from and written to each level."""
    node = tech_node(spec)
    per_prec = {
        p: (technology.mac_energy_pj(p, node), technology.op_energy_pj("add", p, node))
        for p in set(la.act_precisions)
    }
    mac_pj = np.array([per_prec[p][0] for p in la.act_precisions], dtype=np.float64)
    add_pj = np.array([per_prec[p][1] for p in la.act_precisions], dtype=np.float64)
    other_flops = np.maximum(la.flops - 2.0 * la.macs, 0.0)
    rows = [la.macs * mac_pj * 1e-12, other_flops * add_pj * 1e-12]
    names = ["mac", "other_arithmetic"]
    last = len(spec.memory) - 1
    for j, level in enumerate(spec.memory):
        r, w, _ = access_energy_pj_per_byte(spec, level, j == last)
        rows.append((read_bytes[j] * r + write_bytes[j] * w) * 1e-12)
        names.append(level.name)
    rows.append(leakage_w * latency_s)
    names.append("leakage")
    return EnergyBreakdown(tuple(names), np.asarray(rows, dtype=np.float64))


def leakage_power_w(spec: HardwareSpec, area_mm2: dict[str, float]) -> float:
    """Static power of ``spec``'s PE array and on-chip SRAM (``hardware/leakage.py``)."""
    sram_bytes = sum(float(lv.total_capacity_bytes or 0) for lv in spec.memory[:-1])
    return leakage.leakage_power_w(
        logic_area_mm2=area_mm2.get("pe_array", 0.0),
        sram_bytes=sram_bytes,
        node_nm=tech_node(spec),
    )
