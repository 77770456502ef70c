#!/usr/bin/env python
"""Regenerate docs/validation.md: RTL simulation matrix, Yosys synthesis and nextpnr results.

    .venv/bin/python scripts/rtl_validation.py [--out docs/validation.md] [--work DIR]
                                               [--no-sim] [--shapes 24]

Runs (tools from scripts/install_rtl_tools.sh):
  * the simulation matrix: 2x2, 4x4, 8x8, 16x16 x {ws, os} x {icarus, verilator}, 24 GEMM
    shapes each, bit-exact against NumPy and cycles against perf.rtl_timing;
  * Yosys generic, synth_ice40 and synth_xilinx on the 8x8 int8 ws and os designs;
  * nextpnr-ice40 (hx8k, ct256) on the largest of 4x4 / 2x2 (buffer depth 256) that fits.
and writes the tables, including the analytical area model against the synthesized netlists
(section "Area model vs synthesis").
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from codesign_playground.perf.rtl_timing import rtl_gemm_cycles, scalesim_fold_cycles
from codesign_playground.rtl import (
    SystolicDesign,
    get_simulator,
    place_and_route_ice40,
    sample_cases,
    synthesize,
    write_design,
    yosys_available,
)

REPO = Path(__file__).resolve().parents[1]
SIZES = (2, 4, 8, 16)

# Area in um^2 of the NanGate FreePDK45 Open Cell Library v1.3 cells that realize each of
# Yosys' generic gates (NangateOpenCellLibrary_typical.lib, cell `area` attributes: INV_X1
# 0.532, NAND2_X1 0.798, NOR2_X1 0.798, AND2_X1 1.064, OR2_X1 1.064, XOR2_X1 1.596, XNOR2_X1
# 1.596, MUX2_X1 1.862, DFF_X1 4.522). Gates the library lacks are composed: ANDNOT/ORNOT =
# INV + AND2/OR2; an enable flop = DFF + MUX2; a synchronous reset = DFF + AND2.
NANGATE45_UM2 = {
    "$_NOT_": 0.532, "$_NAND_": 0.798, "$_NOR_": 0.798, "$_AND_": 1.064, "$_OR_": 1.064,
    "$_XOR_": 1.596, "$_XNOR_": 1.596, "$_ANDNOT_": 0.532 + 1.064, "$_ORNOT_": 0.532 + 1.064,
    "$_MUX_": 1.862,
}  # fmt: skip
# Flip-flops by family, whatever the clock/enable/reset polarity letters after the name.
NANGATE45_FF_UM2 = {
    "$_DFF_": 4.522, "$_DFFE_": 4.522 + 1.862, "$_SDFF_": 4.522 + 1.064,
    "$_SDFFE_": 4.522 + 1.862 + 1.064, "$_SDFFCE_": 4.522 + 1.862 + 1.064,
}  # fmt: skip
# One processing element's arithmetic, as the area model counts it: an 8x8 signed multiply
# feeding a 32-bit accumulate (perf/area.py, hardware/technology.pe_area_um2("int8")).
MAC_VERILOG = """module mac8(input clk, input signed [7:0] a, input signed [7:0] b,
  input signed [31:0] c, output reg signed [31:0] y);
  always @(posedge clk) y <= c + a * b;
