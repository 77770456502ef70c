"""One estimate of a network on a hardware description: cycles, seconds, joules, mm^2.

The pipeline, per op:

1. timing and traffic from the model that fits the hardware: the SCALE-Sim-exact systolic
   model for GEMM-shaped ops on ``systolic`` hardware made of one-MAC cells, the loop-nest
   mapper on ``spatial`` hardware, the kernel-level model calibrated on measured H200
   kernels on ``gpu`` hardware, and the multi-level roofline for everything else (``vector``
   and ``cpu`` hardware, and catalog arrays that publish only a MAC count);
2. energy from the resulting action counts (``perf/energy.py``);
3. area of the hardware (``perf/area.py``).

Ops run one after another, so network latency is the sum of op latencies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from codesign_playground.errors import InputError
from codesign_playground.hardware.spec import HardwareSpec
from codesign_playground.perf.area import AreaBreakdown, area_breakdown
from codesign_playground.perf.energy import EnergyBreakdown, energy_breakdown, leakage_power_w
from codesign_playground.perf.roofline import RooflineResult, roofline
from codesign_playground.perf.timing import Timing
from codesign_playground.workload.arrays import LayerArrays, layer_arrays
from codesign_playground.workload.ir import Network

__all__ = ["MODES", "Estimate", "estimate"]

FloatArray = npt.NDArray[np.float64]
Mode = Literal["auto", "roofline", "systolic", "spatial", "gpu", "rtl"]
MODES: tuple[str, ...] = ("auto", "roofline", "systolic", "spatial", "gpu", "rtl")


@dataclass(frozen=True)
class Estimate:
    """Per-op and total latency, energy and utilization of one network on one design."""

    model_name: str
    hardware_name: str
    timing_model: str
    layers: LayerArrays
    op_types: tuple[str, ...]
    level_names: tuple[str, ...]
    timing: Timing
    energy: EnergyBreakdown
    area: AreaBreakdown
    roofline: RooflineResult
    clock_hz: float
    peak_macs_per_cycle: float
    tokens_per_step: int | None = None

    def layer_records(self) -> list[dict[str, Any]]:
        """One flat record per op (JSON-ready)."""
        t, la = self.timing, self.layers
        energy = self.energy.op_total_j
        return [
            {
                "name": la.names[i],
                "op": self.op_types[i],
                "kind": la.kinds[i],
                "macs": int(la.macs[i]),
                "cycles": float(t.cycles[i]),
                "latency_s": float(t.latency_s[i]),
                "energy_j": float(energy[i]),
                "utilization": float(t.utilization[i]),
                "bound": t.bound[i],
                "dram_bytes": float(t.read_bytes[-1, i] + t.write_bytes[-1, i]),
            }
            for i in range(la.n_ops)
        ]

    def totals(self) -> dict[str, Any]:
        """Network totals; utilization is MACs over (cycles x peak MACs per cycle)."""
        cycles = float(self.timing.cycles.sum())
        macs = float(self.layers.macs.sum())
        latency = float(self.timing.latency_s.sum())
        energy = self.energy.total_j
        tokens: dict[str, Any] = {}
        if self.tokens_per_step:  # token models on the GPU model: tokens per step and per s
            tokens = {
                "tokens_per_step": self.tokens_per_step,
                "tokens_per_s": self.tokens_per_step / latency if latency > 0 else 0.0,
            }
        return {
            "latency_s": latency,
            "cycles": cycles,
            "energy_j": energy,
            "average_power_w": energy / latency if latency > 0 else 0.0,
            "area_mm2": self.area.total_mm2,
            "macs": int(macs),
            "utilization": macs / (cycles * self.peak_macs_per_cycle) if cycles else 0.0,
            "inferences_per_s": 1.0 / latency if latency > 0 else 0.0,
            "dram_bytes": float(
                self.timing.read_bytes[-1].sum() + self.timing.write_bytes[-1].sum()
            ),
            **tokens,
        }

    def to_dict(self) -> dict[str, Any]:
        """The whole estimate as plain JSON-compatible data."""
        return {
            "model": self.model_name,
            "hardware": self.hardware_name,
            "timing_model": self.timing_model,
            "clock_hz": self.clock_hz,
            "layers": self.layer_records(),
            "totals": self.totals(),
            "energy_breakdown_j": self.energy.by_component_j(),
            "area_breakdown_mm2": self.area.components,
            "published_die_area_mm2": self.area.published_die_area_mm2,
            "roofline": self.roofline.chart(),
        }


def _roofline_timing(rf: RooflineResult, clock_hz: float) -> Timing:
    by_op = rf.operand_traffic_bytes
    return Timing(
        model="roofline",
        cycles=np.ceil(rf.latency_s * clock_hz),
        latency_s=rf.latency_s,
        utilization=rf.utilization,
        bound=rf.bound,
        read_bytes=by_op[:, 0] + by_op[:, 1],
        write_bytes=by_op[:, 2],
    )


def _choose(mode: str, spec: HardwareSpec) -> str:
    if mode not in MODES:
        raise InputError(f"mode: unknown timing model {mode!r}; use one of {', '.join(MODES)}")
    if mode != "auto":
        needed = "systolic" if mode == "rtl" else mode
        if mode != "roofline" and spec.kind != needed:
            raise InputError(
                f"mode: the {mode} model needs {needed} hardware; {spec.name} is {spec.kind} "
                "(use --mode roofline or auto)"
            )
        return mode
    if spec.kind in ("spatial", "gpu"):
        return spec.kind
    if spec.kind == "systolic" and _is_cell_array(spec):
        return "systolic"
    return "roofline"


def _is_cell_array(spec: HardwareSpec) -> bool:
    """A systolic fabric of one-MAC cells; catalog entries that publish only a MAC count
    (rows = cols = 1 with thousands of MACs per "PE") have no array to map onto."""
    return all(v == 1 for v in spec.compute.macs_per_pe_per_cycle.values()) and (
        spec.compute.rows > 1 or spec.compute.cols > 1
    )


def estimate(
    net: Network,
    spec: HardwareSpec,
    *,
    mode: str = "auto",
    launch: str = "graph",
    tf32: bool | str | None = None,
) -> Estimate:
    """Estimate ``net`` on ``spec``; ``mode`` picks the timing model (``auto`` by kind).

    ``launch`` (``graph`` or ``eager``) and ``tf32`` (``None``: PyTorch's default, or
    on/off) apply to the GPU model (``perf/gpu.py``)."""
    la = layer_arrays(net)
    rf = roofline(net, spec)
    clock = spec.compute.clock_hz
    chosen = _choose(mode, spec)
    if chosen != "gpu" and (launch != "graph" or tf32 is not None):
        raise InputError(
            f"launch/tf32: they apply to the gpu timing model only ({chosen} was chosen); "
            "use --mode gpu on GPU hardware or drop them"
        )
    gpu_energy = None
    tokens = None
    if chosen == "systolic":
        from codesign_playground.perf.systolic_network import systolic_timing

        timing = systolic_timing(net, la, spec, rf)
    elif chosen == "rtl":
        from codesign_playground.perf.systolic_network import rtl_timing

        timing = rtl_timing(net, la, spec, rf)
    elif chosen == "gpu":
        from codesign_playground.perf.gpu_power import gpu_timing_and_energy, tokens_per_step

        timing, gpu_energy = gpu_timing_and_energy(net, la, spec, rf, launch=launch, tf32=tf32)
        tokens = tokens_per_step(net)
    elif chosen == "spatial":
        from codesign_playground.perf.spatial_network import spatial_timing

        timing = spatial_timing(net, la, spec, rf)
    else:
        timing = _roofline_timing(rf, clock)
    area = area_breakdown(spec)
    energy = gpu_energy or energy_breakdown(
        la,
        spec,
        read_bytes=timing.read_bytes,
        write_bytes=timing.write_bytes,
        latency_s=timing.latency_s,
        leakage_w=leakage_power_w(spec, area.components),
    )
    precisions = set(la.act_precisions) or {spec.precisions[0]}
    peak = max(spec.compute.peak_macs_per_cycle(p) for p in precisions)
    return Estimate(
        model_name=net.name,
        hardware_name=spec.name,
        timing_model=timing.model,
        layers=la,
        op_types=tuple(o.op_type for o in net.ops),
        level_names=tuple(lv.name for lv in spec.memory),
        timing=timing,
        energy=energy,
        area=area,
        roofline=rf,
        clock_hz=clock,
        peak_macs_per_cycle=peak,
        tokens_per_step=tokens,
    )
