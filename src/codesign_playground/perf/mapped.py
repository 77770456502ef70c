"""Per-layer energy and latency from the spatial mapper under a user objective and constraints.

This is the estimate for descriptions brought from ZigZag or Timeloop/Accelergy: every layer
with a MAC core is mapped by :func:`codesign_playground.perf.spatial.spatial_model` (spatial
unrolling fixed by the mapping file when one is given, temporal mapping searched for the
objective), and its energy (MACs and per-level accesses at the description's per-access
costs) and cycles are the mapper's own. Latency per layer::

    cycles = max(compute, max over levels of bits moved / bits per cycle) + onload

where ``onload`` is the first tile of weights or inputs below the outermost level (see
``docs/models.md``, "Spatial model", and ``docs/validation-interop.md`` for the ZigZag comparison).
Ops without a MAC core are reported separately (``mapped = False``): ZigZag gives them no
cost, so they are excluded from the ``mapped_*`` totals that compare with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from codesign_playground.errors import InputError
from codesign_playground.hardware.mapping_constraints import MappingConstraints
from codesign_playground.hardware.spec import HardwareSpec
from codesign_playground.perf.spatial import DEFAULT_BUDGET, Objective, spatial_model
from codesign_playground.workload.ir import Network

__all__ = [
    "FIXED_SPATIAL_BUDGET",
    "OBJECTIVES",
    "LayerFigures",
    "MappedEstimate",
    "estimate_mapped",
]

OBJECTIVES: tuple[Objective, ...] = ("energy", "latency", "edp")
FIXED_SPATIAL_BUDGET = 3000
"""Candidates per layer when a mapping file fixes the spatial unrolling: only the temporal
mapping is searched. On ZigZag's 8 example pairs (docs/validation-interop.md) 3000 candidates
land within 4 % of the network energy and 3 % of the cycles that 8000 give."""


@dataclass(frozen=True)
class LayerFigures:
    """One op: its MACs, energy split, cycles split and utilization."""

    name: str
    op_type: str
    mapped: bool
    macs: int
    energy_pj: float
    mac_energy_pj: float
    level_energy_pj: dict[str, float]
    cycles: float
    compute_cycles: float
    onload_cycles: float
    utilization: float
    mapping: str


@dataclass(frozen=True)
class MappedEstimate:
    """An estimate of a network on a spec, layer by layer, under one objective."""

    model_name: str
    hardware_name: str
    objective: Objective
    clock_hz: float
    pes: int
    layers: tuple[LayerFigures, ...]
    warnings: tuple[str, ...] = ()

    def totals(self) -> dict[str, float]:
        """Network totals; ``mapped_*`` count only layers with a MAC core (ZigZag's scope)."""
        mapped = [la for la in self.layers if la.mapped]
        cycles = sum(la.cycles for la in self.layers)
        mcycles = sum(la.cycles for la in mapped)
        macs = sum(la.macs for la in mapped)
        return {
            "energy_j": sum(la.energy_pj for la in self.layers) * 1e-12,
            "latency_s": cycles / self.clock_hz,
            "cycles": cycles,
            "mapped_energy_j": sum(la.energy_pj for la in mapped) * 1e-12,
            "mapped_cycles": mcycles,
            "mapped_latency_s": mcycles / self.clock_hz,
            "macs": float(macs),
            "utilization": macs / (mcycles * self.pes) if mcycles > 0 else 0.0,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible: model, hardware, objective, totals, layers, warnings."""
        return {
            "model": self.model_name,
            "hardware": self.hardware_name,
            "objective": self.objective,
            "clock_hz": self.clock_hz,
            "totals": self.totals(),
            "layers": [
                {
                    "name": la.name,
                    "op_type": la.op_type,
                    "mapped": la.mapped,
                    "macs": la.macs,
                    "energy_j": la.energy_pj * 1e-12,
                    "mac_energy_j": la.mac_energy_pj * 1e-12,
                    "level_energy_j": {k: v * 1e-12 for k, v in la.level_energy_pj.items()},
                    "cycles": la.cycles,
                    "latency_s": la.cycles / self.clock_hz,
                    "utilization": la.utilization,
                    "mapping": la.mapping,
                }
                for la in self.layers
            ],
            "warnings": list(self.warnings),
        }

    def to_zigzag(self) -> dict[str, Any]:
        """ZigZag's result shape: network ``energy`` (pJ) and ``latency`` (cycles) as its
        SimpleSaveStage writes them, plus per layer the ``outputs`` block of its
        CompleteSaveStage JSON (``CostModelEvaluation.__jsonrepr__``, zigzag-dse 3.9.1)."""
        layers = []
        for la in self.layers:
            if not la.mapped:
                continue
            ideal = float(np.ceil(la.macs / self.pes))
            computation = la.cycles - la.onload_cycles
            layers.append(
                {
                    "name": la.name,
                    "outputs": {
                        "energy": {
                            "energy_total": la.energy_pj,
                            "operational_energy": la.mac_energy_pj,
                            "memory_energy": la.energy_pj - la.mac_energy_pj,
                            "memory_energy_breakdown_per_level": la.level_energy_pj,
                        },
                        "latency": {
                            "data_onloading": la.onload_cycles,
                            "computation": computation,
                            "data_offloading": 0.0,
                        },
                        "spatial": {
                            "mac_utilization": {
                                "ideal": ideal / la.compute_cycles if la.compute_cycles else 0.0,
                                "stalls": ideal / computation if computation else 0.0,
                                "stalls_onloading": ideal / la.cycles if la.cycles else 0.0,
                                "stalls_onloading_offloading": (
                                    ideal / la.cycles if la.cycles else 0.0
                                ),
                            }
                        },
                    },
                    "inputs": {"layer": la.name, "spatial_mapping": la.mapping},
                }
            )
        t = self.totals()
        return {
            "energy": t["mapped_energy_j"] * 1e12,
            "latency": t["mapped_cycles"],
            "layers": layers,
        }


def estimate_mapped(
    net: Network,
    spec: HardwareSpec,
    *,
    objective: str = "energy",
    constraints: MappingConstraints | None = None,
    budget: int | None = None,
    seed: int = 0,
    warnings: tuple[str, ...] = (),
) -> MappedEstimate:
    """Map every layer of ``net`` on ``spec`` for ``objective`` (energy, latency or edp).

    ``budget``: candidate mappings per layer; by default :data:`FIXED_SPATIAL_BUDGET` when
    ``constraints`` fix the spatial unrolling, else the mapper's ``DEFAULT_BUDGET``."""
    if objective not in OBJECTIVES:
        raise InputError(f"objective: {objective!r} is unknown; use energy, latency or edp")
    if spec.kind != "spatial":
        raise InputError(
            f"hardware: {spec.name} is a {spec.kind} design; the loop-nest mapper estimates "
            "spatial designs (ZigZag/Timeloop files, the spatial template)"
        )
    obj: Objective = objective
    if budget is None:
        fixed = constraints is not None and bool(constraints.spatial)
        budget = FIXED_SPATIAL_BUDGET if fixed else DEFAULT_BUDGET
    res = spatial_model(net, spec, objective=obj, budget=budget, seed=seed, constraints=constraints)
    layers = []
    for i, op in enumerate(net.ops):
        lm = res.mappings[i]
        mac_e = float(res.compute_energy_pj[i])
        compute = float(res.compute_cycles[i])
        onload = 0.0
        mapping = ""
        if lm is not None:
            onload = sum(
                max(m.cycles - max(m.compute_cycles, float(np.max(m.mem_cycles, initial=0.0))), 0.0)
                for m in lm.nests
            )
            mapping = "; ".join(m.describe().replace("\n", " | ") for m in lm.nests)
        layers.append(
            LayerFigures(
                name=op.name,
                op_type=op.op_type,
                mapped=lm is not None,
                macs=int(op.macs),
                energy_pj=float(res.energy_pj[i]),
                mac_energy_pj=mac_e,
                level_energy_pj={
                    name: float(res.level_energy_pj[j, i]) for j, name in enumerate(res.level_names)
                },
                cycles=float(res.cycles[i]),
                compute_cycles=compute,
                onload_cycles=onload,
                utilization=float(res.utilization[i]),
                mapping=mapping,
            )
        )
    return MappedEstimate(
        model_name=net.name,
        hardware_name=spec.name,
        objective=obj,
        clock_hz=spec.compute.clock_hz,
        pes=spec.compute.num_pes,
        layers=tuple(layers),
        warnings=warnings,
    )
