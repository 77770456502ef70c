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

from codesign_playground.hardware import leakage, technology
from codesign_playground.hardware.spec import HardwareSpec, MemoryLevel
from codesign_playground.units import FloatArray
from codesign_playground.workload.arrays import LayerArrays

__all__ = [
    "EnergyBreakdown",
    "access_energy_pj_per_byte",
    "energy_breakdown",
    "energy_per_op",
    "leakage_power_w",
    "tech_node",
]


def tech_node(spec: HardwareSpec) -> float:
    """The description's node, or the tables' 45 nm reference when it gives none."""
    return float(spec.tech_node_nm or technology.REFERENCE_NODE_NM)


def access_energy_pj_per_byte(
    spec: HardwareSpec, level: MemoryLevel, last: bool
) -> tuple[float, float, str]:
    """Read and write energy per byte of ``level`` and where the figure comes from."""
    given = level.read_energy_pj if level.read_energy_pj is not None else level.write_energy_pj
    if given is not None and level.access_width_bits is not None:
        per_byte = 8.0 / level.access_width_bits
        read = given * per_byte
        write = (level.write_energy_pj or given) * per_byte
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


def energy_per_op(
    la: LayerArrays,
    node_nm: FloatArray,
    read_pj_per_byte: FloatArray,
    write_pj_per_byte: FloatArray,
    *,
    read_bytes: FloatArray,
    write_bytes: FloatArray,
    latency_s: FloatArray,
    leakage_w: FloatArray,
) -> tuple[tuple[str, ...], FloatArray]:
    """Energy of every op on every design: components and an array ``(C, n_ops, D)`` in J.

    ``node_nm`` and ``leakage_w`` are ``(D,)``; per-byte energies ``(L, D)``; bytes
    ``(L, n_ops, D)``; ``latency_s`` ``(n_ops, D)``. The component names are ``mac``,
    ``other_arithmetic``, then one per level (``level_0`` ... until renamed by the caller),
    then ``leakage``.
    """
    node = np.asarray(node_nm, dtype=np.float64)
    precs = sorted(set(la.act_precisions))
    mac_pj = np.zeros((la.n_ops, len(node)))
    add_pj = np.zeros((la.n_ops, len(node)))
    act = np.asarray(la.act_precisions)
    for p in precs:
        rows = act == p
        mac_pj[rows] = technology.mac_energy_pj(p, node)[np.newaxis, :]
        add_pj[rows] = technology.op_energy_pj("add", p, node)[np.newaxis, :]
    other_flops = np.maximum(la.flops - 2.0 * la.macs, 0.0)[:, np.newaxis]
    parts = [la.macs[:, np.newaxis] * mac_pj * 1e-12, other_flops * add_pj * 1e-12]
    names = ["mac", "other_arithmetic"]
    level = (
        read_bytes * read_pj_per_byte[:, np.newaxis, :]
        + write_bytes * write_pj_per_byte[:, np.newaxis, :]
    ) * 1e-12
    parts.extend(level)
    names.extend(f"level_{j}" for j in range(level.shape[0]))
    parts.append(np.asarray(leakage_w, dtype=np.float64)[np.newaxis, :] * latency_s)
    names.append("leakage")
    return tuple(names), np.asarray(parts, dtype=np.float64)


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
    ``(n_levels, n_ops)`` bytes read from and written to each level (the one-design case of
    :func:`energy_per_op`)."""
    last = len(spec.memory) - 1
    per = [access_energy_pj_per_byte(spec, lv, j == last) for j, lv in enumerate(spec.memory)]
    names, arr = energy_per_op(
        la,
        np.array([tech_node(spec)]),
        np.array([[r] for r, _, _ in per]),
        np.array([[w] for _, w, _ in per]),
        read_bytes=np.asarray(read_bytes, dtype=np.float64)[..., np.newaxis],
        write_bytes=np.asarray(write_bytes, dtype=np.float64)[..., np.newaxis],
        latency_s=np.asarray(latency_s, dtype=np.float64)[:, np.newaxis],
        leakage_w=np.array([leakage_w]),
    )
    level_names = tuple(lv.name for lv in spec.memory)
    return EnergyBreakdown(_named(names, level_names), arr[..., 0])


def _named(names: tuple[str, ...], level_names: tuple[str, ...]) -> tuple[str, ...]:
    return (*names[:2], *level_names, *names[2 + len(level_names) :])


def leakage_power_w(spec: HardwareSpec, area_mm2: dict[str, float]) -> float:
    """Static power of ``spec``'s PE array and on-chip SRAM (``hardware/leakage.py``)."""
    sram_bytes = sum(float(lv.total_capacity_bytes or 0) for lv in spec.memory[:-1])
    return float(
        leakage.leakage_power_w(
            logic_area_mm2=area_mm2.get("pe_array", 0.0),
            sram_bytes=sram_bytes,
            node_nm=tech_node(spec),
        )
    )
