"""Read ZigZag 3.x accelerator and mapping YAML files into a spec and mapping constraints.

ZigZag (KU Leuven MICAS, https://github.com/KULeuven-MICAS/zigzag, ``zigzag/inputs``)
describes an accelerator as an ``operational_array`` (``unit_energy`` pJ per MAC, array
``dimensions`` D1..Dn with ``sizes``) and a list of ``memories``, innermost first, each with
``size`` in bits, ``r_cost``/``w_cost`` in pJ per access of one word of the port's maximum
bandwidth, ``ports`` (read/write/read_write with ``bandwidth_min``/``bandwidth_max`` in bits
per cycle and an operand allocation), the memory operands it holds (``I1``, ``I2``, ``O``)
and its ``served_dimensions`` (the array dimensions one instance serves; ``[]``: one per
PE). A mapping file lists, per layer name or operator type (or ``default``), the spatial
unrolling over D1..Dn and the ``memory_operand_links`` (layer operand ``W``/``I``/``O`` ->
memory operand).

How the fields land (every field is read; what the spatial model cannot honour is named in
a :class:`ZigZagWarning`):

* ``operational_array.sizes`` -> ``compute.rows`` = D1, ``compute.cols`` = product of the
  others; ``unit_energy`` -> ``compute.mac_energy_pj``; one int8 MAC per PE per cycle;
* each memory -> a :class:`~codesign_playground.hardware.spec.MemoryLevel`: ``size`` ->
  ``capacity_bytes``; ``r_cost``/``w_cost`` -> ``read_energy_pj``/``write_energy_pj`` with
  ``access_width_bits`` = the largest port bandwidth (ZigZag charges ``r_cost`` per
  ``bandwidth_max`` bits); ``bytes_per_cycle`` = the sum of the ports' ``bandwidth_max``;
  ``ports`` = the port count; ``served_dimensions`` ``[]`` -> one instance per PE, all
  dimensions -> one shared instance;
* the mapping's spatial unrollings -> :class:`MappingConstraints` in the mapper's loop names
  (ZigZag ``K``->``M``, ``C``->``C``, ``OX``->``Q``, ``OY``->``P``, ``FX``->``S``,
  ``FY``->``R``, ``B``/``D``->``N``); ZigZag's 16-bit partial sums -> ``partial_sum_bits``.

ZigZag gives no clock; cycles are exact, seconds use :data:`ASSUMED_CLOCK_HZ`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from codesign_playground.errors import HardwareSpecError
from codesign_playground.hardware.mapping_constraints import MappingConstraints
from codesign_playground.hardware.spec import HardwareSpec, Operand, hardware_from_dict

__all__ = [
    "ASSUMED_CLOCK_HZ",
    "ZigZagAccelerator",
    "ZigZagWarning",
    "is_zigzag_accelerator",
    "is_zigzag_mapping",
    "read_zigzag",
    "read_zigzag_mapping",
]

ASSUMED_CLOCK_HZ = 1.0e9
"""Clock used to turn ZigZag's cycles into seconds (its files give none)."""

PARTIAL_SUM_BITS = 16
"""ZigZag's intermediate output precision for 8-bit layers: twice the activation width
(``ONNXOperatorParser.get_intermediate_output_precision`` in zigzag-dse 3.9.1)."""

TIE_TOLERANCE = 0.01
"""Energies (latencies) within 1 % count as equal under the energy (latency) objective; the
model agrees with ZigZag's to a few percent per layer, so it cannot rank closer mappings."""

_LAYER_TO_OURS: dict[str, Operand] = {"W": "weights", "I": "inputs", "O": "outputs"}
_DEFAULT_LINKS: dict[str, str] = {"O": "O", "W": "I2", "I": "I1"}
_DIM_TO_OURS: dict[str, str] = {
    "K": "M",
    "C": "C",
    "OX": "Q",
    "OY": "P",
    "FX": "S",
    "FY": "R",
    "B": "N",
    "D": "N",
}
_MEMORY_KEYS = {
    "size",
    "r_cost",
    "w_cost",
    "area",
    "latency",
    "operands",
    "ports",
    "served_dimensions",
    "min_r_granularity",
    "min_w_granularity",
    "auto_cost_extraction",
}


