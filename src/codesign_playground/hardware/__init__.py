"""Hardware descriptions: models, templates, a sourced catalog of real chips, technology tables.

>>> from codesign_playground.hardware import get_chip, systolic
>>> get_chip("h100").peak_ops_per_s("fp16") > 9e14
True
>>> systolic(rows=16, cols=16).compute.num_pes
256
"""

from __future__ import annotations

from codesign_playground.hardware.catalog import ALIASES, catalog_specs, get_chip, list_catalog
from codesign_playground.hardware.designs import TEMPLATES, DesignTemplate, KnobSpec, get_template
from codesign_playground.hardware.loading import load_hardware, save_hardware
from codesign_playground.hardware.spec import (
    DATAFLOWS,
    KINDS,
    OPERANDS,
    PRECISIONS,
    ComputeFabric,
    Dataflow,
    HardwareSpec,
    MemoryLevel,
    Operand,
    Precision,
    TemplateKind,
    dump_hardware,
    hardware_from_dict,
    hardware_to_dict,
    parse_hardware,
)
from codesign_playground.hardware.templates import gpu, spatial, systolic, vector

__all__ = [
    "ALIASES",
    "DATAFLOWS",
    "KINDS",
    "OPERANDS",
    "PRECISIONS",
    "TEMPLATES",
    "ComputeFabric",
    "Dataflow",
    "DesignTemplate",
    "HardwareSpec",
    "KnobSpec",
    "MemoryLevel",
    "Operand",
    "Precision",
    "TemplateKind",
    "catalog_specs",
    "dump_hardware",
    "get_chip",
    "get_template",
    "gpu",
    "hardware_from_dict",
    "hardware_to_dict",
    "list_catalog",
    "load_hardware",
    "parse_hardware",
    "save_hardware",
    "spatial",
    "systolic",
    "vector",
]
