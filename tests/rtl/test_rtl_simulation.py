"""cocotb simulation of generated designs: bit-exact GEMMs and cycle counts == the model.

One build and one simulation per (array size, dataflow, simulator); each runs 24 shapes
(edge shapes, non-multiples of the array, extreme operands, a lowered convolution, random).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rtl_helpers import require_simulator

from codesign_playground.perf.rtl_timing import rtl_gemm_cycles
from codesign_playground.rtl import GemmCase, SimReport, SystolicDesign, get_simulator, write_design
from codesign_playground.rtl import sample_cases as _sample

pytestmark = [pytest.mark.rtl, pytest.mark.slow]

SHAPES_PER_DESIGN = 24
SIZES = (2, 4, 8, 16)


def _run(design: SystolicDesign, simulator: str, work: Path, cases: list[GemmCase],
         *, waves: bool = False) -> SimReport:  # fmt: skip
    require_simulator(simulator)
    generated = write_design(design, work / design.label / "rtl")
    return get_simulator(simulator).run(
        generated, cases, work / design.label / "build", seed=7, waves=waves
    )


def _check(report: SimReport, design: SystolicDesign) -> None:
    assert report.cases, "no case ran"
    bad = [c for c in report.cases if not c.ok]
    assert not bad, f"{len(bad)} GEMMs differ from NumPy on {report.simulator}: {bad[:3]}"
    cases = report.cases
    model = rtl_gemm_cycles(
        [c.m for c in cases], [c.n for c in cases], [c.k for c in cases],
        design.rows, design.cols, design.dataflow,
    )  # fmt: skip
    for case, expected in zip(cases, model.tolist(), strict=True):
        assert case.cycles == case.cycles_measured, case
        assert case.cycles == expected, (case, expected)


@pytest.mark.parametrize("simulator", ["icarus", "verilator"])
@pytest.mark.parametrize("dataflow", ["ws", "os"])
@pytest.mark.parametrize("side", SIZES)
def test_gemm_matrix(side: int, dataflow: str, simulator: str, rtl_work: Path) -> None:
    design = SystolicDesign(side, side, dataflow)  # type: ignore[arg-type]
    cases = _sample(design, SHAPES_PER_DESIGN, seed=side)
    assert len({(c.m, c.n, c.k) for c in cases}) >= 20
    report = _run(design, simulator, rtl_work / simulator, cases)
    assert len(report.cases) == SHAPES_PER_DESIGN
    _check(report, design)


@pytest.mark.parametrize("simulator", ["icarus", "verilator"])
@pytest.mark.parametrize("dataflow", ["ws", "os"])
def test_int16_rectangular_wraps_like_numpy(dataflow: str, simulator: str, rtl_work: Path) -> None:
    """int16 operands with a 32-bit accumulator: extreme sums wrap exactly as NumPy's int32."""
    design = SystolicDesign(3, 5, dataflow, data_width=16, acc_width=32)  # type: ignore[arg-type]
    cases = [GemmCase(7, 11, 40, "extreme"), GemmCase(4, 5, 3), GemmCase(13, 2, 17, "extreme"),
             GemmCase(1, 9, 6)]  # fmt: skip
    _check(_run(design, simulator, rtl_work / f"{simulator}-int16", cases), design)


def test_vcd_on_request(rtl_work: Path) -> None:
    design = SystolicDesign(2, 2, "os")
    report = _run(design, "icarus", rtl_work / "vcd", [GemmCase(3, 3, 3)], waves=True)
    _check(report, design)
    assert report.waves is not None and report.waves.suffix == ".vcd"
    text = report.waves.read_text()
    assert "$enddefinitions" in text and " clk " in text and "#" in text
