"""The one cost pipeline: timing model, then energy, area and leakage, for a batch of designs.

Every timing model implements :class:`CostModel` and registers itself by name with
:func:`register` (``roofline``, ``systolic``, ``rtl``, ``spatial`` and ``gpu`` are
registered in :mod:`codesign_playground.perf.models`). :func:`evaluate` runs one model on a
:class:`~codesign_playground.perf.batch.DesignBatch` and prices the result with the shared
energy (``perf/energy.py``), area (``perf/area.py``) and leakage (``hardware/leakage.py``)
formulas; ``estimate`` is its one-design case and ``explore`` calls :func:`evaluate_totals`.
``docs/models.md`` ("Adding a hardware model") says how to add a model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from codesign_playground.errors import HardwareSpecError, InputError
from codesign_playground.hardware import leakage
from codesign_playground.perf.area import area_components
from codesign_playground.perf.batch import BatchTiming, DesignBatch, Workload, weighted_total
from codesign_playground.perf.energy import energy_per_op
from codesign_playground.units import FloatArray

__all__ = [
    "BatchCost",
    "CostModel",
    "available_models",
    "choose_model",
    "evaluate",
    "evaluate_totals",
    "get_model",
    "register",
    "totals",
]

#: (op, design) pairs per evaluation block: bounds the per-op temporaries to tens of MB.
_PAIRS_PER_BLOCK = 1 << 18


@runtime_checkable
class CostModel(Protocol):
    """A timing model: per-op cycles and per-level traffic of a workload on many designs.

    ``name`` is the ``--mode`` that selects it; ``kinds`` the hardware kinds it models
    (``("*",)``: any). ``accepts`` says why a batch is out of its reach (``None``: it is
    not). ``timing`` must be vectorized over designs (or loop only over what cannot be, and
    say so) and return arrays whose last axis is the design.
    """

    @property
    def name(self) -> str: ...

    @property
    def kinds(self) -> tuple[str, ...]: ...

    @property
    def op_independent(self) -> bool: ...

    def accepts(self, designs: DesignBatch) -> str | None: ...

    def timing(self, work: Workload, designs: DesignBatch) -> BatchTiming: ...


_REGISTRY: dict[str, CostModel] = {}
_AUTO: dict[str, Callable[[DesignBatch], str]] = {}


def register(model: CostModel, *, auto: Callable[[DesignBatch], bool] | None = None) -> None:
    """Register ``model`` under its name; with ``auto``, ``mode="auto"`` picks it for its
    kinds when ``auto(designs)`` holds (the roofline is the fallback)."""
    _REGISTRY[model.name] = model
    if auto is not None:
        for kind in model.kinds:
            prev = _AUTO.get(kind)

            def pick(
                d: DesignBatch,
                prev: Callable[[DesignBatch], str] | None = prev,
                name: str = model.name,
                ok: Callable[[DesignBatch], bool] = auto,
            ) -> str:
                if ok(d):
                    return name
                return prev(d) if prev is not None else "roofline"

            _AUTO[kind] = pick


def _load() -> None:
    if not _REGISTRY:
        import codesign_playground.perf.models  # noqa: F401  (registers the built-in models)


def available_models() -> tuple[str, ...]:
    """Registered model names, ``auto`` first (the ``--mode`` choices)."""
    _load()
    return ("auto", *_REGISTRY)


def get_model(name: str) -> CostModel:
    """The registered model ``name``."""
    _load()
    if name not in _REGISTRY:
        raise InputError(
            f"mode: unknown timing model {name!r}; use one of {', '.join(available_models())}"
        )
    return _REGISTRY[name]


def choose_model(mode: str, designs: DesignBatch) -> CostModel:
    """The model ``mode`` names, checked against ``designs``; ``auto`` picks by kind."""
    _load()
    if mode == "auto":
        pick = _AUTO.get(designs.kind)
        return _REGISTRY[pick(designs) if pick else "roofline"]
    model = get_model(mode)
    if "*" not in model.kinds and designs.kind not in model.kinds:
        need = "/".join(model.kinds)
        raise InputError(
            f"mode: the {mode} model needs {need} hardware; {designs.names[0]} is "
            f"{designs.kind} (use --mode roofline or auto)"
        )
    why = model.accepts(designs)
    if why is not None:
        raise HardwareSpecError(why)
    return model


@dataclass(frozen=True)
class BatchCost:
    """Timing, energy, area and leakage of a workload on ``D`` designs.

    ``energy_j``: ``(n_components, n_ops, D)``; ``area_mm2``: ``(n_area, D)`` with
    ``area_components`` ``pe_array`` then every on-chip level; ``leakage_w``: ``(D,)``.
    """

    designs: DesignBatch
    timing: BatchTiming
    energy_components: tuple[str, ...]
    energy_j: FloatArray
    area_components: tuple[str, ...]
    area_mm2: FloatArray
    leakage_w: FloatArray


def _check_precisions(work: Workload, designs: DesignBatch) -> None:
    la = work.la
    for p in dict.fromkeys(la.act_precisions):
        designs.peak_macs_per_cycle(p, la.names[la.act_precisions.index(p)])


def evaluate(work: Workload, designs: DesignBatch, model: CostModel) -> BatchCost:
    """Run ``model`` on every design and price its actions (per op and design)."""
    _check_precisions(work, designs)
    timing = model.timing(work, designs)
    node = designs.tech_node_nm
    on_chip = np.nan_to_num(designs.total_capacity_bytes()[:-1], nan=0.0)
    area = area_components(designs.num_pes, designs.macs_per_pe, node, on_chip)
    leak = np.asarray(
        leakage.leakage_power_w(
            logic_area_mm2=area[0], sram_bytes=on_chip.sum(axis=0), node_nm=node
        ),
        dtype=np.float64,
    )
    if timing.energy is not None:  # the model priced its own energy (GPU board power)
        own_names, own_energy = timing.energy
        return BatchCost(
            designs=designs,
            timing=timing,
            energy_components=own_names,
            energy_j=own_energy,
            area_components=("pe_array", *designs.level_names[:-1]),
            area_mm2=area,
            leakage_w=leak,
        )
    names, energy = energy_per_op(
        work.la,
        node,
        designs.read_pj_per_byte,
        designs.write_pj_per_byte,
        read_bytes=timing.read_bytes,
        write_bytes=timing.write_bytes,
        latency_s=timing.latency_s,
        leakage_w=leak,
    )
    levels = designs.level_names
    return BatchCost(
        designs=designs,
        timing=timing,
        energy_components=(*names[:2], *levels, *names[2 + len(levels) :]),
        energy_j=energy,
        area_components=("pe_array", *levels[:-1]),
        area_mm2=area,
        leakage_w=leak,
    )


def totals(work: Workload, cost: BatchCost) -> dict[str, FloatArray]:
    """Network totals of every design, as columns of length ``D``."""
    t, d, la = cost.timing, cost.designs, work.la
    w = work.op_weights
    cycles = weighted_total(w, t.cycles)
    latency = weighted_total(w, t.latency_s)
    energy = weighted_total(w, cost.energy_j.sum(axis=0))
    on_chip = np.nan_to_num(d.total_capacity_bytes()[:-1], nan=0.0)
    peak = np.max([d.peak_macs_per_cycle(p) for p in work.precisions], axis=0)
    weight_levels = [j for j in range(d.n_levels - 1) if "weights" in d.level_holds[j]]
    weight_cap = on_chip[weight_levels].sum(axis=0) if weight_levels else np.zeros(d.n)
    shape = work.net.inputs[0].shape if work.net.inputs else ()
    batch = float(shape[0]) if shape else 1.0
    dram = weighted_total(w, t.read_bytes[-1] + t.write_bytes[-1])
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "latency_s": latency,
            "cycles": cycles,
            "energy_j": energy,
            "area_mm2": cost.area_mm2.sum(axis=0),
            "power_w": np.where(latency > 0, energy / latency, 0.0),
            "edp_js": energy * latency,
            "fps": batch / latency,
            "inferences_per_j": batch / energy,
            "utilization": np.where(cycles > 0, (w @ la.macs) / (cycles * peak), 0.0),
            "dram_bytes": dram,
            "sram_kb": on_chip.sum(axis=0) / 1024.0,
            "weight_capacity_bytes": weight_cap,
            "leakage_w": cost.leakage_w,
        }


def evaluate_totals(
    work: Workload, designs: DesignBatch, model: CostModel
) -> dict[str, FloatArray]:
    """:func:`totals` of :func:`evaluate`, in blocks of designs (bounded memory); a model
    that is ``op_independent`` prices each class of identical ops once."""
    if model.op_independent:
        work = work.distinct()
    step = max(1, _PAIRS_PER_BLOCK // max(work.la.n_ops + len(work.la.gemm_op), 1))
    if designs.n <= step:
        return totals(work, evaluate(work, designs, model))
    parts = [
        totals(work, evaluate(work, designs.take(np.arange(s, min(s + step, designs.n))), model))
        for s in range(0, designs.n, step)
    ]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