endmodule
"""


def _tool_version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"
    lines = (out.stdout or out.stderr).strip().splitlines()
    return lines[0] if lines else "?"


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def run_matrix(work: Path, shapes: int) -> tuple[str, float]:
    rows: list[list[Any]] = []
    t_all = time.perf_counter()
    for sim_name in ("icarus", "verilator"):
        sim = get_simulator(sim_name)
        if not sim.available():
            rows.append([sim_name, "-", "-", "not installed", "", "", "", ""])
            continue
        for side in SIZES:
            for df in ("ws", "os"):
                d = SystolicDesign(side, side, df)  # type: ignore[arg-type]
                cases = sample_cases(d, shapes, seed=side)
                g = write_design(d, work / "sim" / d.label / "rtl")
                rep = sim.run(g, cases, work / "sim" / d.label / "build", seed=7)
                ms, ns, ks = ([getattr(c, a) for c in rep.cases] for a in ("m", "n", "k"))
                model = rtl_gemm_cycles(ms, ns, ks, side, side, df).tolist()
                ss = scalesim_fold_cycles(ms, ns, ks, side, side, df).tolist()
                exact = sum(c.ok for c in rep.cases)
                match = sum(c.cycles == mo == c.cycles_measured
                            for c, mo in zip(rep.cases, model, strict=True))  # fmt: skip
                total_cycles = sum(c.cycles for c in rep.cases)
                rows.append([
                    sim_name, f"{side}x{side}", df, f"{exact}/{len(rep.cases)}",
                    f"{match}/{len(rep.cases)}", total_cycles, total_cycles - sum(ss),
                    f"{rep.build_s:.1f} + {rep.run_s:.1f}",
                ])  # fmt: skip
                print(f"  {sim_name} {d.label}: {exact}/{len(rep.cases)} exact", flush=True)
    wall = time.perf_counter() - t_all
    header = ["simulator", "array", "dataflow", "C == NumPy", "cycles == model",
              "cycles (sum)", "cycles - SCALE-Sim", "build + run s"]  # fmt: skip
    return _table(header, rows), wall


def _inventory(d: SystolicDesign) -> dict[str, int]:
    """Structural counts of the generated RTL (what the emitters instantiate)."""
    r, c, dw, aw = d.rows, d.cols, d.data_width, d.acc_width
    pe_bits = (dw + dw + aw) if d.dataflow == "ws" else (dw + 2 + dw + aw)
    a_lane = dw if d.dataflow == "ws" else dw + 2
    skew_bits = sum(range(r)) * a_lane
    skew_bits += sum(range(c)) * (aw if d.dataflow == "ws" else dw)  # de-skew / B skew
    return {
        "multipliers (DW x DW signed)": r * c,
        "MAC adders (AW bits)": r * c,
        "accumulate adders (AW bits, ws C += )": c if d.dataflow == "ws" else 0,
        "PE register bits": r * c * pe_bits,
        "skew / de-skew register bits": skew_bits,
        "A buffer bits": d.buffer_bits["a"],
        "B buffer bits": d.buffer_bits["b"],
        "C buffer bits": d.buffer_bits["c"],
    }


def run_synthesis(work: Path) -> tuple[str, str, dict[str, dict[str, int]]]:
    if not yosys_available():
        return "yosys is not installed; nothing synthesized.\n", "", {}
    summary_rows: list[list[Any]] = []
    raw: list[str] = []
    generic: dict[str, dict[str, int]] = {}
    for df in ("ws", "os"):
        d = SystolicDesign(8, 8, df, data_width=8)  # type: ignore[arg-type]
        g = write_design(d, work / "synth" / d.label / "rtl")
        reports = {}
        for target in ("generic", "xilinx", "ice40"):
            print(f"  yosys {target} {d.label}", flush=True)
            rep = synthesize(g, target, work / "synth" / d.label)
            reports[target] = rep
            s = rep.summary
            summary_rows.append([
                d.label, target, s.get("cells", ""), s.get("luts", "-"), s.get("flip_flops", ""),
                s.get("carry", "-"), s.get("dsps", "-"), s.get("brams", "-"),
                s.get("gates", "-"), f"{rep.runtime_s:.0f}",
            ])  # fmt: skip
        gen = reports["generic"]
        generic[d.label] = gen.cells
        raw.append(f"### {d.label} (buffer depth {d.buffer_depth})\n")
        raw.append("Structural inventory of the generated RTL:\n")
        raw.append(_table(["item", "count"], [[k, v] for k, v in _inventory(d).items()]))
        raw.append("\nYosys 0.23 word-level cells after `synth -run begin:fine` "
                   "(memories kept as `$mem_v2`; bits = sum of cell output widths):\n")  # fmt: skip
        coarse = [[k, v, gen.coarse_bits.get(k, "")] for k, v in gen.coarse.items()]
        raw.append(_table(["cell", "count", "bits"], coarse))
        raw.append("\nYosys generic gate-level cells (`techmap; abc -fast`):\n")
        raw.append(_table(["cell", "count"], [[k, v] for k, v in gen.cells.items()]))
        raw.append("\nFPGA cells:\n")
        fpga = sorted(set(reports["ice40"].cells) | set(reports["xilinx"].cells))
        ice, xil = reports["ice40"].cells, reports["xilinx"].cells
        raw.append(
            _table(["cell", "ice40", "xilinx"], [[k, ice.get(k, ""), xil.get(k, "")] for k in fpga])
        )
        raw.append("")
    header = ["design", "target", "cells", "LUTs", "FFs", "carry", "DSPs", "BRAMs",
              "gates", "yosys s"]  # fmt: skip
    return _table(header, summary_rows), "\n".join(raw), generic


def gate_area_um2(cells: dict[str, int]) -> tuple[float, float, int]:
    """NanGate 45 nm area of a generic gate-level netlist: (logic, flip-flops, unmapped)."""
    logic = ffs = 0.0
    unmapped = 0
    for cell, count in cells.items():
        parts = cell.split("_")  # "$_SDFFE_PN0P_" -> ["$", "SDFFE", "PN0P", ""]
        family = f"$_{parts[1]}_" if len(parts) >= 3 else cell
        if family in NANGATE45_FF_UM2:
            ffs += NANGATE45_FF_UM2[family] * count
        elif cell in NANGATE45_UM2:
            logic += NANGATE45_UM2[cell] * count
        elif not cell.startswith("$mem"):
            unmapped += count
    return logic, ffs, unmapped


def synth_mac(work: Path) -> dict[str, int]:
    """Yosys generic gates of one int8 MAC with a 32-bit accumulate (the model's PE)."""
    d = work / "mac8"
    d.mkdir(parents=True, exist_ok=True)
    (d / "mac8.v").write_text(MAC_VERILOG)
    subprocess.run(
        ["yosys", "-q", "-p", "read_verilog mac8.v; synth -top mac8 -flatten; "
         "abc -g AND,NAND,OR,NOR,XOR,XNOR,ANDNOT,ORNOT,MUX; opt_clean; "
         "tee -o stat.txt stat"],
        cwd=d, check=True, capture_output=True, text=True,
    )  # fmt: skip
    cells: dict[str, int] = {}
    for line in (d / "stat.txt").read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].startswith("$_") and parts[1].isdigit():
            cells[parts[0]] = int(parts[1])
    return cells


