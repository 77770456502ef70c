"""Hardware description: pydantic v2 models, validation and (de)serialisation.

A :class:`HardwareSpec` describes one accelerator: its compute fabric, a memory hierarchy
ordered from the innermost level to DRAM, a dataflow, a technology node and where each
number comes from (``sources``: dotted field path -> citation).  Every model is frozen and
refuses unknown fields.  Builders that take user input (:func:`hardware_from_dict`,
:func:`parse_hardware`, the templates, the catalog) raise
:class:`~codesign_playground.errors.HardwareSpecError` with a one-line message such as::

    hardware field 'compute.rows': must be > 0 (got -4)

Units are in the field names: ``clock_hz``, ``capacity_bytes``, ``bandwidth_bytes_per_s``,
``energy_pj``, ``area_mm2``.  One MAC counts as two operations in every ``ops_per_s`` figure.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from codesign_playground.errors import HardwareSpecError
from codesign_playground.units import DATAFLOWS, PRECISIONS, Dataflow, Precision

__all__ = [
    "DATAFLOWS",
    "DATAFLOWS_BY_KIND",
    "KINDS",
    "OPERANDS",
    "PEAK_TOLERANCE",
    "PRECISIONS",
    "ComputeFabric",
    "Dataflow",
    "HardwareSpec",
    "MemoryLevel",
    "Operand",
    "Precision",
    "TemplateKind",
    "dump_hardware",
    "hardware_from_dict",
    "hardware_to_dict",
    "parse_hardware",
]

Operand = Literal["weights", "inputs", "outputs"]
TemplateKind = Literal["systolic", "vector", "spatial", "gpu", "cpu"]

OPERANDS: tuple[Operand, ...] = get_args(Operand)
KINDS: tuple[TemplateKind, ...] = get_args(TemplateKind)

DATAFLOWS_BY_KIND: dict[str, tuple[Dataflow, ...]] = {
    "systolic": ("ws", "os", "is"),
    "spatial": ("rs", "ws", "os", "is"),
    "gpu": ("simt",),
    "vector": ("vector",),
    "cpu": ("vector",),
}

PEAK_TOLERANCE = 0.01
"""Largest relative gap allowed between a published peak and the computed one."""

PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
PositiveInt = Annotated[int, Field(gt=0)]

_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]*$"


def _fail(field: str, message: str) -> ValueError:
    """A validation error for ``field`` (relative to the model being validated)."""
    return ValueError(f"{field}: {message}")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ComputeFabric(_Frozen):
    """The arithmetic: ``cores`` copies of a ``rows`` x ``cols`` array of processing elements."""

    rows: PositiveInt = Field(description="PE array rows (per core)")
    cols: PositiveInt = Field(description="PE array columns (per core)")
    cores: PositiveInt = Field(
        default=1, description="identical copies of the PE array (SMs, TensorCores, MXUs, ...)"
    )
    macs_per_pe_per_cycle: dict[Precision, PositiveFloat] = Field(
        description="multiply-accumulates one PE completes per cycle, per supported precision"
    )
    clock_hz: PositiveFloat = Field(description="clock of the PE array")
    mac_energy_pj: dict[Precision, PositiveFloat] | None = Field(
        default=None,
        description="energy of one MAC per precision, when the description gives it "
        "(otherwise the models use the technology tables)",
    )

    @model_validator(mode="after")
    def _check(self) -> ComputeFabric:
        if not self.macs_per_pe_per_cycle:
            raise _fail(
                "macs_per_pe_per_cycle",
                "must list at least one precision, e.g. {int8: 1}",
            )
        return self

    @property
    def precisions(self) -> tuple[Precision, ...]:
        """Supported precisions, in the canonical order of :data:`PRECISIONS`."""
        return tuple(p for p in PRECISIONS if p in self.macs_per_pe_per_cycle)

    @property
    def num_pes(self) -> int:
        return self.rows * self.cols * self.cores

    def peak_macs_per_cycle(self, precision: Precision) -> float:
        """MACs per cycle of the whole fabric at ``precision``."""
        if precision not in self.macs_per_pe_per_cycle:
            supported = ", ".join(self.precisions)
            raise HardwareSpecError(
                f"hardware field 'compute.macs_per_pe_per_cycle': precision '{precision}' is "
                f"not supported; use one of {supported}"
            )
        return self.num_pes * self.macs_per_pe_per_cycle[precision]

    def peak_ops_per_s(self, precision: Precision) -> float:
        """Peak operations per second (2 per MAC) at ``precision``."""
        return 2.0 * self.peak_macs_per_cycle(precision) * self.clock_hz


class MemoryLevel(_Frozen):
    """One level of the memory hierarchy; ``instances`` identical copies (e.g. one per PE)."""

    name: str = Field(pattern=_NAME_PATTERN, max_length=64, description="unique level name")
    capacity_bytes: PositiveInt | None = Field(
        default=None,
        description="capacity of one instance; None only for the outermost level (DRAM)",
    )
    instances: PositiveInt = Field(default=1, description="copies of this level (per PE/SM...)")
    holds: tuple[Operand, ...] = Field(min_length=1, description="operands stored here")
    bandwidth_bytes_per_s: PositiveFloat | None = Field(
        default=None, description="bandwidth of one instance (give this or bytes_per_cycle)"
    )
    bytes_per_cycle: PositiveFloat | None = Field(
        default=None, description="bytes per compute-clock cycle of one instance"
    )
    access_width_bits: PositiveInt | None = Field(
        default=None, description="width of one access, which the energies below refer to"
    )
    read_energy_pj: PositiveFloat | None = Field(default=None, description="energy per read")
    write_energy_pj: PositiveFloat | None = Field(default=None, description="energy per write")
    ports: PositiveInt = Field(default=1, description="independent access ports")
    double_buffered: bool = Field(default=False, description="fill and drain overlap")

    @model_validator(mode="after")
    def _check(self) -> MemoryLevel:
        seen: set[str] = set()
        for operand in self.holds:
            if operand in seen:
                raise _fail("holds", f"lists '{operand}' twice; list each operand once")
            seen.add(operand)
        if self.bandwidth_bytes_per_s is not None and self.bytes_per_cycle is not None:
            raise _fail(
                "bytes_per_cycle",
                "give either bandwidth_bytes_per_s or bytes_per_cycle, not both",
            )
        has_energy = self.read_energy_pj is not None or self.write_energy_pj is not None
        if has_energy and self.access_width_bits is None:
            raise _fail(
                "access_width_bits",
                "is required when read_energy_pj or write_energy_pj is given",
            )
        return self

    @property
    def total_capacity_bytes(self) -> int | None:
        """Capacity summed over all instances (None when unbounded)."""
        if self.capacity_bytes is None:
            return None
        return self.capacity_bytes * self.instances

    def bandwidth(self, clock_hz: float) -> float | None:
        """Bandwidth of one instance in bytes/s (None when not published)."""
        if self.bandwidth_bytes_per_s is not None:
            return self.bandwidth_bytes_per_s
        if self.bytes_per_cycle is not None:
            return self.bytes_per_cycle * clock_hz
        return None


class HardwareSpec(_Frozen):
    """A complete accelerator description."""

    name: str = Field(min_length=1, description="display name")
    kind: TemplateKind = Field(description="template family")
    description: str = Field(default="", description="free text")
    compute: ComputeFabric
    memory: tuple[MemoryLevel, ...] = Field(
        min_length=1, description="levels ordered from innermost to DRAM"
    )
    dataflow: Dataflow
    tech_node_nm: PositiveFloat | None = Field(
        default=None, description="process node; None when not published"
    )
    power_w: PositiveFloat | None = Field(
        default=None, description="TDP, or the published power figure its source names"
    )
    die_area_mm2: PositiveFloat | None = Field(default=None, description="die area")
    published_peak_ops_per_s: dict[Precision, PositiveFloat] = Field(
        default_factory=dict,
        description="vendor peak (dense, 2 ops per MAC); checked against the computed peak",
    )
    sources: dict[str, str] = Field(
        default_factory=dict,
        description="dotted field path (e.g. 'compute.clock_hz', 'memory.HBM.capacity_bytes')"
        " -> where the number comes from",
    )
    references: dict[str, str] = Field(
        default_factory=dict,
        description="short key used in sources (e.g. 'DS') -> full citation",
    )

    @model_validator(mode="after")
    def _check(self) -> HardwareSpec:
        allowed = DATAFLOWS_BY_KIND[self.kind]
        if self.dataflow not in allowed:
            raise _fail(
                "dataflow",
                f"'{self.dataflow}' does not fit kind '{self.kind}'; use one of "
                + ", ".join(allowed),
            )
        names: set[str] = set()
        last = len(self.memory) - 1
        for i, level in enumerate(self.memory):
            if level.name in names:
                raise _fail(
                    f"memory[{i}].name",
                    f"'{level.name}' is used twice; give each level its own name",
                )
            names.add(level.name)
            if level.capacity_bytes is None and i != last:
                raise _fail(
                    f"memory[{i}].capacity_bytes",
                    "is required for every level but the outermost (DRAM)",
                )
        for operand in OPERANDS:
            chain = [(i, lv) for i, lv in enumerate(self.memory) if operand in lv.holds]
            if not chain:
                raise _fail(
                    "memory",
                    f"no level holds '{operand}'; add it to the 'holds' of some level",
                )
            for (i, inner), (_, outer) in itertools.pairwise(chain):
                inner_total = inner.total_capacity_bytes
                outer_total = outer.total_capacity_bytes
                if (
                    inner_total is not None
                    and outer_total is not None
                    and inner_total > outer_total
                ):
                    raise _fail(
                        f"memory[{i}].capacity_bytes",
                        f"level '{inner.name}' ({inner_total} bytes in all) is larger than "
                        f"outer level '{outer.name}' ({outer_total} bytes) that also holds "
                        f"'{operand}'; order levels from innermost to DRAM",
                    )
        for precision, published in self.published_peak_ops_per_s.items():
            field = f"published_peak_ops_per_s.{precision}"
            if precision not in self.compute.macs_per_pe_per_cycle:
                raise _fail(
                    field,
                    f"precision '{precision}' is not in compute.macs_per_pe_per_cycle; "
                    "add it there or drop the figure",
                )
            computed = self.compute.peak_ops_per_s(precision)
            if abs(computed - published) > PEAK_TOLERANCE * published:
                raise _fail(
                    field,
                    f"{published:.4g} differs from the computed peak {computed:.4g} "
                    "(2 x rows x cols x cores x MACs/PE/cycle x clock_hz) by more than "
                    f"{PEAK_TOLERANCE:.0%}; fix the compute fields or the figure",
                )
        valid = set(self.field_paths())
        for key in self.sources:
            if key not in valid:
                raise _fail(
                    "sources",
                    f"key '{key}' names no field that is set; use a dotted path such as "
                    "'compute.clock_hz' or 'memory.<level name>.capacity_bytes'",
                )
        return self

    # ------------------------------------------------------------------ queries
    @property
    def precisions(self) -> tuple[Precision, ...]:
        return self.compute.precisions

    @property
    def default_precision(self) -> Precision:
        """What a model runs at when none is asked for: fp32 where the hardware computes it,
        else its first supported precision (e.g. int8 on a TPU v1)."""
        return "fp32" if "fp32" in self.precisions else self.precisions[0]

    def run_precision(self, requested: str | None = None) -> str:
        """The precision a model runs at on this hardware: ``requested`` when given, else
        :attr:`default_precision` (the library's decision for every front end)."""
        return requested or self.default_precision

    def precision_source(self, requested: str | None = None) -> str:
        """Where :meth:`run_precision`'s answer comes from, in words (for reports)."""
        if requested:
            return "asked"
        if self.default_precision == "fp32":
            return "default: fp32, which the hardware computes"
        return f"default: {self.default_precision}, the hardware's first precision (no fp32)"

    def peak_ops_per_s(self, precision: Precision) -> float:
        """Computed peak ops/s (2 per MAC) at ``precision``."""
        return self.compute.peak_ops_per_s(precision)

    def level(self, name: str) -> MemoryLevel:
        for level in self.memory:
            if level.name == name:
                return level
        names = ", ".join(lv.name for lv in self.memory)
        raise HardwareSpecError(f"hardware field 'memory': no level named '{name}' (have {names})")

    def levels_holding(self, operand: Operand) -> tuple[MemoryLevel, ...]:
        """Levels that hold ``operand``, innermost first."""
        return tuple(lv for lv in self.memory if operand in lv.holds)

    @property
    def dram(self) -> MemoryLevel:
        """The outermost level."""
        return self.memory[-1]

    def field_paths(self) -> Iterator[str]:
        """Every dotted path a ``sources`` key may name (set fields and their parents)."""
        for path, _ in _walk(
            self.model_dump(exclude_none=True, exclude={"sources", "references"}), self
        ):
            yield path

    def numeric_fields(self, *, include_defaults: bool = False) -> dict[str, float]:
        """Dotted path -> value for every number set in this spec.

        With ``include_defaults=False`` numbers equal to the field default (``cores: 1``,
        ``ports: 1``, ``instances: 1``) are left out: those are the numbers a data file
        states and must cite.
        """
        data = self.model_dump(
            exclude_none=True,
            exclude={"sources", "references"},
            exclude_defaults=not include_defaults,
        )
        out: dict[str, float] = {}
        for path, value in _walk(data, self):
            if isinstance(value, bool):
                continue
            if isinstance(value, int | float):
                out[path] = float(value)
        return out

    def unsourced_fields(self) -> list[str]:
        """Numeric fields (as in :meth:`numeric_fields`) that have no ``sources`` entry."""
        return [p for p in self.numeric_fields() if p not in self.sources]


def _walk(data: Mapping[str, Any], spec: HardwareSpec | None = None) -> Iterator[tuple[str, Any]]:
    """Yield (dotted path, value) for a dumped spec; memory levels are addressed by name."""

    def rec(prefix: str, value: Any) -> Iterator[tuple[str, Any]]:
        if isinstance(value, Mapping):
            if prefix:
                yield prefix, value
            for key, sub in value.items():
                path = f"{prefix}.{key}" if prefix else str(key)
                if path == "memory" and isinstance(sub, list | tuple):
                    yield path, sub
                    for level in sub:
                        name = level.get("name", "?") if isinstance(level, Mapping) else "?"
                        yield from rec(f"memory.{name}", level)
                else:
                    yield from rec(path, sub)
        else:
            yield prefix, value

    yield from rec("", data)


# --------------------------------------------------------------------- conversion
def _format_loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_PREFIXED = re.compile(r"^(?:Value error, )?([A-Za-z_][\w.\[\]-]*): (.*)$", re.DOTALL)


def _spec_error(err: ValidationError, root: str = "") -> HardwareSpecError:
    """Turn the first pydantic error into a one-line HardwareSpecError naming the field."""
    first = err.errors(include_url=False)[0]
    loc = tuple(first.get("loc", ()))
    kind = first.get("type", "")
    ctx = first.get("ctx") or {}
    value = first.get("input")
    message = str(first.get("msg", "invalid value"))
    path = _format_loc(loc)
    if kind == "value_error":
        match = _PREFIXED.match(message)
        if match:
            sub, message = match.group(1), match.group(2)
            joiner = "" if sub.startswith("[") or not path else "."
            path = f"{path}{joiner}{sub}"
        else:
            message = message.removeprefix("Value error, ")
    elif kind == "greater_than":
        message = f"must be > {ctx.get('gt')} (got {_short(value)})"
    elif kind == "missing":
        message = "is required"
    elif kind == "extra_forbidden":
        message = "is not a known field; remove it or fix its spelling (see docs/hardware.md)"
    elif kind == "literal_error":
        message = f"must be {ctx.get('expected')} (got {_short(value)})"
    elif kind == "too_short":
        message = "must not be empty"
    elif kind == "finite_number":
        message = f"must be a finite number (got {_short(value)})"
    elif kind == "string_pattern_mismatch":
        message = (
            f"must start with a letter and use only letters, digits, '_' and '-' "
            f"(got {_short(value)})"
        )
    else:
        message = f"{message[:1].lower()}{message[1:]} (got {_short(value)})"
    if root:
        path = f"{root}.{path}" if path else root
    return HardwareSpecError(_one_line(f"hardware field '{path or '<root>'}': {message}"))


_SOURCED_KEYS = {"value", "source"}


def _lift_sources(data: Any, path: str, sources: dict[str, str]) -> Any:
    """Replace ``{value: X, source: "..."}`` by X and record the source under ``path``."""
    if isinstance(data, Mapping):
        if set(data) == _SOURCED_KEYS:
            sources[path] = str(data["source"])
            return data["value"]
        out: dict[str, Any] = {}
        for key, sub in data.items():
            sub_path = f"{path}.{key}" if path else str(key)
            if sub_path == "memory" and isinstance(sub, list):
                levels = []
                for level in sub:
                    name = level.get("name", "?") if isinstance(level, Mapping) else "?"
                    levels.append(_lift_sources(level, f"memory.{name}", sources))
                out[key] = levels
            elif sub_path == "sources":
                out[key] = sub
            else:
                out[key] = _lift_sources(sub, sub_path, sources)
        return out
    return data


def hardware_from_dict(data: Mapping[str, Any]) -> HardwareSpec:
    """Validate a plain mapping (as read from YAML/JSON) into a :class:`HardwareSpec`.

    Any number may be written as ``{value: X, source: "..."}``; the source is moved into
    ``sources`` under the field's dotted path.
    """
    if not isinstance(data, Mapping):
        raise HardwareSpecError(
            f"hardware field '<root>': must be a mapping of fields (got {type(data).__name__})"
        )
    lifted_sources: dict[str, str] = {}
    lifted = _lift_sources(data, "", lifted_sources)
    if lifted_sources:
        explicit = lifted.get("sources") or {}
        if not isinstance(explicit, Mapping):
            raise HardwareSpecError("hardware field 'sources': must be a mapping path -> source")
        lifted["sources"] = {**lifted_sources, **explicit}
    try:
        return HardwareSpec.model_validate(lifted)
    except ValidationError as err:
        raise _spec_error(err) from None


def hardware_to_dict(spec: HardwareSpec) -> dict[str, Any]:
    """A JSON-compatible mapping that :func:`hardware_from_dict` turns back into ``spec``."""
    return spec.model_dump(mode="json", exclude_none=True)


def dump_hardware(spec: HardwareSpec, fmt: Literal["yaml", "json"] = "yaml") -> str:
    data = hardware_to_dict(spec)
    if fmt == "json":
        return json.dumps(data, indent=2) + "\n"
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def parse_hardware(
    text: str, fmt: Literal["yaml", "json"] = "yaml", *, origin: str = ""
) -> HardwareSpec:
    """Parse YAML or JSON text into a spec; ``origin`` names the file in error messages."""
    where = f" in {origin}" if origin else ""
    try:
        data = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    except json.JSONDecodeError as err:
        raise HardwareSpecError(
            _one_line(
                f"hardware description{where} is not valid JSON: {err.msg} "
                f"(line {err.lineno}, column {err.colno})"
            )
        ) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(err, "problem", None) or "syntax error"
        raise HardwareSpecError(
            _one_line(f"hardware description{where} is not valid YAML: {problem}{at}")
        ) from None
    if data is None:
        raise HardwareSpecError(f"hardware description{where} is empty; see docs/hardware.md")
    try:
        return hardware_from_dict(data)
    except HardwareSpecError as err:
        if not origin:
            raise
        raise HardwareSpecError(f"{err} (in {origin})") from None
