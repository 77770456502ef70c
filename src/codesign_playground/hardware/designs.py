"""Design points: one typed home per hardware template, with its knobs, defaults and bounds.

A :class:`DesignTemplate` names the knobs of one template function in
:mod:`codesign_playground.hardware.templates` (or the catalog's ``chip``), takes their
defaults from that function's signature (defaults are written once, there), checks values
against declared bounds, and converts a design point to and from a :class:`HardwareSpec`.
Exploration varies these knobs; ``perf`` turns columns of them into design batches.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from codesign_playground.errors import InputError
from codesign_playground.hardware.catalog import ALIASES, get_chip, list_catalog
from codesign_playground.hardware.spec import DATAFLOWS_BY_KIND, HardwareSpec
from codesign_playground.hardware.templates import gpu, spatial, systolic, vector
from codesign_playground.units import PRECISIONS, Precision, widest_precision

__all__ = ["TEMPLATES", "DesignTemplate", "KnobSpec", "get_template"]

Scalar = int | float | str
KnobType = Literal["int", "float", "choice"]


@dataclass(frozen=True)
class KnobSpec:
    """One knob: its type, bounds or choices, unit and meaning (the default comes from
    the template function)."""

    name: str
    type: KnobType
    description: str
    minimum: float | None = None
    choices: tuple[str, ...] | None = None
    optional: bool = False  # None is a value (e.g. precision: sized for the model)

    def check(self, value: Any, where: str) -> None:
        """Raise :class:`InputError` naming ``where`` when ``value`` is out of bounds."""
        if value is None and self.optional:
            return
        if self.type == "choice":
            if not isinstance(value, str) or value not in (self.choices or ()):
                choices = ", ".join(self.choices or ())
                raise InputError(f"{where}: {value!r} is not a choice; use one of {choices}")
            return
        ok_type = isinstance(value, int) if self.type == "int" else isinstance(value, int | float)
        if isinstance(value, bool) or not ok_type or not math.isfinite(float(value)):
            kind = "a whole number" if self.type == "int" else "a number"
            raise InputError(f"{where}: {value!r} must be {kind}")
        if self.minimum is not None and value < self.minimum:
            raise InputError(f"{where}: {value!r} must be >= {self.minimum:g}")


def _n(name: str, description: str, *, minimum: float = 1, integer: bool = False) -> KnobSpec:
    return KnobSpec(name, "int" if integer else "float", description, minimum=minimum)


_POS = 1e-12
_PRECISION = KnobSpec(
    "precision",
    "choice",
    "PE datapath precision; omitted: the widest precision the model uses",
    choices=PRECISIONS,
    optional=True,
)


@dataclass(frozen=True)
class DesignTemplate:
    """A hardware template as a design point type.

    ``rate_knobs`` change no geometry (the clock and the DRAM bandwidth): designs that
    differ only in them share everything a model derives from the geometry.
    """

    name: str
    kind: str
    build: Callable[..., HardwareSpec]
    knobs: tuple[KnobSpec, ...]
    rate_knobs: tuple[str, ...] = ("clock_hz", "dram_bandwidth_bytes_per_s")
    sized_precision: bool = True  # precision None: the widest precision the model uses
    _defaults: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def knob_names(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.knobs)

    def defaults(self) -> dict[str, Any]:
        """Each knob's default, read from the template function's signature."""
        if not self._defaults:
            sig = inspect.signature(self.build).parameters
            for k in self.knobs:
                p = sig.get(k.name)
                default = None if p is None or p.default is inspect.Parameter.empty else p.default
                self._defaults[k.name] = None if k.name == "precision" else default
        return dict(self._defaults)

    def knob(self, name: str) -> KnobSpec:
        for k in self.knobs:
            if k.name == name:
                return k
        raise InputError(
            f"hardware.{name}: not a knob of the {self.name} template; use one of "
            f"{', '.join(self.knob_names)}"
        )

    def check(self, name: str, value: Any, where: str | None = None) -> None:
        self.knob(name).check(value, where or f"hardware.{name}")

    def to_spec(
        self,
        knobs: Mapping[str, Any],
        *,
        precisions: Sequence[Precision] = (),
        name: str | None = None,
    ) -> HardwareSpec:
        """The :class:`HardwareSpec` of one design point (knobs left out take defaults);
        ``precisions``: the precisions the model runs at (sizes the datapath)."""
        args = {**self.defaults(), **{k: v for k, v in knobs.items() if k in self.knob_names}}
        if self.name == "catalog":
            return get_chip(str(args["chip"]))
        if "precision" in args and self.sized_precision:
            prec = args["precision"] or (
                widest_precision(tuple(precisions)) if precisions else None
            )
            if prec is None:
                args.pop("precision")
            else:
                args["precision"] = prec
        if self.name == "systolic":
            args["also_computes"] = tuple(p for p in precisions if p != args.get("precision"))
        args = {k: v for k, v in args.items() if v is not None}
        return self.build(**args, name=name or self.name)

    def from_spec(self, spec: HardwareSpec) -> dict[str, Any]:
        """The knobs of ``spec`` when it is this template's output (``to_spec`` of the
        result rebuilds it)."""
        if self.name == "catalog":
            return {"chip": spec.name}
        if spec.kind != self.kind:
            raise InputError(
                f"hardware: {spec.name} is {spec.kind} hardware, not a {self.name} design"
            )
        c = spec.compute
        levels = {lv.name: lv for lv in spec.memory}
        kib = {name: (lv.capacity_bytes or 0) / 1024 for name, lv in levels.items()}
        derived: dict[str, Any] = {
            "rows": c.rows,
            "cols": c.cols,
            "cores": c.cores,
            "clock_hz": c.clock_hz,
            "dataflow": spec.dataflow,
            "tech_node_nm": spec.tech_node_nm,
            "dram_bandwidth_bytes_per_s": spec.dram.bandwidth_bytes_per_s,
            "precision": spec.precisions[0] if spec.precisions else None,
            # vector: lanes are the columns, the register file is 32 registers x VLEN x 4 B
            "lanes": c.cols,
            "vector_length": (levels["vrf"].capacity_bytes or 0) // 128 if "vrf" in levels else 0,
            "dram_bytes_per_cycle": spec.dram.bytes_per_cycle,
            # gpu: SMs are the cores, tensor cores the columns
            "sms": c.cores,
            "tensor_cores_per_sm": c.cols,
            "smem_kb_per_sm": kib.get("smem"),
            "l2_mb": kib["l2"] / 1024 if "l2" in kib else None,
            "glb_kb": kib.get("glb"),
        }
        for name in ("ifmap_sram", "filter_sram", "ofmap_sram"):
            derived[f"{name}_kb"] = kib.get(name)
        for name in ("filter_spad", "ifmap_spad", "psum_spad"):
            derived[f"{name}_bytes"] = levels[name].capacity_bytes if name in levels else None
        return {k: derived[k] for k in self.knob_names if derived.get(k) is not None}


def _dataflows(kind: str) -> KnobSpec:
    return KnobSpec("dataflow", "choice", "what stays in the PEs", choices=DATAFLOWS_BY_KIND[kind])


_RATE = (
    _n("dram_bandwidth_bytes_per_s", "DRAM bandwidth in bytes/s", minimum=_POS),
    _n("clock_hz", "clock of the PE array in Hz", minimum=_POS),
    _n("tech_node_nm", "process node in nm", minimum=_POS),
)

TEMPLATES: dict[str, DesignTemplate] = {
    t.name: t
    for t in (
        DesignTemplate(
            "systolic",
            "systolic",
            systolic,
            (
                _n("rows", "PE array rows per core", integer=True),
                _n("cols", "PE array columns per core", integer=True),
                _n("cores", "identical arrays sharing a layer's filters", integer=True),
                _dataflows("systolic"),
                _PRECISION,
                _n("ifmap_sram_kb", "input SRAM in KiB", minimum=_POS),
                _n("filter_sram_kb", "weight SRAM in KiB", minimum=_POS),
                _n("ofmap_sram_kb", "output SRAM in KiB", minimum=_POS),
                *_RATE,
            ),
        ),
        DesignTemplate(
            "spatial",
            "spatial",
            spatial,
            (
                _n("rows", "PE array rows", integer=True),
                _n("cols", "PE array columns", integer=True),
                _dataflows("spatial"),
                _PRECISION,
                _n("glb_kb", "global buffer (inputs and psums) in KiB", minimum=_POS),
                _n("filter_spad_bytes", "per-PE weight scratchpad in bytes", integer=True),
                _n("ifmap_spad_bytes", "per-PE input scratchpad in bytes", integer=True),
                _n("psum_spad_bytes", "per-PE partial-sum scratchpad in bytes", integer=True),
                *_RATE,
            ),
        ),
        DesignTemplate(
            "vector",
            "vector",
            vector,
            (
                _n("lanes", "parallel 32-bit lanes", integer=True),
                _n("vector_length", "32-bit elements per vector register", integer=True),
                _n("dram_bytes_per_cycle", "memory port bytes per cycle", minimum=_POS),
                _n("clock_hz", "clock in Hz", minimum=_POS),
                _n("tech_node_nm", "process node in nm", minimum=_POS),
            ),
            rate_knobs=("clock_hz",),
            sized_precision=False,
        ),
        DesignTemplate(
            "gpu",
            "gpu",
            gpu,
            (
                _n("sms", "streaming multiprocessors", integer=True),
                _n("tensor_cores_per_sm", "tensor cores per SM", integer=True),
                _n("smem_kb_per_sm", "L1/shared memory per SM in KiB", minimum=_POS),
                _n("l2_mb", "L2 cache in MiB", minimum=_POS),
                *_RATE,
            ),
            sized_precision=False,
        ),
        DesignTemplate(
            "catalog",
            "catalog",
            get_chip,
            (KnobSpec("chip", "choice", "a chip of the hardware catalog", choices=()), _PRECISION),
            rate_knobs=(),
            sized_precision=False,
        ),
    )
}


def get_template(name: str) -> DesignTemplate:
    """The design template ``name`` (the catalog template's choices are the catalog)."""
    if name not in TEMPLATES:
        raise InputError(
            f"hardware.template: unknown template {name!r}; use one of {', '.join(TEMPLATES)}"
        )
    t = TEMPLATES[name]
    if name == "catalog" and not t.knobs[0].choices:
        chip = KnobSpec(
            "chip", "choice", "a chip of the hardware catalog", choices=(*list_catalog(), *ALIASES)
        )
        t = DesignTemplate(t.name, t.kind, t.build, (chip, _PRECISION), (), False)
        TEMPLATES[name] = t
    return t
