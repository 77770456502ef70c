"""Generate a 4x4 output-stationary int8 design, run GEMMs and a lowered convolution on it.

    .venv/bin/python examples/rtl/gemm_and_conv.py [--simulator icarus|verilator] [--out DIR]

Needs the tools of scripts/install_rtl_tools.sh. Prints each GEMM's cycles next to the
closed-form model and SCALE-Sim's compute cycles.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from codesign_playground.perf.rtl_timing import rtl_gemm_cycles, scalesim_fold_cycles
from codesign_playground.rtl import GemmCase, SystolicDesign, get_simulator, write_design
from codesign_playground.rtl._host import conv_case


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--simulator", default="icarus", choices=["icarus", "verilator"])
    ap.add_argument("--out", type=Path, default=Path("build/rtl-example"))
    args = ap.parse_args()

    design = SystolicDesign(rows=4, cols=4, dataflow="os", data_width=8)
    generated = write_design(design, args.out / "rtl")
    cases = [GemmCase(17, 9, 33), GemmCase(4, 4, 4, "extreme"), conv_case(8)]
    report = get_simulator(args.simulator).run(generated, cases, args.out / "sim")
    for case in report.cases:
        model = int(rtl_gemm_cycles(case.m, case.n, case.k, 4, 4, "os"))
        scalesim = int(scalesim_fold_cycles(case.m, case.n, case.k, 4, 4, "os"))
        print(
            f"{case.kind:8s} {case.m}x{case.n}x{case.k}: exact={case.ok} cycles={case.cycles} "
            f"model={model} SCALE-Sim={scalesim}"
        )


if __name__ == "__main__":
    main()
