"""SCALE-Sim configurations as hardware descriptions, and back.

The ``.cfg`` reader is a hardware importer (``hardware/importers/scalesim_cfg.py``; its
names are re-exported here); :func:`config_from_spec` maps a description back.

A ``.cfg`` becomes the ``systolic`` template with the file's array, dataflow and SRAM sizes.
SCALE-Sim has no clock, no technology node and counts one-byte words, so those come from the
template's defaults (700 MHz and 28 nm, Google TPU v1; int8). Its bandwidth is in words per
cycle: in ``USER`` mode the first ``Bandwidth`` value, in ``CALC`` mode the 10 words/cycle at
which SCALE-Sim fills its read buffers (``systolic.CALC_FILL_BW_WORDS_PER_CYCLE``).
"""

from __future__ import annotations

from dataclasses import replace

from codesign_playground.hardware.importers.scalesim_cfg import (
    ScaleSimConfig,
    spec_from_scalesim_config,
    spec_from_scalesim_file,
)
from codesign_playground.hardware.spec import HardwareSpec
from codesign_playground.perf.systolic_network import scalesim_parameters

__all__ = ["config_from_spec", "spec_from_scalesim_config", "spec_from_scalesim_file"]


def config_from_spec(spec: HardwareSpec) -> ScaleSimConfig:
    """The SCALE-Sim configuration (USER bandwidth mode) that a systolic description maps to."""
    p = scalesim_parameters(spec, 1.0)
    words = int(p["bandwidth_words_per_cycle"])
    return replace(
        ScaleSimConfig(),
        run_name=spec.name.replace(" ", "_"),
        interface_bandwidth="USER",
        array_rows=spec.compute.rows,
        array_cols=spec.compute.cols,
        ifmap_sram_kb=int(p["ifmap_sram_kb"]),
        filter_sram_kb=int(p["filter_sram_kb"]),
        ofmap_sram_kb=int(p["ofmap_sram_kb"]),
        dataflow=spec.dataflow,
        bandwidths=(words,),
        ifmap_sram_bank_bandwidth=words,
        filter_sram_bank_bandwidth=words,
    )
