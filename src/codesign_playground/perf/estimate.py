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

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from codesign_playground.errors import InputError
from codesign_playground.hardware.spec import HardwareSpec
from codesign_playground.perf.area import AreaBreakdown
from codesign_playground.perf.batch import DesignBatch, Workload
from codesign_playground.perf.energy import EnergyBreakdown
from codesign_playground.perf.engine import CostModel, available_models, choose_model, evaluate
from codesign_playground.perf.models import GpuModel
from codesign_playground.perf.roofline import RooflineResult, roofline
from codesign_playground.perf.timing import Timing
from codesign_playground.workload.arrays import LayerArrays
from codesign_playground.workload.ir import Network

__all__ = ["MODES", "Estimate", "Mode", "estimate"]

Mode = Literal["auto", "roofline", "systolic", "spatial", "gpu", "rtl"]
MODES: tuple[str, ...] = get_args(Mode)
"""The built-in ``mode`` choices (:func:`codesign_playground.perf.engine.available_models`
lists these and any model registered later)."""


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
    #: what the estimate ran with (precision, batch, timing model, GPU launch and TF32),
    #: each as {"value": ..., "source": where it came from}
    settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

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
            "settings": {k: dict(v) for k, v in self.settings.items()},
            "clock_hz": self.clock_hz,
            "layers": self.layer_records(),
            "totals": self.totals(),
            "energy_breakdown_j": self.energy.by_component_j(),
            "area_breakdown_mm2": self.area.components,
            "published_die_area_mm2": self.area.published_die_area_mm2,
            "roofline": self.roofline.chart(),
        }


def _choose(mode: str, spec: HardwareSpec, designs: DesignBatch) -> CostModel:
    if mode not in available_models():
        raise InputError(
            f"mode: unknown timing model {mode!r}; use one of {', '.join(available_models())}"
        )
    return choose_model(mode, designs)


def estimate(
    net: Network,
    spec: HardwareSpec,
    *,
    mode: str = "auto",
    launch: str | None = None,
    tf32: bool | str | None = None,
    sources: Mapping[str, str] | None = None,
) -> Estimate:
    """Estimate ``net`` on ``spec``; ``mode`` picks the timing model (``auto`` by kind).

    This is the one-design case of :func:`codesign_playground.perf.engine.evaluate`, the
    pipeline exploration runs on thousands of designs at once. ``launch`` (``graph`` or
    ``eager``) and ``tf32`` (``None``: PyTorch's default, or on/off) apply to the GPU model.
    """
    work = Workload.of(net)
    designs = DesignBatch.from_specs([spec])
    rf = roofline(net, spec)  # checks the precisions; its chart goes into the report
    model = _choose(mode, spec, designs)
    if model.name != "gpu" and (launch not in (None, "graph") or tf32 is not None):
        raise InputError(
            f"launch/tf32: they apply to the gpu timing model only ({model.name} was chosen); "
            "use --mode gpu on GPU hardware or drop them"
        )
    tokens = None
    if isinstance(model, GpuModel):
        from codesign_playground.perf.gpu_power import tokens_per_step

        model = model.configured(launch=launch or "graph", tf32=tf32)
        tokens = tokens_per_step(net)
    cost = evaluate(work, designs, model)
    bt = cost.timing
    timing = Timing(
        model=bt.model,
        cycles=bt.cycles[:, 0],
        latency_s=bt.latency_s[:, 0],
        utilization=bt.utilization[:, 0],
        bound=tuple(bt.bound_labels[int(b)] for b in bt.bound[:, 0]),
        read_bytes=bt.read_bytes[..., 0],
        write_bytes=bt.write_bytes[..., 0],
    )
    comps = {"pe_array": float(cost.area_mm2[0, 0])}
    for j, level in enumerate(spec.memory[:-1]):
        if level.total_capacity_bytes:
            comps[level.name] = float(cost.area_mm2[1 + j, 0])
    area = AreaBreakdown(comps, spec.die_area_mm2)
    energy = EnergyBreakdown(cost.energy_components, cost.energy_j[..., 0])
    la = work.la
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
        clock_hz=spec.compute.clock_hz,
        peak_macs_per_cycle=peak,
        tokens_per_step=tokens,
        settings=_settings(net, spec, mode, model, launch, tf32, sources or {}),
    )


def _settings(
    net: Network,
    spec: HardwareSpec,
    mode: str,
    model: CostModel,
    launch: str | None,
    tf32: bool | str | None,
    sources: Mapping[str, str],
) -> dict[str, dict[str, Any]]:
    """What the estimate ran with, and where each value came from."""
    precisions = sorted(
        {op.act_precision for op in net.ops if op.macs} or {op.act_precision for op in net.ops}
    )
    shape = net.inputs[0].shape if net.inputs else ()
    out: dict[str, dict[str, Any]] = {
        "precision": {
            "value": precisions[0] if len(precisions) == 1 else precisions,
            "source": sources.get("precision", "the network's own"),
        },
        "batch": {
            "value": int(shape[0]) if shape and isinstance(shape[0], int) else None,
            "source": sources.get("batch", "the network's input"),
        },
        "timing_model": {
            "value": model.name,
            "source": "asked"
            if mode != "auto"
            else f"auto: the {model.name} model for {spec.kind} hardware",
        },
    }
    if model.name == "gpu":
        out["launch"] = {
            "value": launch or "graph",
            "source": "asked" if launch else "default: graph (kernel time, as CUDA graphs run)",
        }
        tf32_value = tf32 if tf32 is None or isinstance(tf32, str) else ("on" if tf32 else "off")
        out["tf32"] = {
            "value": tf32_value,
            "source": "asked"
            if tf32 is not None
            else "default: PyTorch's (convolutions TF32 on, matmul off)",
        }
    return out
