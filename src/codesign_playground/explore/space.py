"""The design-space file: hardware and model knobs, constraints, objectives and search settings.

A space is YAML validated with pydantic (:class:`Space`); ``docs/explore-space-schema.json``
is its JSON Schema (:func:`space_json_schema`). Every knob is finite: a single value, a list
of choices, or a range expanded to choices (``{min, max, step}`` linear, ``{min, max,
factor}`` geometric, or ``{min, max, num, log}``). See ``docs/explore.md``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from codesign_playground.errors import InputError
from codesign_playground.hardware import TEMPLATES, DesignTemplate, get_template
from codesign_playground.units import PRECISION_BITS, Precision

__all__ = [
    "DEFAULT_MAX_POINTS",
    "HARDWARE_KNOBS",
    "MAX_BUDGET",
    "MAX_EPOCHS",
    "MAX_RANGE_VALUES",
    "MAX_SEED",
    "METRICS",
    "STRATEGIES",
    "AccuracySource",
    "BitGroup",
    "Constraints",
    "HardwareSpace",
    "Knob",
    "ModelSpace",
    "Objective",
    "Range",
    "SearchSettings",
    "Space",
    "Strategy",
    "bits_to_precision",
    "load_space",
    "space_from_dict",
    "space_json_schema",
    "space_size",
]

Scalar = int | float | str
Strategy = Literal["grid", "random", "nsga2", "tpe"]
"""Search strategies (``explore/search.py``)."""
STRATEGIES: tuple[str, ...] = get_args(Strategy)

MAX_RANGE_VALUES = 1_000_000
"""Most values one range may expand to (a knob with more choices is a typo, not a design)."""

DEFAULT_MAX_POINTS = 10_000_000
"""Default limit on a space's size (the product of its knobs' choice counts)."""

MAX_SEED = 2**32 - 1
"""Largest seed: NumPy's and optuna's samplers take seeds in [0, 2^32)."""

MAX_BUDGET = 10_000_000
"""Most evaluations one search may be asked for."""

MAX_EPOCHS = 1000
"""Most digits training epochs per configuration."""

_HUGE = 2**62  # stands for "more than any limit" when a count is not even finite


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Range(_Strict):
    """A numeric range expanded to a finite list of choices (both ends included when hit)."""

    min: float = Field(description="smallest value")
    max: float = Field(description="largest value")
    step: float | None = Field(default=None, gt=0, description="linear step: min, min+step, ...")
    factor: float | None = Field(
        default=None, gt=1, description="geometric step: min, min*factor, ... (e.g. 2)"
    )
    num: int | None = Field(
        default=None, ge=2, le=MAX_RANGE_VALUES, description="number of evenly spaced values"
    )
    log: bool = Field(default=False, description="with num: space the values geometrically")

    @model_validator(mode="after")
    def _check(self) -> Range:
        given = [x is not None for x in (self.step, self.factor, self.num)]
        if sum(given) != 1:
            raise ValueError("range: give exactly one of step, factor or num")
        if self.max < self.min:
            raise ValueError(f"range: max ({self.max:g}) is below min ({self.min:g})")
        if (self.factor is not None or self.log) and self.min <= 0:
            raise ValueError("range: a geometric range needs min > 0")
        n = self.count()
        if n > MAX_RANGE_VALUES:
            what = "step" if self.step is not None else "factor"
            raise ValueError(
                f"range: {'more than ' if n >= _HUGE else ''}{min(n, _HUGE):.3g} values between "
                f"min and max; at most {MAX_RANGE_VALUES} per knob: raise {what}"
            )
        return self

    def count(self) -> int:
        """How many values :meth:`values` yields, in O(1) (no expansion; exact up to rounding
        at the ends, which the limits do not care about)."""
        if self.num is not None:
            return self.num
        if self.step is not None:
            k = (self.max - self.min) / self.step + 1e-9
        else:
            assert self.factor is not None
            k = math.log(self.max * (1 + 1e-9) / self.min) / math.log(self.factor)
        if not math.isfinite(k) or k >= _HUGE:
            return _HUGE
        return math.floor(k) + 1

    def values(self) -> list[float]:
        out: list[float] = []
        if self.step is not None:
            n = math.floor((self.max - self.min) / self.step + 1e-9)
            out = [self.min + i * self.step for i in range(n + 1)]
        elif self.factor is not None:
            v = self.min
            while v <= self.max * (1 + 1e-9):
                out.append(v)
                v *= self.factor
        else:
            assert self.num is not None
            if self.log:
                lo, hi = math.log(self.min), math.log(self.max)
                out = [math.exp(lo + (hi - lo) * i / (self.num - 1)) for i in range(self.num)]
            else:
                out = [
                    self.min + (self.max - self.min) * i / (self.num - 1) for i in range(self.num)
                ]
        return [round(v, 12) for v in out]


Param = Scalar | list[Scalar] | Range


class HardwareSpace(BaseModel):
    """One hardware template and its knobs (``docs/explore.md``).

    ``template`` names a design template (``systolic``, ``spatial``, ``vector``, ``gpu`` or
    ``catalog``); every other key is one of its knobs (``codesign_playground.hardware.designs``
    lists them with their bounds; a knob left out keeps the template's default). In a mixed
    space, ``label`` names the alternative in reports (default: the template, or the chip).
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    template: str = Field(default="systolic", description="design template")
    label: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z][A-Za-z0-9_-]*$",
        description="name of this alternative in a mixed space",
    )

    @model_validator(mode="before")
    @classmethod
    def _knobs(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        out = dict(data)
        template = get_template(str(out.get("template", "systolic")))
        defaults = template.defaults()
        for k in template.knobs:
            if defaults.get(k.name) is None and not k.optional and data.get(k.name) is None:
                raise ValueError(
                    f"{k.name}: the {template.name} template needs it ({k.description})"
                )
        problems: list[str] = []  # every knob's problem at once, each with its path
        for key, value in data.items():
            if key in ("template", "label"):
                continue
            try:
                template.knob(key)  # unknown knob: an error naming the template's knobs
            except InputError as err:
                problems.append(f"{key}: {str(err).split(': ', 1)[-1]}")
                continue
            if isinstance(value, Mapping):
                try:
                    out[key] = Range.model_validate(dict(value))
                except ValidationError as err:
                    problems += [
                        f"{_format_loc((key, *e['loc']))}: {_clean_msg(e['msg'])}"
                        for e in err.errors()
                    ]
            elif value is not None and not isinstance(value, int | float | str | list | Range):
                problems.append(f"{key}: give a value, a list of choices or a range")
        if problems:
            raise ValueError(_SEP.join(problems))
        return out

    @property
    def design_template(self) -> DesignTemplate:
        return get_template(self.template)

    def params(self) -> dict[str, Param]:
        """Every knob of the template, given or defaulted (``None`` defaults are left out:
        the knob is then decided by the model, e.g. the precision), in the template's order."""
        extra = self.model_extra or {}
        defaults = self.design_template.defaults()
        out: dict[str, Param] = {}
        for k in self.design_template.knob_names:
            v = extra.get(k, defaults.get(k))
            if v is not None:
                out[k] = v
        return out

    def display_label(self) -> str:
        if self.label:
            return self.label
        chip = (self.model_extra or {}).get("chip")
        return str(chip) if isinstance(chip, str) else self.template


#: The systolic template's knobs (the default template of a space).
HARDWARE_KNOBS: tuple[str, ...] = get_template("systolic").knob_names


class BitGroup(_Strict):
    """Bit widths for a group of layers (op names or ``fnmatch`` patterns)."""

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", description="group name (knob prefix)")
    layers: list[str] = Field(min_length=1, description="op names or patterns, e.g. 'conv1*'")
    weight_bits: Param | None = Field(default=None, description="weight bits: 4, 8, 16, 32")
    act_bits: Param | None = Field(default=None, description="activation bits")


class ModelSpace(_Strict):
    """The model and its knobs; a knob left out keeps the model's default."""

    name: str = Field(
        description="zoo model (resnet50, mobilenet_v2, ...), 'digits_cnn', or a model file"
    )
    batch: int = Field(default=1, ge=1, le=65536, description="batch size")
    dims: dict[str, Annotated[int, Field(ge=1, le=2**24)]] | None = Field(
        default=None,
        max_length=64,
        description="ONNX model file: sizes of its symbolic input dimensions (--dim NAME=SIZE)",
    )
    allow_unresolved: bool = Field(
        default=False,
        description="ONNX or .pt2 file: leave out arithmetic ops whose shapes cannot be sized",
    )
    width: Param | None = Field(default=None, description="width multiplier (zoo/digits_cnn)")
    resolution: Param | None = Field(default=None, description="input resolution (vision zoo)")
    seq_len: Param | None = Field(default=None, description="sequence length (language zoo)")
    prune: Param | None = Field(
        default=None, description="structured channel-pruning ratio in [0, 1) (CNNs)"
    )
    bits: Param | None = Field(
        default=None, description="bits of weights and activations together (4, 8, 16, 32)"
    )
    weight_bits: Param | None = Field(default=None, description="weight bits of every layer")
    act_bits: Param | None = Field(default=None, description="activation bits of every layer")
    groups: list[BitGroup] = Field(
        default_factory=list, description="per-group bit widths overriding the above"
    )

    @model_validator(mode="after")
    def _check(self) -> ModelSpace:
        if self.bits is not None and (self.weight_bits is not None or self.act_bits is not None):
            raise ValueError("model.bits: give bits or weight_bits/act_bits, not both")
        names = [g.name for g in self.groups]
        if len(set(names)) != len(names):
            raise ValueError("model.groups: group names must be unique")
        return self


class AccuracySource(_Strict):
    """Where accuracy comes from: a table (inline or CSV) of measured values, or the digits demo.

    Table rows name model knobs and an ``accuracy``; a point matches a row when every knob the
    row names has the row's value. Points matching no row get no accuracy.
    """

    table: list[dict[str, Scalar]] | None = Field(
        default=None, description="rows of knob values and 'accuracy' (0-1 or percent)"
    )
    csv: str | None = Field(default=None, description="CSV with knob columns and 'accuracy'")
    measure: Literal["digits"] | None = Field(
        default=None, description="'digits': train the digits CNN with QAT and measure"
    )
    epochs: int = Field(
        default=30, ge=1, le=MAX_EPOCHS, description="digits: training epochs per config"
    )
    cache: str | None = Field(
        default=None, description="digits: CSV cache (default: digits_accuracy.csv in --out)"
    )

    @model_validator(mode="after")
    def _check(self) -> AccuracySource:
        if sum(x is not None for x in (self.table, self.csv, self.measure)) != 1:
            raise ValueError("accuracy: give exactly one of table, csv or measure")
        return self


class Constraints(_Strict):
    """Limits a design must meet to be feasible (all optional)."""

    max_area_mm2: float | None = Field(default=None, gt=0)
    max_power_w: float | None = Field(default=None, gt=0)
    max_latency_s: float | None = Field(default=None, gt=0)
    min_fps: float | None = Field(default=None, gt=0, description="inferences per second")
    max_energy_j: float | None = Field(default=None, gt=0)
    max_sram_kb: float | None = Field(default=None, gt=0, description="total on-chip SRAM")
    weights_on_chip: bool = Field(default=False, description="all weights must fit the filter SRAM")
    min_accuracy: float | None = Field(default=None, description="points with no accuracy fail")


METRICS: dict[str, tuple[str, str]] = {
    # name: (column, default goal)
    "latency": ("latency_s", "min"),
    "energy": ("energy_j", "min"),
    "area": ("area_mm2", "min"),
    "power": ("power_w", "min"),
    "edp": ("edp_js", "min"),
    "throughput_per_watt": ("inferences_per_j", "max"),
    "fps": ("fps", "max"),
    "accuracy": ("accuracy", "max"),
}


class Objective(_Strict):
    """A metric and whether to minimize or maximize it (default: the natural goal)."""

    metric: Literal[
        "latency", "energy", "area", "power", "edp", "throughput_per_watt", "fps", "accuracy"
    ]
    goal: Literal["min", "max"] | None = None

    @property
    def column(self) -> str:
        return METRICS[self.metric][0]

    @property
    def direction(self) -> str:
        return self.goal or METRICS[self.metric][1]


class SearchSettings(_Strict):
    """Defaults for the search (the CLI and ``run_exploration`` arguments override them)."""

    strategy: Strategy = "grid"
    budget: int | None = Field(
        default=None, ge=1, le=MAX_BUDGET, description="evaluations (grid: all)"
    )
    time_budget_s: float | None = Field(default=None, gt=0, description="stop after this time")
    seed: int = Field(default=0, ge=0, le=MAX_SEED, description="random seed (0 to 2^32-1)")
    batch_size: int = Field(default=64, ge=2, le=65536, description="points per ask/tell batch")


class Space(_Strict):
    """A design space: what varies, what must hold, what to optimize."""

    name: str = Field(default="space", description="display name")
    model: ModelSpace
    hardware: HardwareSpace | list[HardwareSpace] = Field(
        default_factory=HardwareSpace,
        description="one template's knobs, or a list of alternatives (a mixed space)",
    )
    accuracy: AccuracySource | None = None
    constraints: Constraints = Field(default_factory=Constraints)
    objectives: list[Objective | str] = Field(
        min_length=1, description="metrics to optimize, e.g. [latency, energy]"
    )
    search: SearchSettings = Field(default_factory=SearchSettings)

    def alternatives(self) -> list[HardwareSpace]:
        """The hardware alternatives (one for a single-template space)."""
        return list(self.hardware) if isinstance(self.hardware, list) else [self.hardware]

    @property
    def mixed(self) -> bool:
        return isinstance(self.hardware, list) and len(self.hardware) > 1

    @model_validator(mode="after")
    def _check(self) -> Space:
        alts = self.alternatives()
        if not alts:
            raise ValueError("hardware: give at least one alternative")
        labels = [a.display_label() for a in alts]
        for lab in labels:
            if labels.count(lab) > 1:
                raise ValueError(
                    f"hardware: two alternatives are called {lab!r}; give each a distinct label"
                )
        seen = set()
        for obj in self.objective_list():
            if obj.metric in seen:
                raise ValueError(f"objectives: {obj.metric} is listed twice")
            seen.add(obj.metric)
            if obj.metric == "accuracy" and self.accuracy is None:
                raise ValueError(
                    "objectives: accuracy needs an 'accuracy' section (a measured table, "
                    "a CSV or measure: digits)"
                )
        if self.constraints.min_accuracy is not None and self.accuracy is None:
            raise ValueError("constraints.min_accuracy: needs an 'accuracy' section")
        return self

    def objective_list(self) -> list[Objective]:
        out = []
        for o in self.objectives:
            if isinstance(o, str):
                if o not in METRICS:
                    raise ValueError(
                        f"objectives: unknown metric {o!r}; use one of {', '.join(METRICS)}"
                    )
                out.append(Objective(metric=o))
            else:
                out.append(o)
        return out


# ----------------------------------------------------------------------------- knobs
_BITS: dict[int, Precision] = {4: "int4", 8: "int8", 16: "int16", 32: "fp32"}


def bits_to_precision(value: Scalar, field: str) -> Precision:
    """4/8/16/32 bits (or a precision name) as the IR's :data:`Precision`."""
    if isinstance(value, str):
        v = value.strip().lower()
        if v in PRECISION_BITS:
            return v  # type: ignore[return-value]
        if v.isdigit():
            value = int(v)
    if isinstance(value, int | float) and float(value).is_integer() and int(value) in _BITS:
        return _BITS[int(value)]
    raise InputError(
        f"{field}: {value!r} is not a modelled bit width; use 4, 8, 16 or 32 (or a precision "
        f"name: {', '.join(PRECISION_BITS)})"
    )


@dataclass(frozen=True)
class Knob:
    """One varying (or fixed) knob: its flat name, its choices and whether they are ordered."""

    name: str
    values: tuple[Scalar, ...]
    section: Literal["hardware", "model"]
    alternative: int | None = None  # hardware knobs: index of their alternative
    knob: str = ""  # the template's knob name (``name`` carries a label prefix when mixed)

    @property
    def ordered(self) -> bool:
        return all(isinstance(v, int | float) for v in self.values)


def _expand(field: str, param: Param) -> tuple[Scalar, ...]:
    if isinstance(param, Range):
        vals: list[Scalar] = list(param.values())
    elif isinstance(param, list):
        vals = list(param)
    else:
        vals = [param]
    if not vals:
        raise InputError(f"{field}: the list of choices is empty; give at least one value")
    # order-keeping de-duplication in O(n) (a dict, not a list scan: 10^5 choices once took
    # minutes); equal numbers (2 and 2.0) hash alike, so they merge as before
    seen: dict[Scalar, None] = {}
    for v in vals:
        if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
            v = int(v)
        seen.setdefault(v, None)
    return tuple(seen)


def _param_count(param: Param | None) -> int:
    if param is None:
        return 1
    if isinstance(param, Range):
        return param.count()
    if isinstance(param, list):
        return max(len(param), 1)
    return 1


def space_size(space: Space) -> int:
    """The number of points of ``space`` (product of its knobs' choice counts), computed
    without expanding any range; an upper bound when lists repeat values."""
    m = space.model
    params: list[Param | None] = [
        getattr(m, n) for n in ("width", "resolution", "seq_len", "prune", "bits")
    ]
    params += [m.weight_bits, m.act_bits]
    params += [p for g in m.groups for p in (g.weight_bits, g.act_bits)]
    total = 1
    for p in params:
        total = min(total * _param_count(p), _HUGE)
    hardware = 0  # a mixed space's alternatives add up (each has its own knobs)
    for alt in space.alternatives():
        size = 1
        for p in alt.params().values():
            size = min(size * _param_count(p), _HUGE)
        hardware = min(hardware + size, _HUGE)
    return min(total * max(hardware, 1), _HUGE)


def space_knobs(space: Space) -> list[Knob]:
    """The knobs of ``space`` in a fixed order (hardware first, then model).

    A mixed space starts with the ``design`` knob (which alternative) and prefixes each
    alternative's knobs with its label (``systolic.rows``).
    """
    knobs: list[Knob] = []
    alts = space.alternatives()
    if space.mixed:
        labels = tuple(a.display_label() for a in alts)
        knobs.append(Knob("design", labels, "hardware", None, "design"))
    for a, hw in enumerate(alts):
        prefix = f"{hw.display_label()}." if space.mixed else ""
        template = hw.design_template
        for name, param in hw.params().items():
            where = f"hardware.{prefix}{name}"
            values = _expand(where, param)
            for v in values:
                template.check(name, v, where)
            knobs.append(Knob(f"{prefix}{name}", values, "hardware", a, name))
    m = space.model
    for name in ("width", "resolution", "seq_len", "prune", "bits", "weight_bits", "act_bits"):
        param = getattr(m, name)
        if param is not None:
            knobs.append(Knob(name, _expand(f"model.{name}", param), "model", None, name))
    for g in m.groups:
        for sub in ("weight_bits", "act_bits"):
            param = getattr(g, sub)
            if param is not None:
                knobs.append(
                    Knob(f"{g.name}.{sub}", _expand(f"model.groups.{sub}", param), "model")
                )
    _check_knob_values(knobs)
    return knobs


def _check_knob_values(knobs: Sequence[Knob]) -> None:
    """Model knobs (hardware knobs are checked by their template)."""
    for k in knobs:
        if k.section != "model":
            continue
        field = f"model.{k.name}"
        for v in k.values:
            if k.name in ("resolution", "seq_len") and not (isinstance(v, int) and v >= 1):
                raise InputError(f"{field}: {v!r} must be a whole number >= 1")
            if k.name == "prune" and not (isinstance(v, int | float) and 0 <= v < 1):
                raise InputError(f"{field}: {v!r} must be a ratio in [0, 1), e.g. 0.25")
            if k.name.endswith("bits"):
                bits_to_precision(v, field)
            if k.name == "width" and not (isinstance(v, int | float) and v > 0):
                raise InputError(f"{field}: {v!r} must be a number > 0")


# --------------------------------------------------------------------------- loading
_UNION_TAGS = ("int", "float", "str", "bool")


def _format_loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if _is_tag(part):
            continue  # pydantic's union-branch tags (e.g. 'function-after[_check(), Range]')
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "space"


def _clean_msg(msg: object) -> str:
    return str(msg).replace("Value error, ", "").replace("\n", " ")


_SEP = "\x1f"  # separates the problems one validator reports at once
_PATH_PREFIX = re.compile(r"^([A-Za-z_][\w.\[\]]*): ")


def _is_tag(part: object) -> bool:
    """A pydantic union-branch tag in a location (``int``, ``list[...]``, ``HardwareSpace``)."""
    return isinstance(part, str) and (part in _UNION_TAGS or "[" in part or part[:1].isupper())


def _describe(errors: Sequence[Any]) -> str:
    """Every validation problem, each with its path, on one line (``a.b: msg; c: msg``).

    Where a value may take several forms (a number, a list, a range, one alternative or a
    list of them), only the branch that got deepest is reported: for a knob given as a
    mapping that is the range's problem, not "Input should be a valid integer". A
    validator's message that starts with a sub-path (``rows.num: ...``) continues the path.
    """
    # the deepest branch of each union (grouped by the location before the branch tag)
    depth_of: dict[tuple[Any, ...], dict[object, int]] = {}
    for e in errors:
        loc = tuple(e["loc"])
        for i, part in enumerate(loc):
            if _is_tag(part):
                branches = depth_of.setdefault(loc[:i], {})
                branches[part] = max(branches.get(part, 0), len(loc))
    kept = []
    for e in errors:
        loc = tuple(e["loc"])
        ok = True
        for i, part in enumerate(loc):
            if _is_tag(part):
                branches = depth_of[loc[:i]]
                ok = ok and branches[part] == max(branches.values())
        if ok:
            kept.append(e)
    seen: set[tuple[Any, ...]] = set()
    out: list[str] = []
    for e in kept:
        path = tuple(p for p in e["loc"] if not _is_tag(p))
        if path in seen:  # one problem per place (a union's branches may repeat it)
            continue
        seen.add(path)
        where = _format_loc(path)
        for piece in _clean_msg(e["msg"]).split(_SEP):
            if where == "space":
                out.append(piece)
            elif _PATH_PREFIX.match(piece):
                out.append(f"{where}.{piece}")
            else:
                out.append(f"{where}: {piece}")
    return "; ".join(out)


def space_from_dict(data: Mapping[str, Any], *, max_points: int = DEFAULT_MAX_POINTS) -> Space:
    """Validate ``data`` as a :class:`Space`, raising :class:`InputError` on the first problem.

    The size is checked against ``max_points`` before any range is expanded."""
    try:
        space = Space.model_validate(dict(data))
    except ValidationError as err:
        raise InputError(f"space: {_describe(err.errors())}") from None
    except ValueError as err:  # raised by objective_list inside a validator
        raise InputError(f"space: {err}") from None
    size = space_size(space)
    if size > max_points:
        shown = f"more than {_HUGE:.3g}" if size >= _HUGE else f"{size:.3g}"
        raise InputError(
            f"space: the design space has {shown} points, above the limit of {max_points} "
            "(EXPLORE_MAX_POINTS); narrow the ranges or lists of the hardware and model knobs"
        )
    space_knobs(space)  # value checks
    return space


def load_space(path: str | Path, *, max_points: int = DEFAULT_MAX_POINTS) -> Space:
    """Read and validate a design-space YAML (or JSON) file."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"space: file not found: {p} (give a design-space YAML file)")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        line = getattr(getattr(err, "problem_mark", None), "line", None)
        where = f" at line {line + 1}" if line is not None else ""
        raise InputError(f"space: {p} is not valid YAML{where}; fix the syntax") from None
    if not isinstance(data, dict):
        raise InputError(f"space: {p} must hold a mapping with model, hardware, objectives, ...")
    return space_from_dict(data, max_points=max_points)


def space_json_schema() -> dict[str, Any]:
    """The JSON Schema of the design-space file."""
    schema = Space.model_json_schema()
    hw = schema["$defs"]["HardwareSpace"]
    hw["additionalProperties"] = {
        "anyOf": [
            {"type": "number"},
            {"type": "string"},
            {"type": "array", "items": {"anyOf": [{"type": "number"}, {"type": "string"}]}},
            {"$ref": "#/$defs/Range"},
        ],
        "description": "a knob of the template: a value, a list of choices or a range",
    }
    hw["x-knobs"] = {
        name: {k.name: k.description for k in get_template(name).knobs} for name in TEMPLATES
    }
    schema["title"] = "codesign-playground design space"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def space_digest(space: Space) -> str:
    """A stable digest of the space (to check a checkpoint belongs to it)."""
    text = json.dumps(space.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
