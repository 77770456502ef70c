"""SCALE-Sim ``.cfg`` files are hardware descriptions: ``load_hardware`` reads them."""

from __future__ import annotations

from pathlib import Path

import pytest

from codesign_playground.errors import HardwareSpecError
from codesign_playground.hardware import load_hardware
from codesign_playground.hardware.importers import scalesim_cfg

CFG = """[general]
run_name = tiny

[architecture_presets]
ArrayHeight : 16
ArrayWidth : 8
IfmapSramSzkB : 32
FilterSramSzkB : 64
OfmapSramSzkB : 16
Dataflow : os
Bandwidth : 4

[run_presets]
InterfaceBandwidth : USER
"""


def test_load_hardware_reads_a_scalesim_cfg(tmp_path: Path) -> None:
    path = tmp_path / "tiny.cfg"
    path.write_text(CFG)
    spec = load_hardware(str(path))
    assert (spec.kind, spec.dataflow, spec.compute.rows, spec.compute.cols) == (
        "systolic",
        "os",
        16,
        8,
    )
    assert spec.level("filter_sram").capacity_bytes == 64 * 1024
    # 4 one-byte words per cycle at the template's 700 MHz clock
    assert spec.dram.bandwidth_bytes_per_s == pytest.approx(4 * spec.compute.clock_hz)


def test_bad_cfg_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.cfg"
    path.write_text("[architecture_presets]\nArrayHeight : many\n")
    with pytest.raises(HardwareSpecError, match="ArrayHeight"):
        load_hardware(str(path))


def test_calc_fill_rate_agrees_with_the_systolic_model() -> None:
    from codesign_playground.perf import systolic

    assert scalesim_cfg.CALC_FILL_BW_WORDS_PER_CYCLE == systolic.CALC_FILL_BW_WORDS_PER_CYCLE