def area_comparison(work: Path, generic: dict[str, dict[str, int]]) -> str:
    """The analytical area model against synthesis, as a Markdown section body."""
    from codesign_playground.hardware import systolic
    from codesign_playground.hardware.technology import pe_area_um2, sram_area_mm2
    from codesign_playground.perf.area import area_breakdown

    mac_cells = synth_mac(work)
    mac_logic, _, _ = gate_area_um2(mac_cells)
    model_mac = pe_area_um2("int8", 45.0)
    rows: list[list[Any]] = [[
        "one PE (int8 x int8 + int32)", "arithmetic",
        f"{mac_logic:.0f} um^2 ({sum(v for k, v in mac_cells.items() if 'DFF' not in k)} gates)",
        f"{model_mac:.0f} um^2", f"{model_mac / mac_logic - 1:+.0%}",
    ]]  # fmt: skip
    for label, cells in generic.items():
        d = SystolicDesign(8, 8, label.split("-")[1], data_width=8)  # type: ignore[arg-type]
        bits = d.buffer_bits
        spec = systolic(
            rows=8, cols=8, ifmap_sram_kb=bits["a"] / 8192, filter_sram_kb=bits["b"] / 8192,
            ofmap_sram_kb=bits["c"] / 8192, tech_node_nm=45, name=label,
        )  # fmt: skip
        model = area_breakdown(spec)
        logic, ffs, unmapped = gate_area_um2(cells)
        pe_model = model.components["pe_array"] * 1e6
        sram_model = sum(v for k, v in model.components.items() if k != "pe_array") * 1e6
        total_bits = bits["a"] + bits["b"] + bits["c"]
        rows += [
            [label, "PE array arithmetic vs all synthesized logic", f"{logic:,.0f} um^2",
             f"{pe_model:,.0f} um^2", f"{pe_model / logic - 1:+.0%}"],
            [label, "logic + flip-flops", f"{logic + ffs:,.0f} um^2",
             f"{pe_model:,.0f} um^2 (no register term)", f"{pe_model / (logic + ffs) - 1:+.0%}"],
            [label, "on-chip buffer bits", f"{total_bits:,} (3 x $mem_v2)",
             f"{total_bits:,}", "0%"],
            [label, "buffer area", "not synthesized (no SRAM compiler)",
             f"{sram_model:,.0f} um^2 = bits x 0.346 um^2",
             "bit cells only"],
        ]  # fmt: skip
        assert unmapped == 0, f"unmapped generic cells in {label}"
        assert abs(sram_model - float(sram_area_mm2(total_bits / 8, 45.0)) * 1e6) < 1e-6
    table = _table(["design", "quantity", "synthesis (NanGate 45 nm areas)", "area model (45 nm)",
                    "model error"], rows)  # fmt: skip
    return f"""The area model counts arithmetic (Horowitz, ISSCC 2014, 45 nm: int8 multiply
282 um^2, 32-bit add 137 um^2) and SRAM bit cells (0.346 um^2, Intel 45 nm); the synthesized
netlists are Yosys' generic gates priced with the NanGate FreePDK45 Open Cell Library's cell areas
(table in `scripts/rtl_validation.py`). A negative error means the model predicts less area.

{table}

What the errors say: for one MAC the Horowitz constant the model uses is
{model_mac / mac_logic - 1:+.0%} against the synthesized gates. Part of that gap is the
flow, not the model: Yosys' generic `abc -g` mapping has no liberty file and does no area
recovery, so it is larger than a library-mapped, area-optimized netlist such as those behind
Horowitz's figures. For the whole array the model also leaves out the pipeline registers,
skew lines, controller and buffer muxing that synthesis adds. Use the model to compare designs
of one family, not as a sign-off area. The buffers are left to an SRAM compiler; the model's
bit-cell area is a lower bound on a real macro (periphery excluded).
"""


