"""YAML workloads of other tools: a ZigZag layer list or a Timeloop problem, by content."""

from __future__ import annotations

from pathlib import Path

import yaml

from codesign_playground.errors import ModelFormatError
from codesign_playground.workload.importers.timeloop_problem import (
    is_timeloop_problem,
    network_from_timeloop_problem,
)
from codesign_playground.workload.importers.zigzag_workload import (
    is_zigzag_workload,
    network_from_zigzag_yaml,
)
from codesign_playground.workload.ir import Network, Precision

__all__ = ["network_from_yaml"]


def network_from_yaml(path: str | Path, *, precision: Precision | None = None) -> Network:
    """A ZigZag YAML workload or a Timeloop problem file as a network."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise ModelFormatError(f"model: {p} cannot be read as YAML ({err})") from None
    if is_zigzag_workload(data):
        return network_from_zigzag_yaml(p, precision=precision)
    if is_timeloop_problem(data):
        return network_from_timeloop_problem(p, precision=precision or "int8")
    raise ModelFormatError(
        f"model: {p} is neither a ZigZag workload (a list of layers with 'equation') nor a "
        "Timeloop problem ('problem.instance')"
    )
