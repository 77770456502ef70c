"""Read Timeloop/Accelergy v0.4 architecture YAML (and an Accelergy ERT) into a spec.

A v0.4 architecture (https://github.com/Accelergy-Project/timeloop-accelergy-exercises,
``workspace/example_designs``) is a list of ``nodes``, outermost first: ``!Container``
nodes (an optional ``spatial: {meshX, meshY}`` fans everything below out), ``!Component``
nodes (storage such as ``DRAM``/``smartbuffer_SRAM``/``smartbuffer_RF``/``storage``, or the
compute unit ``intmac``) and ``!Parallel`` groups of components at the same level.

How the fields land (every field is read; what the spatial model cannot honour is named in
a :class:`TimeloopWarning`):

* storage -> a :class:`~codesign_playground.hardware.spec.MemoryLevel` (innermost first):
  ``depth`` x ``width`` bits -> ``capacity_bytes`` (DRAM: unbounded); ``width`` ->
  ``access_width_bits``; ``read_bandwidth``/``write_bandwidth`` (words of ``datawidth``
  bits per cycle) -> ``bytes_per_cycle`` (summed); the fan-out above it -> ``instances``;
  ``constraints.dataspace`` ``keep``/``bypass`` -> ``holds``;
* energies: from the Accelergy ERT when given (``read``/``write`` action energy of each
  component, pJ per ``width``-bit access; the MAC's ``compute``/``mac_random`` action),
  otherwise left out so the models use the project's technology tables;
* the fan-out product -> PEs (``rows`` = meshY product, ``cols`` = meshX product);
  ``multiplier_width`` -> the precision; a wider ``datawidth`` at an output-only level ->
  the partial-sum width; ``spatial`` constraint ``factors`` of 1 -> dimensions the mapper
  may not unroll; the container's ``technology`` -> ``tech_node_nm``.

Timeloop's clock is not in the file; seconds use 1 GHz (Timeloop's own GFLOPs "@1GHz").
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from codesign_playground.errors import HardwareSpecError
from codesign_playground.hardware.mapping_constraints import LOOP_DIMS, MappingConstraints
from codesign_playground.hardware.spec import HardwareSpec, Operand, hardware_from_dict

__all__ = [
    "TimeloopAccelerator",
    "TimeloopWarning",
    "is_timeloop_architecture",
    "read_timeloop",
    "read_timeloop_ert",
]

ASSUMED_CLOCK_HZ = 1.0e9
"""Timeloop reports cycles; its summary's GFLOPs are "@1GHz", so seconds use 1 GHz."""

_DATASPACES: dict[str, Operand] = {"Weights": "weights", "Inputs": "inputs", "Outputs": "outputs"}
_STORAGE_HINTS = ("dram", "sram", "rf", "regfile", "storage", "buffer", "register", "reg")
_COMPUTE_HINTS = ("mac", "compute", "alu", "multiplier")
_USED_ATTRS = {"depth", "width", "datawidth", "read_bandwidth", "write_bandwidth", "technology"}


class TimeloopWarning(UserWarning):
    """A field of a Timeloop/Accelergy file that the spatial model cannot honour exactly."""


@dataclass(frozen=True)
class TimeloopAccelerator:
    """A Timeloop architecture as a spec, with the constraints its nodes carry."""

    spec: HardwareSpec
    constraints: MappingConstraints | None
    warnings: tuple[str, ...]


class _Loader(yaml.SafeLoader):
    """Safe YAML loader that keeps Timeloop's ``!Container``/``!Component``/... tags."""


def _tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        data = loader.construct_mapping(node, deep=True)
        return {"!": suffix, **data}
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


_Loader.add_multi_constructor("!", _tagged)