def run_pnr(work: Path) -> str:
    if not yosys_available():
        return "yosys is not installed.\n"
    rows: list[list[Any]] = []
    notes = []
    for side in (4, 2):
        d = SystolicDesign(side, side, "ws", data_width=8, buffer_depth=256)
        g = write_design(d, work / "pnr" / d.label / "rtl")
        rep = synthesize(g, "ice40", work / "pnr" / d.label)
        assert rep.netlist is not None
        print(f"  nextpnr-ice40 {d.label}", flush=True)
        try:
            p = place_and_route_ice40(rep.netlist, work / "pnr" / d.label)
        except RuntimeError as exc:
            notes.append(
                f"* {d.label} (depth 256) does not fit hx8k/ct256 (its wide buffer ports "
                f"need more pins than the package bonds out): {exc}"
            )
            continue
        lc, lct = p.utilisation.get("ICESTORM_LC", (0, 0))
        ram, ramt = p.utilisation.get("ICESTORM_RAM", (0, 0))
        io, iot = p.utilisation.get("SB_IO", (0, 0))
        rows.append([d.label, f"{p.device}/{p.package}", f"{lc}/{lct}", f"{ram}/{ramt}",
                     f"{io}/{iot}", f"{p.fmax_mhz:.1f}", f"{p.runtime_s:.0f}"])  # fmt: skip
        break
    header = ["design (depth 256)", "device", "logic cells", "BRAM", "IO", "Fmax MHz", "s"]
    return _table(header, rows) + ("\n\n" + "\n".join(notes) if notes else "")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "validation.md")
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--no-sim", action="store_true", help="skip the simulation matrix")
    ap.add_argument("--shapes", type=int, default=24)
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="cg-rtl-validation-"))
    t0 = time.perf_counter()
    versions = {
        "Icarus Verilog": get_simulator("icarus").version() or "Icarus: not installed",
        "Verilator": get_simulator("verilator").version() or "Verilator: not installed",
        "Yosys": _tool_version(["yosys", "-V"]),
        "nextpnr-ice40": _tool_version(["nextpnr-ice40", "--version"]),
    }
    try:
        import cocotb

        versions["cocotb"] = f"cocotb {cocotb.__version__}"
    except ImportError:
        versions["cocotb"] = "cocotb not installed"
    print("simulation matrix", flush=True)
    matrix, sim_wall = (
        ("(skipped: --no-sim)", 0.0) if args.no_sim else run_matrix(work, args.shapes)
    )
    print("synthesis", flush=True)
    synth_table, raw, generic = run_synthesis(work)
    area = area_comparison(work, generic) if generic else "yosys is not installed.\n"
    print("place and route", flush=True)
    pnr = run_pnr(work)

    text = f"""# Validation: RTL of the systolic-array template

Generated by `scripts/rtl_validation.py` on {platform.node()} ({platform.machine()},
Python {platform.python_version()}); total {time.perf_counter() - t0:.0f} s. Re-run the script
to refresh every table (none is edited by hand).

Tools: {"; ".join(versions.values())}.

## Simulation: bit-exact GEMMs and cycle counts

Each row is one build and one cocotb simulation of {args.shapes} GEMM shapes (edge shapes,
non-multiples of the array size, most-negative/most-positive operands, a 3x6x6 3x3-conv lowered
with im2col, random shapes up to 3x the array side), int8 operands, int32 accumulators.
"C == NumPy": bit-exact results; "cycles == model": the `CYCLES` register, the cycle count the
testbench measured from start to done, and `perf.rtl_timing.rtl_gemm_cycles` all agree;
"cycles - SCALE-Sim": summed difference to SCALE-Sim's compute cycles for the same shapes
(ws: +3 per GEMM; os: +rows per fold +2 per GEMM; see docs/rtl.md, "Timing").
Matrix wall time: {sim_wall:.0f} s.

{matrix}

## Synthesis (Yosys 0.23), 8x8 int8, buffer depth 512

Generic: Yosys' internal gate library after `techmap; abc -fast`, buffers left as memories.
iCE40: `synth_ice40` (no DSP inference: HX/LP parts; multipliers become LUTs and carries).
Xilinx: `synth_xilinx -family xc7` (MACs map to DSP48E1, buffers to RAMB36E1/RAMB18E1);
its FF count excludes registers absorbed into the DSP48E1s (A/B/P) and skew lines mapped to
SRL16E, which is why it is far below the generic count.

{synth_table}

## Place and route (nextpnr-ice40 0.4)

Largest of 4x4 / 2x2 int8 ws with 256-word buffers that fits an iCE40-HX8K (ct256); IOs are
left unconstrained (placed by nextpnr), the clock target is 100 MHz. The whole top level is
placed with its wide host ports as pins, so the IO count, not the logic, limits the size.

{pnr}

## Area model vs synthesis

{area}
Raw numbers:

{raw}
"""
    args.out.write_text(text)
    print(f"wrote {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
