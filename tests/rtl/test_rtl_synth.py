"""Yosys synthesis of generated designs (skipped only when yosys / nextpnr are absent)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rtl_helpers import require_tool

from codesign_playground.errors import InputError
from codesign_playground.rtl import SystolicDesign, place_and_route_ice40, synthesize, write_design

pytestmark = [pytest.mark.rtl, pytest.mark.slow]


@pytest.fixture(scope="module")
def design_8x8(tmp_path_factory: pytest.TempPathFactory) -> tuple[SystolicDesign, Path]:
    d = SystolicDesign(8, 8, "ws", data_width=8)
    out = tmp_path_factory.mktemp("synth8")
    write_design(d, out / "rtl")
    return d, out


def test_generic_8x8_int8(design_8x8: tuple[SystolicDesign, Path]) -> None:
    require_tool("yosys")
    d, out = design_8x8
    from codesign_playground.rtl import load_generated

    rep = synthesize(load_generated(out / "rtl"), "generic", out)
    # word level: one multiply-accumulate per PE, the three buffers kept as memories
    assert rep.coarse["$macc"] == d.rows * d.cols
    assert rep.coarse["$mem_v2"] == 3
    assert rep.summary["memories"] == 3
    assert rep.summary["flip_flops"] > d.rows * d.cols * (2 * d.data_width + d.acc_width)
    assert rep.summary["gates"] > 1000


def test_xilinx_8x8_int8_maps_macs_to_dsps(design_8x8: tuple[SystolicDesign, Path]) -> None:
    require_tool("yosys")
    d, out = design_8x8
    from codesign_playground.rtl import load_generated

    rep = synthesize(load_generated(out / "rtl"), "xilinx", out)
    assert rep.summary["dsps"] == d.rows * d.cols
    assert rep.summary["brams"] >= 3
    assert rep.summary["luts"] > 0 and rep.summary["flip_flops"] > 0


def test_ice40_2x2_place_and_route(tmp_path: Path) -> None:
    require_tool("yosys")
    d = SystolicDesign(2, 2, "os", buffer_depth=256)
    g = write_design(d, tmp_path / "rtl")
    rep = synthesize(g, "ice40", tmp_path)
    assert rep.summary["luts"] > 0 and rep.summary["brams"] > 0
    require_tool("nextpnr-ice40")
    assert rep.netlist is not None
    pnr = place_and_route_ice40(rep.netlist, tmp_path)
    assert 10.0 < pnr.fmax_mhz < 500.0
    used, total = pnr.utilisation["ICESTORM_LC"]
    assert 0 < used <= total


def test_unknown_target(tmp_path: Path) -> None:
    g = write_design(SystolicDesign(2, 2), tmp_path)
    with pytest.raises(InputError) as info:
        synthesize(g, "asic", tmp_path)
    assert str(info.value) == "target must be one of generic, ice40, xilinx, got 'asic'"


def _netlist(path: Path, cells: dict[str, int]) -> Path:
    import json

    body = {f"c{i}_{kind}": {"type": kind} for kind, n in cells.items() for i in range(n)}
    doc = {"modules": {"top": {"attributes": {"top": "1"}, "cells": body}}}
    path.write_text(json.dumps(doc))
    return path


def test_design_too_large_for_the_device_fails_before_place_and_route(tmp_path: Path) -> None:
    """The README's 8x8 design on an HX8K: one line naming the resource, no nextpnr run."""
    from codesign_playground.errors import DeviceFitError

    require_tool("nextpnr-ice40")
    net = _netlist(tmp_path / "big.json", {"SB_LUT4": 100, "SB_DFF": 50, "SB_RAM40_4K": 40})
    with pytest.raises(DeviceFitError) as info:
        place_and_route_ice40(net, tmp_path)
    msg = str(info.value)
    assert "40 SB_RAM40_4K block RAMs" in msg and "HX8K has 32" in msg
    assert "--buffer-depth" in msg and "\n" not in msg
    assert not (tmp_path / "pnr-ice40" / "nextpnr.log").exists()


@pytest.mark.parametrize(
    ("cells", "device", "needle"),
    [
        ({"SB_LUT4": 7681}, "hx8k", "7681 logic cells"),
        ({"SB_DFFE": 1300, "SB_LUT4": 10}, "hx1k", "1300 logic cells"),
        ({"SB_MAC16": 1}, "hx8k", "1 SB_MAC16 DSPs"),
        ({"SB_MAC16": 9}, "up5k", "9 SB_MAC16 DSPs"),
    ],
)
def test_check_ice40_fit_names_the_resource(
    cells: dict[str, int], device: str, needle: str
) -> None:
    from codesign_playground.errors import DeviceFitError
    from codesign_playground.rtl._synth import check_ice40_fit

    with pytest.raises(DeviceFitError, match=needle):
        check_ice40_fit(cells, device)


def test_check_ice40_fit_accepts_what_fits() -> None:
    from codesign_playground.rtl._synth import check_ice40_fit

    check_ice40_fit({"SB_LUT4": 7680, "SB_DFF": 7680, "SB_RAM40_4K": 32}, "hx8k")
    with pytest.raises(InputError, match="device must be one of"):
        check_ice40_fit({}, "ecp5")


def test_synthesis_is_bounded_in_time_and_memory(
    design_8x8: tuple[SystolicDesign, Path], tmp_path: Path
) -> None:
    """A synthesis past its time is killed with every tool it started (Yosys' ABC too: they
    share a process group), and one past its memory fails with a one-line ToolError naming
    the limit, instead of taking the machine's memory."""
    import os
    import time

    from codesign_playground.errors import ToolError
    from codesign_playground.rtl import load_generated

    require_tool("yosys")
    generated = load_generated(design_8x8[1] / "rtl")
    started = time.monotonic()
    with pytest.raises(ToolError, match=r"no result within 1 s"):
        synthesize(generated, "generic", tmp_path / "slow", timeout_s=1)
    assert time.monotonic() - started < 30
    time.sleep(0.5)
    mine = [p for p in os.listdir("/proc") if p.isdigit()]
    leftover = []
    for pid in mine:
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if str(tmp_path / "slow") in cmd:
            leftover.append(cmd)
    assert leftover == []
    with pytest.raises(ToolError, match=r"each process may use 16 MB") as info:
        synthesize(generated, "generic", tmp_path / "small", memory_mb=16)
    assert "\n" not in str(info.value)
