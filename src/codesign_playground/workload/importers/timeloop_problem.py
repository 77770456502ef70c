"""Read a Timeloop v0.4 problem YAML (one convolution layer) as a one-op network.

Timeloop's ``problem.instance`` gives the loop bounds of its ``conv2D`` shape (``N`` batch,
``M`` filters, ``C`` channels, ``P``/``Q`` output rows/columns, ``R``/``S`` kernel rows/
columns) with ``Hstride``/``Wstride``, ``Hdilation``/``Wdilation`` and optionally the input
``H``/``W`` with ``Hpad``/``Wpad`` (timeloop-accelergy-exercises,
``workspace/example_designs/_include/default_problem.yaml``). The input size not given is
the one the output needs: ``(P - 1) * stride + (R - 1) * dilation + 1``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from codesign_playground.errors import ModelFormatError, ModelNotFoundError
from codesign_playground.workload import ops
from codesign_playground.workload.ir import Network, Precision, TensorSpec

__all__ = ["TimeloopProblemWarning", "is_timeloop_problem", "network_from_timeloop_problem"]

_DIMS = ("C", "M", "N", "P", "Q", "R", "S")
_USED = {*_DIMS, "H", "W", "Hstride", "Wstride", "Hdilation", "Wdilation", "Hpad", "Wpad"}


class TimeloopProblemWarning(UserWarning):
    """A field of a Timeloop problem file that the importer cannot honour."""


def is_timeloop_problem(data: object) -> bool:
    """Whether parsed YAML is a Timeloop problem (``problem.instance``)."""
    return (
        isinstance(data, Mapping)
        and isinstance(data.get("problem"), Mapping)
        and isinstance(data["problem"].get("instance"), Mapping)
    )


def _int(inst: Mapping[str, Any], key: str, default: int | None = None) -> int:
    value = inst.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ModelFormatError(
            f"Timeloop problem field 'problem.instance.{key}': must be a non-negative integer "
            f"(got {value!r})"
        )
    return value


def network_from_timeloop_problem(path: str | Path, *, precision: Precision = "int8") -> Network:
    """The problem's convolution as a network of one op at ``precision``."""
    p = Path(path)
    if not p.is_file():
        raise ModelNotFoundError(f"model: file not found: {p}")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise ModelFormatError(f"Timeloop problem '{p}': cannot be read ({err})") from None
    if not is_timeloop_problem(data):
        raise ModelFormatError(f"Timeloop problem '{p}': no problem.instance mapping")
    problem = data["problem"]
    shape = problem.get("shape", {}) or {}
    name = str(shape.get("name", "conv2D")) if isinstance(shape, Mapping) else "conv2D"
    if name not in ("conv2D", "cnn-layer", "cnn_layer"):
        raise ModelFormatError(
            f"Timeloop problem field 'problem.shape.name': {name!r}; only the conv2D shape is read"
        )
    inst = problem["instance"]
    for key in inst:
        if key not in _USED:
            warnings.warn(
                f"problem.instance.{key}: not honoured", TimeloopProblemWarning, stacklevel=2
            )
    n, m, c, pp, q, r, s = (_int(inst, d, 1) for d in ("N", "M", "C", "P", "Q", "R", "S"))
    if min(n, m, c, pp, q, r, s) < 1:
        raise ModelFormatError(f"Timeloop problem '{p}': every loop bound must be >= 1")
    hs, ws = _int(inst, "Hstride", 1) or 1, _int(inst, "Wstride", 1) or 1
    hd, wd = _int(inst, "Hdilation", 1) or 1, _int(inst, "Wdilation", 1) or 1
    need_h = (pp - 1) * hs + (r - 1) * hd + 1
    need_w = (q - 1) * ws + (s - 1) * wd + 1
    h = _int(inst, "H", need_h)
    w = _int(inst, "W", need_w)
    hp = _int(inst, "Hpad", 0) if "H" in inst else 0
    wp = _int(inst, "Wpad", 0) if "W" in inst else 0
    x = TensorSpec("inputs", (n, c, h, w))
    op = ops.conv(
        name,
        x,
        (m, c, r, s),
        strides=(hs, ws),
        pads=(hp, wp, hp, wp),
        dilations=(hd, wd),
        out_name="outputs",
        precision=precision,
    )
    out = op.outputs[0].shape
    if tuple(out[2:]) != (pp, q):
        op = ops.conv(
            name,
            TensorSpec("inputs", (n, c, need_h, need_w)),
            (m, c, r, s),
            strides=(hs, ws),
            dilations=(hd, wd),
            out_name="outputs",
            precision=precision,
        )
        warnings.warn(
            f"problem.instance H/W/Hpad/Wpad give a {out[2]}x{out[3]} output, not P x Q = "
            f"{pp}x{q}; the input is taken as {need_h}x{need_w} without padding",
            TimeloopProblemWarning,
            stacklevel=2,
        )
    return Network(
        name=p.stem,
        ops=(op,),
        inputs=op.inputs,
        outputs=op.outputs,
        source=f"timeloop-problem:{p.name}",
    )
