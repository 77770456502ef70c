"""RTL for the systolic-array template: Verilog generation, simulation and synthesis."""

from codesign_playground.rtl._design import DATAFLOWS, Dataflow, SystolicDesign
from codesign_playground.rtl._emit import GeneratedDesign, emit_design, write_design

__all__ = ["DATAFLOWS", "Dataflow", "GeneratedDesign", "SystolicDesign", "emit_design", "write_design"]