def _load(path: Path, what: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise HardwareSpecError(f"{what} '{path}' cannot be read: {err}") from None
    try:
        # _Loader subclasses yaml.SafeLoader: no arbitrary objects
        return yaml.load(text, Loader=_Loader)  # nosec B506
    except yaml.YAMLError as err:
        raise HardwareSpecError(f"{what} '{path}': not valid YAML ({err})") from None


def is_timeloop_architecture(data: object) -> bool:
    """Whether parsed YAML looks like a Timeloop v0.4 architecture (``architecture.nodes``)."""
    return (
        isinstance(data, Mapping)
        and isinstance(data.get("architecture"), Mapping)
        and "nodes" in data["architecture"]
    )


def read_timeloop_ert(path: str | Path) -> dict[str, dict[str, float]]:
    """Component name -> action -> energy (pJ) from an Accelergy ERT or ERT_summary file."""
    p = Path(path)
    data = _load(p, "ERT file")
    out: dict[str, dict[str, float]] = {}
    if isinstance(data, Mapping) and "ERT_summary" in data:
        for entry in data["ERT_summary"].get("table_summary", []):
            name = _short(str(entry.get("name", "")))
            out[name] = {
                str(a["name"]): float(a.get("energy", 0.0)) for a in entry.get("actions", [])
            }
        return out
    if isinstance(data, Mapping) and "ERT" in data:
        for entry in data["ERT"].get("tables", []):
            name = _short(str(entry.get("name", "")))
            actions: dict[str, float] = {}
            for a in entry.get("actions", []):
                energies = [float(x.get("energy", 0.0)) for x in a.get("arguments", [a])]
                actions[str(a["name"])] = max(energies) if energies else 0.0
            out[name] = actions
        return out
    raise HardwareSpecError(f"ERT file '{p}': no 'ERT' or 'ERT_summary' table")


def _short(name: str) -> str:
    """``system_top_level.shared_glb[1..1]`` -> ``shared_glb``."""
    return re.sub(r"\[.*?\]", "", name).split(".")[-1]


def _flatten(nodes: list[Any], where: str) -> list[tuple[dict[str, Any], int]]:
    """Nodes in order with their position (parallel siblings share one)."""
    out: list[tuple[dict[str, Any], int]] = []
    for i, node in enumerate(nodes):
        if not isinstance(node, dict):
            raise HardwareSpecError(f"Timeloop field '{where}[{i}]': must be a node mapping")
        if node.get("!") == "Parallel" or ("nodes" in node and "name" not in node):
            for child in node.get("nodes", []):
                out.append((child, i))
        else:
            out.append((node, i))
    return out


def _node_tech(value: object) -> float | None:
    m = re.match(r"^\s*(\d+(?:\.\d+)?)\s*nm\s*$", str(value))
    return float(m.group(1)) if m else None


def _allowed_spatial(cons: Mapping[str, Any]) -> set[str] | None:
    spatial = cons.get("spatial")
    if not isinstance(spatial, Mapping):
        return None
    fixed_one = set()
    factors = spatial.get("factors", []) or []
    if isinstance(factors, str):
        factors = factors.split()
    for f in factors:
        m = re.match(r"^\s*([A-Za-z]+)\s*=\s*(\d+)\s*$", str(f))
        if m and int(m.group(2)) == 1:
            fixed_one.add(m.group(1))
    return {d for d in LOOP_DIMS if d not in fixed_one}


_TARGET_TYPES = {
    "spatial": "spatial",
    "temporal": "temporal",
    "bypass": "dataspace",
    "dataspace": "dataspace",
}


def _apply_constraints_file(nodes: list[tuple[dict[str, Any], int]], path: Path) -> None:
    """Merge a v0.4 constraints file (``constraints``/``mapspace_constraints`` with
    ``targets``) into the architecture nodes' own ``constraints``."""
    data = _load(path, "constraints file")
    body = None
    if isinstance(data, Mapping):
        body = data.get("constraints", data.get("mapspace_constraints"))
    targets = body.get("targets") if isinstance(body, Mapping) else body
    if not isinstance(targets, list):
        raise HardwareSpecError(
            f"constraints file '{path}': needs constraints.targets (a list of targets)"
        )
    by_name = {str(node.get("name", "")): node for node, _ in nodes}
    for i, t in enumerate(targets):
        where = f"constraints file '{path.name}' targets[{i}]"
        if not isinstance(t, Mapping):
            raise HardwareSpecError(f"{where}: must be a mapping with target and type")
        name = str(t.get("target", ""))
        node = by_name.get(name)
        if node is None:
            raise HardwareSpecError(
                f"{where}: target {name!r} is not a node of the architecture; use one of "
                f"{', '.join(sorted(n for n in by_name if n))}"
            )
        kind = _TARGET_TYPES.get(str(t.get("type", "")))
        if kind is None:
            raise HardwareSpecError(
                f"{where}: type {t.get('type')!r}; use spatial, temporal or bypass"
            )
        body_t = {k: v for k, v in t.items() if k not in ("target", "type")}
        cons = node.get("constraints") or {}
        node["constraints"] = cons
        cons[kind] = {**(cons.get(kind) or {}), **body_t}


def read_timeloop(
    path: str | Path,
    *,
    ert: str | Path | None = None,
    constraints: str | Path | None = None,
) -> TimeloopAccelerator:
    """A Timeloop/Accelergy v0.4 architecture file (with an optional Accelergy ERT and a
    constraints file, whose targets merge into the nodes' constraints) as a spec.

    Every field the spatial model cannot honour is named in a :class:`TimeloopWarning`.
    """
    p = Path(path)
    data = _load(p, "hardware file")
    if not is_timeloop_architecture(data):
        raise HardwareSpecError(
            f"hardware file '{p}': not a Timeloop v0.4 architecture (needs architecture.nodes)"
        )
    arch = data["architecture"]
    notes: list[str] = []
    version = str(arch.get("version", ""))
    if version not in ("0.4", "0.4.0"):
        notes.append(f"architecture.version: {version or 'missing'}; read as v0.4")
    for key in data:
        if key != "architecture":
            notes.append(f"{p.name}.{key}: not honoured (only the architecture is read)")
    energies = read_timeloop_ert(ert) if ert is not None else None
    nodes = _flatten(list(arch.get("nodes", [])), "architecture.nodes")
    if constraints is not None:
        _apply_constraints_file(nodes, Path(constraints))
    fanout = 1
    mesh_x = 1
    mesh_y = 1
    node_nm: float | None = None
    clock_hz = ASSUMED_CLOCK_HZ
    storage: list[dict[str, Any]] = []
    mac: dict[str, Any] | None = None
    rows_allowed: set[str] | None = None
    cols_allowed: set[str] | None = None
    for node, _pos in nodes:
        name = str(node.get("name", ""))
        where = f"architecture.nodes.{name}"
        kind = node.get("!", "Component" if "class" in node else "Container")
        attrs = node.get("attributes", {}) or {}
        cons = node.get("constraints", {}) or {}
        spatial = node.get("spatial")
        if isinstance(spatial, Mapping):
            mx = int(spatial.get("meshX", 1))
            my = int(spatial.get("meshY", 1))
            mesh_x *= mx
            mesh_y *= my
            fanout *= mx * my
        if "technology" in attrs:
            tech = _node_tech(attrs["technology"])
            if tech is None:
                notes.append(f"{where}.attributes.technology: {attrs['technology']!r} not read")
            else:
                node_nm = tech
        if kind == "Container":
            a = _allowed_spatial(cons)
            if a is not None:
                mesh = spatial if isinstance(spatial, Mapping) else {}
                sp = cons.get("spatial", {})
                perm = [str(d) for d in sp.get("permutation", [])] or list(LOOP_DIMS)
                split = int(sp.get("split", len(perm)))
                # Timeloop: the permutation's first ``split`` dimensions go along X (columns)
                on_x = a & set(perm[:split]) if "split" in sp else set(a)
                on_y = a & set(perm[split:]) if "split" in sp else set(a)
                if int(mesh.get("meshY", 1)) > 1:
                    rows_allowed = on_y if rows_allowed is None else (rows_allowed | on_y)
                if int(mesh.get("meshX", 1)) > 1:
                    cols_allowed = on_x if cols_allowed is None else (cols_allowed | on_x)
                if "permutation" in sp:
                    notes.append(
                        f"{where}.constraints.spatial.permutation: only its split between X "
                        "and Y is honoured (the mapper orders the spatial loops)"
                    )
            for key in attrs:
                if key == "global_cycle_seconds":
                    try:
                        cycle_s = float(attrs[key])
                    except (TypeError, ValueError):
                        cycle_s = 0.0
                    if not cycle_s > 0:
                        raise HardwareSpecError(
                            f"Timeloop field '{where}.attributes.global_cycle_seconds': must be "
                            f"a positive number (got {attrs[key]!r})"
                        )
                    clock_hz = 1.0 / cycle_s
                elif key != "technology":
                    notes.append(f"{where}.attributes.{key}: not honoured")
            continue
        cls = str(node.get("class", "")).lower()
        sub = str(node.get("subclass", "")).lower()
        is_compute = any(h in cls for h in _COMPUTE_HINTS) and not any(
            h in cls for h in ("sram", "dram", "rf")
        )
        if is_compute:
            mac = {"name": name, "attrs": attrs, "instances": fanout}
            for key in attrs:
                if key not in ("multiplier_width", "adder_width", "datawidth", "technology"):
                    notes.append(f"{where}.attributes.{key}: not honoured")
            continue
        if not any(h in cls or h in sub for h in _STORAGE_HINTS):
            notes.append(f"{where}: class {cls!r} is neither storage nor compute; not modelled")
            continue
        for key in attrs:
            if key not in _USED_ATTRS:
                notes.append(f"{where}.attributes.{key}: not honoured")
        ds = cons.get("dataspace", {}) or {}
        keep = [str(x) for x in ds.get("keep", [])]
        bypass = [str(x) for x in ds.get("bypass", [])]
        for x in keep + bypass:
            if x not in _DATASPACES:
                raise HardwareSpecError(
                    f"Timeloop field '{where}.constraints.dataspace': unknown dataspace {x!r}; "
                    "use Weights, Inputs or Outputs"
                )
        holds = [_DATASPACES[x] for x in keep] or [
            v for k, v in _DATASPACES.items() if k not in bypass
        ]
        if "temporal" in cons:
            notes.append(
                f"{where}.constraints.temporal: not honoured (the mapper searches the "
                "temporal mapping)"
            )
        for key in cons:
            if key not in ("dataspace", "temporal"):
                notes.append(f"{where}.constraints.{key}: not honoured")
        storage.append(
            {
                "name": name,
                "cls": cls,
                "attrs": attrs,
                "holds": holds,
                "instances": fanout,
            }
        )
    if mac is None:
        raise HardwareSpecError(f"Timeloop file '{p}': no compute component (class intmac)")
    if not storage:
        raise HardwareSpecError(f"Timeloop file '{p}': no storage component")
    pes = int(mac["instances"])
    # element width: the outermost storage's datawidth (the words the workload is stored in)
    outer = storage[0]["attrs"]
    mult_w = int(
        outer.get(
            "datawidth", mac["attrs"].get("multiplier_width", mac["attrs"].get("datawidth", 8))
        )
    )
    precision = {4: "int4", 8: "int8", 16: "int16"}.get(mult_w)
    if precision is None:
        raise HardwareSpecError(
            f"Timeloop field '{storage[0]['name']}.attributes.datawidth': {mult_w} bits; "
            "the models support 4, 8 or 16"
        )
    mac_w = int(mac["attrs"].get("multiplier_width", mult_w))
    if mac_w != mult_w:
        notes.append(
            f"architecture.nodes.{mac['name']}.attributes.multiplier_width: {mac_w} bits, "
            f"while data are {mult_w} bits wide; the MACs are modelled at {mult_w} bits"
        )
    levels: list[dict[str, Any]] = []
    sources: dict[str, str] = {
        "compute.clock_hz": "assumed 1 GHz: Timeloop reports cycles (its GFLOPs are @1GHz)",
    }
    psum_bits: int | None = None
    for st in reversed(storage):  # innermost first
        a = st["attrs"]
        where = f"architecture.nodes.{st['name']}"
        width = int(a.get("width", a.get("datawidth", mult_w)))
        datawidth = int(a.get("datawidth", width))
        if st["holds"] == ["outputs"] and datawidth > mult_w:
            psum_bits = max(psum_bits or 0, datawidth)
        level: dict[str, Any] = {
            "name": re.sub(r"[^A-Za-z0-9_-]", "_", st["name"]),
            "holds": st["holds"],
            "access_width_bits": width,
        }
        inst = int(st["instances"])
        if inst not in (1, pes):
            notes.append(
                f"{where}: {inst} instances (neither one nor one per PE) modelled as one per PE"
            )
            inst = pes
        level["instances"] = inst
        if "dram" in st["cls"]:
            level["capacity_bytes"] = None
        elif "depth" in a:
            level["capacity_bytes"] = max(1, math.ceil(int(a["depth"]) * width / 8))
        else:
            raise HardwareSpecError(f"Timeloop field '{where}.attributes.depth': required")
        bw = 0.0
        for key in ("read_bandwidth", "write_bandwidth"):
            if key in a:
                bw += float(a[key]) * datawidth / 8.0
        if bw > 0:
            level["bytes_per_cycle"] = bw
        elif "dram" in st["cls"]:
            level["bytes_per_cycle"] = width / 8.0
            notes.append(
                f"{where}: no read/write bandwidth; one {width}-bit word per cycle assumed"
            )
        if energies is not None:
            acts = energies.get(st["name"])
            if acts is None:
                notes.append(f"{where}: not in the ERT; technology-table energies used")
            else:
                r = acts.get("read", 0.0)
                w = acts.get("write", acts.get("update", 0.0))
                if r > 0:
                    level["read_energy_pj"] = r
                if w > 0:
                    level["write_energy_pj"] = w
                if r <= 0 and w <= 0:
                    notes.append(f"{where}: zero ERT energies; technology-table energies used")
                else:
                    sources[f"memory.{level['name']}"] = f"Accelergy ERT {Path(ert or '').name}"
        if level.get("capacity_bytes") is None:
            level.pop("capacity_bytes", None)
        levels.append(level)
    compute: dict[str, Any] = {
        "rows": mesh_y if mesh_y * mesh_x == pes else 1,
        "cols": mesh_x if mesh_y * mesh_x == pes else pes,
        "macs_per_pe_per_cycle": {precision: 1.0},
        "clock_hz": clock_hz,
    }
    if clock_hz != ASSUMED_CLOCK_HZ:
        sources["compute.clock_hz"] = f"Timeloop file {p.name}: global_cycle_seconds"
    if energies is not None and mac["name"] in energies:
        acts = energies[mac["name"]]
        e = acts.get("compute", acts.get("mac_random", acts.get("multiply_accumulate", 0.0)))
        if e > 0:
            compute["mac_energy_pj"] = {precision: e}
            sources["compute.mac_energy_pj"] = f"Accelergy ERT {Path(ert or '').name}"
    spec_dict: dict[str, Any] = {
        "name": p.parent.name if p.stem == "arch" else p.stem,
        "kind": "spatial",
        "description": f"Timeloop v0.4 architecture {p.name}"
        + (f" with ERT {Path(ert).name}" if ert else ""),
        "compute": compute,
        "memory": levels,
        "dataflow": "ws",
        "sources": sources,
    }
    if node_nm is not None:
        spec_dict["tech_node_nm"] = node_nm
    try:
        spec = hardware_from_dict(spec_dict)
    except HardwareSpecError as err:
        raise HardwareSpecError(f"Timeloop file '{p}': {err}") from None
    allowed = None
    if rows_allowed is not None or cols_allowed is not None:
        everything = set(LOOP_DIMS)
        rows_set = everything if rows_allowed is None else rows_allowed
        cols_set = everything if cols_allowed is None else cols_allowed
        allowed = (
            tuple(d for d in LOOP_DIMS if d in rows_set),
            tuple(d for d in LOOP_DIMS if d in cols_set),
        )
    found: MappingConstraints | None = None
    if allowed is not None or psum_bits is not None:
        found = MappingConstraints(
            spatial_allowed=allowed, partial_sum_bits=psum_bits, source=str(p)
        )
    for note in notes:
        warnings.warn(note, TimeloopWarning, stacklevel=2)
    return TimeloopAccelerator(spec=spec, constraints=found, warnings=tuple(notes))
