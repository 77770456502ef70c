"""Read a ZigZag 3.x YAML workload (a list of layers with loop sizes) as a network.

Each ZigZag layer (https://github.com/KULeuven-MICAS/zigzag, ``zigzag/inputs/workload``) has
an ``operator_type``, an ``equation`` such as ``O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]``,
``dimension_relations`` (``ix=2*ox+1*fx``: stride 2, dilation 1), ``loop_dims`` with
``loop_sizes`` and ``operand_precision``. Convolutions (``OX``/``OY``/``FX``/``FY`` with
``B``, ``K``, ``C`` and an optional group ``G``) become conv ops; any other equation with a
weight operand becomes a matrix product: the output's dimensions that index ``I`` are the
rows, those that index ``W`` the columns, the rest of ``I``'s the reduction. Layers whose
weight precision is 0 (pooling, element-wise adds) have no MAC core; ZigZag gives them no
cost, and they are left out with a warning.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from codesign_playground.errors import ModelFormatError, ModelNotFoundError
from codesign_playground.workload import ops
from codesign_playground.workload.ir import Network, Op, Precision, TensorSpec

__all__ = ["ZigZagWorkloadWarning", "is_zigzag_workload", "network_from_zigzag_yaml"]

_PRECISION: dict[int, Precision] = {4: "int4", 8: "int8", 16: "int16"}
_KNOWN = {
    "id",
    "name",
    "operator_type",
    "equation",
    "dimension_relations",
    "loop_dims",
    "loop_sizes",
    "operand_precision",
    "operand_source",
    "pr_loop_dims",
    "pr_loop_sizes",
    "padding",
}


class ZigZagWorkloadWarning(UserWarning):
    """A layer or field of a ZigZag workload that the importer cannot honour."""


def is_zigzag_workload(data: object) -> bool:
    """Whether parsed YAML is a ZigZag workload (a list of layers with an ``equation``)."""
    return (
        isinstance(data, list)
        and bool(data)
        and all(isinstance(e, Mapping) and "equation" in e for e in data)
    )


def _indices(equation: str, operand: str) -> list[str]:
    m = re.search(rf"{operand}((?:\[[a-zA-Z0-9_]+\])+)", equation)
    return re.findall(r"\[([a-zA-Z0-9_]+)\]", m.group(1)) if m else []


def _relation(relations: list[Any], name: str) -> tuple[int, int]:
    """(stride, dilation) of ``ix``/``iy`` from e.g. ``ix=2*ox+1*fx``."""
    for rel in relations:
        text = str(rel).replace(" ", "").lower()
        if text.startswith(f"{name}="):
            m = re.match(rf"^{name}=(?:(\d+)\*)?o[xy]\+(?:(\d+)\*)?f[xy]$", text)
            if not m:
                raise ModelFormatError(
                    f"ZigZag workload: dimension relation {rel!r} is not 'i=s*o+d*f'"
                )
            return int(m.group(1) or 1), int(m.group(2) or 1)
    return 1, 1


def _layer(i: int, layer: Mapping[str, Any], default_bits: int) -> Op | None:
    where = f"layer {layer.get('id', i)}"
    name = str(layer.get("name") or f"layer{layer.get('id', i)}")
    for key in layer:
        if key not in _KNOWN:
            warnings.warn(f"{where}.{key}: not honoured", ZigZagWorkloadWarning, stacklevel=3)
    dims = [str(d).upper() for d in layer.get("loop_dims", [])]
    sizes = layer.get("loop_sizes", [])
    if len(dims) != len(sizes) or not dims:
        raise ModelFormatError(f"ZigZag workload {where}: loop_dims and loop_sizes must pair up")
    size = {d: int(s) for d, s in zip(dims, sizes, strict=True)}
    prec = layer.get("operand_precision", {}) or {}
    w_bits = int(prec.get("W", default_bits))
    i_bits = int(prec.get("I", default_bits))
    op_type = str(layer.get("operator_type", "Layer"))
    if w_bits == 0:
        warnings.warn(
            f"{where} ({op_type}): no weight operand; left out (ZigZag gives it no MAC cost)",
            ZigZagWorkloadWarning,
            stacklevel=3,
        )
        return None
    precision = _PRECISION.get(max(w_bits, i_bits))
    if precision is None:
        raise ModelFormatError(
            f"ZigZag workload {where}.operand_precision: {max(w_bits, i_bits)} bits; use 4, 8 or 16"
        )
    if w_bits != i_bits:
        warnings.warn(
            f"{where}.operand_precision: W {w_bits} and I {i_bits} bits; both modelled as "
            f"{precision}",
            ZigZagWorkloadWarning,
            stacklevel=3,
        )
    eq = str(layer.get("equation", "")).replace(" ", "")
    o_idx = [d.upper() for d in _indices(eq, "O")]
    w_idx = [d.upper() for d in _indices(eq, "W")]
    i_idx = [d.upper() for d in _indices(eq, "I")]
    if {"OX", "OY", "FX", "FY"} <= set(size) or ("IX" in i_idx and "OX" in size):
        rel = list(layer.get("dimension_relations", []) or [])
        sx, dx = _relation(rel, "ix")
        sy, dy = _relation(rel, "iy")
        b, k, c, g = size.get("B", 1), size.get("K", 1), size.get("C", 1), size.get("G", 1)
        oy, ox, fy, fx = size.get("OY", 1), size.get("OX", 1), size.get("FY", 1), size.get("FX", 1)
        h = (oy - 1) * sy + (fy - 1) * dy + 1
        w = (ox - 1) * sx + (fx - 1) * dx + 1
        x = TensorSpec(f"{name}.in", (b, c * g, h, w))
        return ops.conv(
            name,
            x,
            (k * g, c, fy, fx),
            strides=(sy, sx),
            dilations=(dy, dx),
            groups=g,
            op_type=op_type,
            precision=precision,
        )
    rows = math.prod(size.get(d, 1) for d in o_idx if d in i_idx and d not in w_idx)
    cols = math.prod(size.get(d, 1) for d in o_idx if d in w_idx and d not in i_idx)
    batch = math.prod(size.get(d, 1) for d in o_idx if d in w_idx and d in i_idx)
    red = math.prod(size.get(d, 1) for d in i_idx if d not in o_idx)
    if not w_idx or not i_idx or not o_idx:
        raise ModelFormatError(f"ZigZag workload {where}.equation: needs O, I and W operands")
    lead = (batch,) if batch > 1 else ()
    return ops.matmul(
        name,
        TensorSpec(f"{name}.in", (*lead, rows, red)),
        TensorSpec(f"{name}.w", (*lead, red, cols)),
        b_is_weight=batch == 1,
        op_type=op_type,
        precision=precision,
    )


def network_from_zigzag_yaml(path: str | Path, *, precision: Precision | None = None) -> Network:
    """The MAC layers of a ZigZag YAML workload as a network (precision from the file, or
    ``precision`` for layers that give none)."""
    p = Path(path)
    if not p.is_file():
        raise ModelNotFoundError(f"model: file not found: {p}")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise ModelFormatError(f"ZigZag workload '{p}': cannot be read ({err})") from None
    if not is_zigzag_workload(data):
        raise ModelFormatError(f"ZigZag workload '{p}': not a list of layers with an equation")
    default_bits = {"int4": 4, "int8": 8, "int16": 16}.get(precision or "int8", 8)
    ops_: list[Op] = []
    for i, layer in enumerate(data):
        op = _layer(i, layer, default_bits)
        if op is not None:
            ops_.append(op)
    if not ops_:
        raise ModelFormatError(f"ZigZag workload '{p}': no layer with a MAC core")
    return Network(
        name=p.stem,
        ops=tuple(ops_),
        inputs=tuple(o.inputs[0] for o in ops_[:1]),
        outputs=tuple(o.outputs[0] for o in ops_[-1:]),
        source=f"zigzag-workload:{p.name}",
    )