class ZigZagWarning(UserWarning):
    """A field of a ZigZag file that the spatial model reads but cannot honour exactly."""


@dataclass(frozen=True)
class ZigZagAccelerator:
    """A ZigZag accelerator as a spec, with the constraints of its mapping file (if any)."""

    spec: HardwareSpec
    constraints: MappingConstraints | None
    warnings: tuple[str, ...]


def _load_yaml(path: Path, what: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise HardwareSpecError(f"{what} '{path}' cannot be read: {err}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise HardwareSpecError(f"{what} '{path}': not valid YAML ({err})") from None


def is_zigzag_accelerator(data: object) -> bool:
    """Whether parsed YAML is a ZigZag accelerator (``operational_array``, ``memories``)."""
    return isinstance(data, Mapping) and "operational_array" in data and "memories" in data


def is_zigzag_mapping(data: object) -> bool:
    """Whether parsed YAML looks like a ZigZag mapping file (a list of named entries)."""
    return (
        isinstance(data, list)
        and bool(data)
        and all(isinstance(e, Mapping) and "name" in e for e in data)
    )


def _field(where: str, message: str) -> HardwareSpecError:
    return HardwareSpecError(f"ZigZag field '{where}': {message}")


def _num(value: object, where: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _field(where, f"must be a number (got {value!r})")
    if positive and value <= 0:
        raise _field(where, f"must be > 0 (got {value!r})")
    return float(value)


def _entries(data: object, where: str) -> list[Mapping[str, Any]]:
    if not isinstance(data, list) or not is_zigzag_mapping(data):
        raise _field(where, "a mapping file is a list of entries, each with a 'name'")
    return [e for e in data if isinstance(e, Mapping)]


def _links(entries: Sequence[Mapping[str, Any]], where: str) -> dict[str, Operand]:
    """Memory operand (I1, I2, O) -> our operand, from the default entry's links."""
    chosen = next((e for e in entries if e.get("name") == "default"), entries[0])
    raw = chosen.get("memory_operand_links", _DEFAULT_LINKS)
    if not isinstance(raw, Mapping):
        raise _field(f"{where}.memory_operand_links", "must map W/I/O to I1/I2/O")
    out: dict[str, Operand] = {}
    for layer_op, mem_op in raw.items():
        if layer_op not in _LAYER_TO_OURS:
            raise _field(
                f"{where}.memory_operand_links.{layer_op}", "layer operand must be W, I or O"
            )
        out[str(mem_op)] = _LAYER_TO_OURS[layer_op]
    return out


def read_zigzag_mapping(
    path: str | Path,
    dims: Sequence[str] | None = None,
    sizes: Sequence[int] | None = None,
) -> tuple[MappingConstraints, dict[str, Operand], list[str]]:
    """Spatial unrollings (as constraints), memory-operand links and warnings of a mapping file.

    ``dims``/``sizes``: the accelerator's array dimensions (D1, ...) and their sizes; an
    unrolling larger than its array dimension is capped at it, as ZigZag does.
    """
    p = Path(path)
    entries = _entries(_load_yaml(p, "mapping file"), str(p))
    notes: list[str] = []
    links = _links(entries, str(p))
    spatial: dict[str, dict[str, int]] = {}
    for i, entry in enumerate(entries):
        name = str(entry["name"])
        where = f"{p.name}[{i}] ({name})"
        for key in entry:
            if key in ("name", "spatial_mapping", "memory_operand_links"):
                continue
            if key == "temporal_ordering":
                notes.append(
                    f"{where}.temporal_ordering: not honoured; the mapper searches the "
                    "temporal mapping"
                )
            else:
                notes.append(f"{where}.{key}: not honoured (unknown to the spatial mapper)")
        entry_links = entry.get("memory_operand_links")
        if isinstance(entry_links, Mapping):
            for layer_op, mem_op in entry_links.items():
                if links.get(str(mem_op)) != _LAYER_TO_OURS.get(str(layer_op)):
                    notes.append(
                        f"{where}.memory_operand_links: differs from the default entry's; the "
                        "spec uses one operand placement for every layer"
                    )
                    break
        sm = entry.get("spatial_mapping")
        if sm is None:
            continue
        if not isinstance(sm, Mapping):
            raise _field(f"{where}.spatial_mapping", "must map array dimensions to unrollings")
        factors: dict[str, int] = {}
        for dim, unrolls in sm.items():
            if dims is not None and dim not in dims:
                raise _field(
                    f"{where}.spatial_mapping.{dim}",
                    f"not an array dimension; the accelerator has {', '.join(dims)}",
                )
            for unroll in unrolls if isinstance(unrolls, list) else [unrolls]:
                parts = [s.strip() for s in str(unroll).split(",")]
                if len(parts) != 2 or not parts[1].isdigit() or int(parts[1]) < 1:
                    raise _field(
                        f"{where}.spatial_mapping.{dim}",
                        f"each unrolling is 'DIM, FACTOR' (got {unroll!r})",
                    )
                loop, factor = parts[0], int(parts[1])
                ours = _DIM_TO_OURS.get(loop)
                if ours is None:
                    if factor > 1:
                        notes.append(
                            f"{where}.spatial_mapping.{dim}: unrolling {loop} x{factor} not "
                            f"honoured (the mapper does not unroll {loop} spatially)"
                        )
                    continue
                if dims is not None and sizes is not None:
                    factor = min(factor, sizes[list(dims).index(dim)])  # ZigZag caps it too
                factors[ours] = factors.get(ours, 1) * factor
        spatial[name] = factors
    constraints = MappingConstraints(
        spatial=spatial,
        partial_sum_bits=PARTIAL_SUM_BITS,
        stationary_reads_once=True,
        onload_latency=True,
        shared_levels_apart=True,
        tie_tolerance=TIE_TOLERANCE,
        source=str(p),
    )
    return constraints, links, notes


def _ports(mem: Mapping[str, Any], where: str) -> tuple[float, float, int, list[str]]:
    """(largest bandwidth_max, summed bandwidth_max, port count, notes) of a memory's ports."""
    ports = mem.get("ports")
    if not isinstance(ports, list) or not ports:
        raise _field(f"{where}.ports", "list at least one port with bandwidth_min/bandwidth_max")
    notes: list[str] = []
    widest = 0.0
    total = 0.0
    max_by_type: dict[str, set[float]] = {}
    for j, port in enumerate(ports):
        pw = f"{where}.ports[{j}]"
        if not isinstance(port, Mapping):
            raise _field(pw, "must be a mapping with name, type, bandwidth_min, bandwidth_max")
        bw_max = _num(port.get("bandwidth_max"), f"{pw}.bandwidth_max", positive=True)
        bw_min = _num(port.get("bandwidth_min", bw_max), f"{pw}.bandwidth_min", positive=True)
        if bw_min < bw_max:
            notes.append(
                f"{pw}.bandwidth_min: {bw_min:g} < bandwidth_max {bw_max:g}; the model "
                "charges every access at bandwidth_max granularity (no minimum word size)"
            )
        ptype = str(port.get("type", "read_write"))
        max_by_type.setdefault(ptype, set()).add(bw_max)
        widest = max(widest, bw_max)
        total += bw_max
    if len(ports) > 1:
        notes.append(
            f"{where}.ports: {len(ports)} ports with their allocation to operands and "
            "directions are modelled as one combined bandwidth"
        )
    return widest, total, len(ports), notes


def read_zigzag(path: str | Path, mapping: str | Path | None = None) -> ZigZagAccelerator:
    """A ZigZag accelerator file (and optional mapping file) as a spec with constraints.

    Every field the spatial model cannot honour is named in a :class:`ZigZagWarning`
    (also returned in ``warnings``).
    """
    p = Path(path)
    data = _load_yaml(p, "hardware file")
    if not is_zigzag_accelerator(data):
        raise HardwareSpecError(
            f"hardware file '{p}': not a ZigZag accelerator (needs 'operational_array' and "
            "'memories')"
        )
    notes: list[str] = []
    for key in data:
        if key not in ("name", "memories", "operational_array"):
            notes.append(f"{p.name}.{key}: not honoured (unknown to the spatial model)")
    oa = data["operational_array"]
    if not isinstance(oa, Mapping):
        raise _field("operational_array", "must be a mapping")
    dims = [str(d) for d in oa.get("dimensions", [])]
    sizes_raw = oa.get("sizes")
    if not dims or not isinstance(sizes_raw, list) or len(sizes_raw) != len(dims):
        raise _field("operational_array.sizes", "give one size per entry of 'dimensions'")
    sizes = [
        int(_num(s, f"operational_array.sizes[{i}]", positive=True))
        for i, s in enumerate(sizes_raw)
    ]
    unit_energy = _num(oa.get("unit_energy"), "operational_array.unit_energy", positive=True)
    if "unit_area" in oa:
        notes.append(
            "operational_array.unit_area: not honoured (area comes from the technology tables)"
        )
    for key in oa:
        if key not in ("unit_energy", "unit_area", "dimensions", "sizes"):
            notes.append(f"operational_array.{key}: not honoured")
    pes = math.prod(sizes)

    links: dict[str, Operand] = dict((m, _LAYER_TO_OURS[lo]) for lo, m in _DEFAULT_LINKS.items())
    constraints: MappingConstraints | None = None
    if mapping is not None:
        constraints, links, mnotes = read_zigzag_mapping(mapping, dims, sizes)
        notes.extend(mnotes)
    else:
        notes.append(
            "no mapping file: memory operands linked as I1=inputs, I2=weights, O=outputs and "
            "the spatial unrolling is searched"
        )
        constraints = MappingConstraints(
            partial_sum_bits=PARTIAL_SUM_BITS,
            stationary_reads_once=True,
            onload_latency=True,
            shared_levels_apart=True,
            tie_tolerance=TIE_TOLERANCE,
            source=str(p),
        )

    memories = data["memories"]
    if not isinstance(memories, Mapping) or not memories:
        raise _field("memories", "must map memory names to their descriptions")
    levels: list[dict[str, Any]] = []
    sources: dict[str, str] = {
        "compute.mac_energy_pj": f"ZigZag file {p.name}: operational_array.unit_energy",
        "compute.clock_hz": "assumed 1 GHz: ZigZag files give no clock (cycles are exact)",
    }
    for mem_name, mem in memories.items():
        where = f"memories.{mem_name}"
        if not isinstance(mem, Mapping):
            raise _field(where, "must be a mapping")
        for key in mem:
            if key not in _MEMORY_KEYS:
                notes.append(f"{where}.{key}: not honoured (unknown field)")
        size_bits = _num(mem.get("size"), f"{where}.size", positive=True)
        r_cost = _num(mem.get("r_cost"), f"{where}.r_cost")
        w_cost = _num(mem.get("w_cost"), f"{where}.w_cost")
        if float(mem.get("area", 0) or 0) != 0:
            notes.append(f"{where}.area: not honoured (area comes from the technology tables)")
        if int(mem.get("latency", 1) or 1) != 1:
            notes.append(f"{where}.latency: {mem.get('latency')} cycles not honoured (1 assumed)")
        for key in ("min_r_granularity", "min_w_granularity"):
            if mem.get(key) is not None:
                notes.append(f"{where}.{key}: not honoured (full-word accesses assumed)")
        if mem.get("auto_cost_extraction"):
            raise _field(
                f"{where}.auto_cost_extraction",
                "CACTI cost extraction is not supported; give r_cost and w_cost",
            )
        ops_raw = mem.get("operands")
        if not isinstance(ops_raw, list) or not ops_raw:
            raise _field(f"{where}.operands", "list the memory operands it holds (I1, I2, O)")
        holds: list[Operand] = []
        for m_op in ops_raw:
            ours = links.get(str(m_op))
            if ours is None:
                notes.append(f"{where}.operands: {m_op} is linked to no layer operand; not stored")
                continue
            holds.append(ours)
        if not holds:
            continue
        widest, total_bw, n_ports, pnotes = _ports(mem, where)
        notes.extend(pnotes)
        served = [str(d) for d in mem.get("served_dimensions", [])]
        unknown = [d for d in served if d not in dims]
        if unknown:
            raise _field(f"{where}.served_dimensions", f"{unknown[0]} is not an array dimension")
        share = 1.0  # energy scale of a memory shared by a group of PEs, see below
        if not served:
            instances = pes
        elif set(served) == set(dims):
            instances = 1
        else:
            # One instance per group of PEs along the served dimensions: it multicasts a
            # read to (or reduces the writes of) the group. Modelled as one per PE with the
            # per-access energy scaled by groups / PEs, which counts one access per group
            # when the served dimensions unroll loops that do not index the operand.
            shared = math.prod(s for d, s in zip(dims, sizes, strict=True) if d in served)
            instances = pes
            share = 1.0 / shared
            notes.append(
                f"{where}.served_dimensions: {served} (one instance per {shared} PEs) "
                f"modelled as one per PE with 1/{shared} of the energy per access"
            )
        # ZigZag charges r_cost per bandwidth_max word, and a whole word for a smaller
        # transfer (ceil(bits / bandwidth_min)): a per-PE memory moves one element per access,
        # so its energy is per element when the word is wider (8-bit operands, 16-bit
        # partial sums: ZigZag's defaults for 8-bit layers)
        if instances == pes and len(holds) == 1:
            elem = PARTIAL_SUM_BITS if holds[0] == "outputs" else 8
            if widest > elem:
                notes.append(
                    f"{where}: a {widest:g}-bit word per {elem}-bit element access, as "
                    "ZigZag charges it"
                )
                widest = float(elem)
        level: dict[str, Any] = {
            "name": str(mem_name).replace(".", "_"),
            "capacity_bytes": max(1, math.ceil(size_bits / 8)),
            "instances": instances,
            "holds": holds,
            "bytes_per_cycle": total_bw / 8.0,
            "access_width_bits": int(widest),
            "ports": n_ports,
        }
        if r_cost > 0:
            level["read_energy_pj"] = r_cost * share
        if w_cost > 0:
            level["write_energy_pj"] = w_cost * share
        if r_cost <= 0 or w_cost <= 0:
            notes.append(f"{where}: a zero r_cost/w_cost is replaced by the other one")
        levels.append(level)
        sources[f"memory.{level['name']}"] = f"ZigZag file {p.name}: memories.{mem_name}"
    if not levels:
        raise _field("memories", "no memory holds an operand")
    spec_dict: dict[str, Any] = {
        "name": str(data.get("name", p.stem)),
        "kind": "spatial",
        "description": f"ZigZag accelerator {p.name}"
        + (f" with mapping {Path(mapping).name}" if mapping else ""),
        "compute": {
            "rows": sizes[0],
            "cols": max(1, pes // sizes[0]),
            "macs_per_pe_per_cycle": {"int8": 1.0},
            "clock_hz": ASSUMED_CLOCK_HZ,
            "mac_energy_pj": {"int8": unit_energy},
        },
        "memory": levels,
        "dataflow": "ws",
        "sources": sources,
    }
    spec = hardware_from_dict(spec_dict)
    for note in notes:
        warnings.warn(note, ZigZagWarning, stacklevel=2)
    return ZigZagAccelerator(spec=spec, constraints=constraints, warnings=tuple(notes))
