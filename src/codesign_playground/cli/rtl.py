"""``codesign rtl``: generate, simulate and synthesize the systolic-array RTL.

Registered by the main app as ``codesign rtl``. Every command prints a Rich table, or JSON with
``--json``; bad input is one line on stderr and exit code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.table import Table

from codesign_playground.cli.console import out_console, print_json
from codesign_playground.cli.status import CommandFailed
from codesign_playground.config import Settings
from codesign_playground.errors import CodesignError, InputError
from codesign_playground.perf.rtl_timing import rtl_gemm_cycles, scalesim_fold_cycles
from codesign_playground.rtl import (
    SIMULATORS,
    SYNTH_TARGETS,
    GemmCase,
    SystolicDesign,
    get_simulator,
    load_generated,
    place_and_route_ice40,
    sample_cases,
    synthesize,
    write_design,
)

__all__ = ["app"]

app = typer.Typer(
    name="rtl",
    help="Generate, simulate (cocotb: Icarus, Verilator) and synthesize (Yosys) the "
    "systolic-array RTL.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


_SYNTH_DEFAULTS: dict[str, Any] = {
    name: Settings.model_fields[name].default
    for name in (
        "codesign_synth_max_pes",
        "codesign_synth_memory_mb",
        "codesign_synth_timeout_seconds",
    )
}
"""The service's synthesis limits (``CODESIGN_SYNTH_*``, read from the environment by the
options below): one default for the API's RTL jobs and this command."""


def _fail(message: str) -> NoReturn:
    """Bad input: the error boundary of ``cli/main.py`` prints it and exits with 2."""
    raise InputError(message)


JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@app.command("generate")
def generate_command(
    rows: Annotated[int, typer.Option("--rows", "-r", help="PE rows (2..64).")] = 4,
    cols: Annotated[int, typer.Option("--cols", "-c", help="PE columns (2..64).")] = 4,
    dataflow: Annotated[
        str, typer.Option("--dataflow", "-d", help="ws (weight-) or os (output-stationary).")
    ] = "ws",
    data_width: Annotated[
        int, typer.Option("--data-width", "-w", help="Signed operand bits (4..16).")
    ] = 8,
    acc_width: Annotated[int, typer.Option("--acc-width", help="Accumulator bits.")] = 32,
    buffer_depth: Annotated[
        int, typer.Option("--buffer-depth", help="Words per on-chip buffer (power of two).")
    ] = 512,
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to write.")] = Path("rtl"),
    as_json: JsonOpt = False,
) -> None:
    """Write the Verilog of one design (and design.json) to --out."""
    try:
        design = SystolicDesign(
            rows=rows,
            cols=cols,
            dataflow=dataflow,  # type: ignore[arg-type]  # validated by the constructor
            data_width=data_width,
            acc_width=acc_width,
            buffer_depth=buffer_depth,
        )
        generated = write_design(design, out)
    except CodesignError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"--out {str(out)!r}: cannot write ({exc.strerror})")
    if as_json:
        print_json(
            {
                "design": design.to_dict(),
                "directory": str(generated.directory),
                "sources": [str(p) for p in generated.sources],
                "buffer_bits": design.buffer_bits,
            }
        )
        return
    table = Table(title=f"{design.label} -> {generated.directory}")
    table.add_column("file")
    table.add_column("lines", justify="right")
    for path in generated.sources:
        table.add_row(path.name, str(path.read_text().count("\n")))
    out_console.print(table)


def _parse_shape(text: str) -> GemmCase:
    parts = text.lower().split("x")
    if len(parts) != 3 or not all(p.strip().isdigit() for p in parts):
        _fail(f"--shape must be MxNxK, e.g. 17x9x33, got {text!r}")
    m, n, k = (int(p) for p in parts)
    return GemmCase(m, n, k)


