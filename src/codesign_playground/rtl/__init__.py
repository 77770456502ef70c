"""RTL for the systolic-array template: Verilog generation, simulation and synthesis.

Three layers, each usable alone:

* description - :class:`SystolicDesign`, a frozen, validated set of parameters;
* emitters - :func:`emit_design` / :func:`write_design` turn it into readable Verilog-2005;
* backends - :func:`get_simulator` (Icarus, Verilator; cocotb testbench :mod:`.tb_gemm`),
  :func:`synthesize` (Yosys generic / iCE40 / Xilinx) and :func:`place_and_route_ice40`.

:mod:`codesign_playground.rtl.host` holds what a host needs to drive a design (register map,
buffer layouts, NumPy reference). Cycle counts are modelled in
:mod:`codesign_playground.perf.rtl_timing`. See ``docs/rtl.md``.
"""

from codesign_playground.rtl._design import DATAFLOWS, DIM_WIDTH, Dataflow, SystolicDesign
from codesign_playground.rtl._emit import (
    MANIFEST_NAME,
    GeneratedDesign,
    emit_design,
    write_design,
)
from codesign_playground.rtl._host import (
    CSR,
    GemmCase,
    buffer_words,
    check_gemm_fits,
    reference_gemm,
    sample_cases,
)
from codesign_playground.rtl._sim import (
    SIMULATORS,
    CaseResult,
    SimReport,
    Simulator,
    ToolNotFoundError,
    get_simulator,
    load_generated,
)
from codesign_playground.rtl._synth import (
    SYNTH_TARGETS,
    PnrReport,
    SynthReport,
    place_and_route_ice40,
    synthesize,
    yosys_available,
)

__all__ = [
    "CSR",
    "DATAFLOWS",
    "DIM_WIDTH",
    "MANIFEST_NAME",
    "SIMULATORS",
    "SYNTH_TARGETS",
    "CaseResult",
    "Dataflow",
    "GemmCase",
    "GeneratedDesign",
    "PnrReport",
    "SimReport",
    "Simulator",
    "SynthReport",
    "SystolicDesign",
    "ToolNotFoundError",
    "buffer_words",
    "check_gemm_fits",
    "emit_design",
    "get_simulator",
    "load_generated",
    "place_and_route_ice40",
    "reference_gemm",
    "sample_cases",
    "synthesize",
    "write_design",
    "yosys_available",
]
