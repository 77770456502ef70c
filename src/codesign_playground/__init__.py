"""codesign-playground: profile networks, model accelerators, explore the joint design space.

>>> from codesign_playground import load_workload, get_chip, estimate
>>> e = estimate(load_workload("resnet18", precision="int8"), get_chip("tpu-v1"))
>>> e.totals()["latency_s"] > 0
True
"""

from __future__ import annotations

from codesign_playground._version import __version__
from codesign_playground.errors import (
    CodesignError,
    HardwareSpecError,
    InputError,
    ModelFormatError,
    ModelNotFoundError,
    UnsupportedError,
)
from codesign_playground.hardware import (
    HardwareSpec,
    get_chip,
    list_catalog,
    load_hardware,
    spatial,
    systolic,
)
from codesign_playground.hardware.foreign import read_foreign_hardware
from codesign_playground.perf.estimate import Estimate, estimate
from codesign_playground.perf.mapped import estimate_mapped
from codesign_playground.workload import Network, Op, load_workload, profile

__all__ = [
    "CodesignError",
    "Estimate",
    "HardwareSpec",
    "HardwareSpecError",
    "InputError",
    "ModelFormatError",
    "ModelNotFoundError",
    "Network",
    "Op",
    "UnsupportedError",
    "__version__",
    "estimate",
    "estimate_mapped",
    "get_chip",
    "list_catalog",
    "load_hardware",
    "load_workload",
    "profile",
    "read_foreign_hardware",
    "spatial",
    "systolic",
]