@app.command("simulate")
def simulate_command(
    directory: Annotated[Path, typer.Argument(help="A directory written by 'rtl generate'.")],
    simulator: Annotated[
        str, typer.Option("--simulator", "-s", help="verilator or icarus.")
    ] = "verilator",
    shapes: Annotated[
        int, typer.Option("--shapes", "-n", help="Number of GEMM shapes to run.")
    ] = 20,
    shape: Annotated[
        list[str] | None, typer.Option("--shape", help="Run this MxNxK (repeatable) instead.")
    ] = None,
    max_dim: Annotated[
        int | None, typer.Option("--max-dim", help="Largest random M, N, K.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Operand / shape seed.")] = 0,
    vcd: Annotated[bool, typer.Option("--vcd", help="Also write a VCD waveform.")] = False,
    work: Annotated[
        Path | None, typer.Option("--work", help="Build directory (default DIR/sim_build).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run random GEMMs on the design; check C against NumPy and cycles against the model."""
    try:
        if simulator not in SIMULATORS:
            _fail(f"--simulator must be one of {', '.join(SIMULATORS)}, got {simulator!r}")
        if shapes < 1:
            _fail(f"--shapes must be >= 1, got {shapes}")
        generated = load_generated(directory)
        design = generated.design
        backend = get_simulator(simulator)
        backend.require()
        cases = (
            [_parse_shape(s) for s in shape]
            if shape
            else sample_cases(design, shapes, seed=seed, max_dim=max_dim)
        )
        report = backend.run(
            generated, cases, work or generated.directory / "sim_build", seed=seed, waves=vcd
        )
    except CodesignError as exc:
        _fail(str(exc))
    ms, ns, ks = ([getattr(c, dim) for c in report.cases] for dim in ("m", "n", "k"))
    model = rtl_gemm_cycles(ms, ns, ks, design.rows, design.cols, design.dataflow)
    scalesim = scalesim_fold_cycles(ms, ns, ks, design.rows, design.cols, design.dataflow)
    doc: dict[str, Any] = report.to_dict()
    for case, mod, ss in zip(doc["cases"], model.tolist(), scalesim.tolist(), strict=True):
        case["model_cycles"] = mod
        case["scalesim_compute_cycles"] = ss
    doc["cycles_match_model"] = all(c["cycles"] == c["model_cycles"] for c in doc["cases"])
    if as_json:
        print_json(doc)
    else:
        table = Table(title=f"{design.label} on {report.simulator} ({report.simulator_version})")
        for col in ("M", "N", "K", "operands", "cycles", "model", "SCALE-Sim", "C == NumPy"):
            table.add_column(col, justify="left" if col == "operands" else "right")
        for c in doc["cases"]:
            table.add_row(
                str(c["m"]),
                str(c["n"]),
                str(c["k"]),
                c["kind"],
                str(c["cycles"]),
                str(c["model_cycles"]),
                str(c["scalesim_compute_cycles"]),
                "yes" if c["ok"] else f"[red]no ({c['mismatches']})[/red]",
            )
        out_console.print(table)
        out_console.print(
            f"build {report.build_s:.1f} s, run {report.run_s:.1f} s"
            + (f", waves: {report.waves}" if report.waves else "")
        )
    if not (report.ok and doc["cycles_match_model"]):
        raise CommandFailed("the simulated RTL does not match the expected results or cycles")


@app.command("synth")
def synth_command(
    directory: Annotated[Path, typer.Argument(help="A directory written by 'rtl generate'.")],
    target: Annotated[
        str, typer.Option("--target", "-t", help="generic, ice40 or xilinx.")
    ] = "generic",
    pnr: Annotated[
        bool, typer.Option("--pnr", help="ice40: also place and route (nextpnr, hx8k).")
    ] = False,
    work: Annotated[
        Path | None, typer.Option("--work", help="Output directory (default DIR/synth).")
    ] = None,
    max_pes: Annotated[
        int,
        typer.Option(
            "--max-pes",
            envvar="CODESIGN_SYNTH_MAX_PES",
            min=4,
            help="Largest array (rows x cols) to synthesize.",
        ),
    ] = _SYNTH_DEFAULTS["codesign_synth_max_pes"],
    memory_mb: Annotated[
        int,
        typer.Option(
            "--memory-mb",
            envvar="CODESIGN_SYNTH_MEMORY_MB",
            min=1,
            help="Address space of Yosys and of each ABC process (ulimit -v), MB.",
        ),
    ] = _SYNTH_DEFAULTS["codesign_synth_memory_mb"],
    timeout_s: Annotated[
        float,
        typer.Option(
            "--timeout",
            envvar="CODESIGN_SYNTH_TIMEOUT_SECONDS",
            min=1,
            help="Seconds before Yosys and ABC are killed.",
        ),
    ] = _SYNTH_DEFAULTS["codesign_synth_timeout_seconds"],
    as_json: JsonOpt = False,
) -> None:
    """Synthesize the design with Yosys and report cell counts (and Fmax with --pnr)."""
    try:
        if target not in SYNTH_TARGETS:
            _fail(f"--target must be one of {', '.join(SYNTH_TARGETS)}, got {target!r}")
        if pnr and target != "ice40":
            _fail(f"--pnr needs --target ice40, got --target {target}")
        generated = load_generated(directory)
        rows, cols = generated.design.rows, generated.design.cols
        if rows * cols > max_pes:
            _fail(
                f"--max-pes: the design is {rows} x {cols} = {rows * cols} PEs, above the limit "
                f"of {max_pes} (CODESIGN_SYNTH_MAX_PES); Yosys needs many GB and minutes for "
                "large arrays: raise --max-pes to synthesize it anyway"
            )
        where = work or generated.directory / "synth"
        report = synthesize(generated, target, where, timeout_s=timeout_s, memory_mb=memory_mb)
        placed = place_and_route_ice40(report.netlist, where) if pnr and report.netlist else None
    except CodesignError as exc:
        _fail(str(exc))
    doc = report.to_dict()
    if placed is not None:
        doc["pnr"] = placed.to_dict()
    if as_json:
        print_json(doc)
        return
    summary = Table(title=f"{generated.design.label}: yosys {target}")
    summary.add_column("figure")
    summary.add_column("count", justify="right")
    for key, value in report.summary.items():
        summary.add_row(key, str(value))
    if placed is not None:
        summary.add_row(f"Fmax ({placed.device}, MHz)", f"{placed.fmax_mhz:.1f}")
    out_console.print(summary)
    cells = Table(title="cells by type")
    cells.add_column("cell")
    cells.add_column("count", justify="right")
    for name, count in report.cells.items():
        cells.add_row(name, str(count))
    out_console.print(cells)
