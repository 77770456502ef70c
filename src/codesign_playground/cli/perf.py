"""``codesign estimate``: latency, energy and area of a model on a hardware description."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from codesign_playground.cli.console import err_console, human, out_console, print_json
from codesign_playground.cli.workload import ModelOptions, load_from_options, unresolved_summary
from codesign_playground.errors import InputError
from codesign_playground.hardware import HardwareSpec, load_hardware
from codesign_playground.hardware.foreign import foreign_format, read_foreign_hardware
from codesign_playground.perf.estimate import MODES, Estimate, estimate
from codesign_playground.perf.mapped import OBJECTIVES, MappedEstimate, estimate_mapped

__all__ = ["estimate_command", "resolve_hardware"]


def resolve_hardware(ref: str) -> HardwareSpec:
    """A catalog name, a YAML/JSON description, or a SCALE-Sim ``.cfg`` file (resolved by
    the library: :func:`codesign_playground.hardware.load_hardware`)."""
    return load_hardware(ref)


def estimate_command(
    model: Annotated[
        str, typer.Option("--model", "-m", help="An .onnx/.pt2/SCALE-Sim .csv file or zoo name.")
    ],
    hardware: Annotated[
        str,
        typer.Option("--hardware", "-H", help="A catalog chip, a .yaml/.json file or a .cfg."),
    ],
    batch: ModelOptions.Batch = 1,
    precision: ModelOptions.PrecisionOpt = None,
    dim: ModelOptions.Dim = None,
    resolution: ModelOptions.Resolution = None,
    seq_len: ModelOptions.SeqLen = None,
    kv_len: ModelOptions.KvLen = None,
    width: ModelOptions.Width = None,
    allow_unresolved: ModelOptions.AllowUnresolved = False,
    mode: Annotated[
        str, typer.Option("--mode", help=f"Timing model: {', '.join(MODES)}.")
    ] = "auto",
    launch: Annotated[
        str | None,
        typer.Option(
            "--launch",
            help="GPU execution: graph (kernel time only, as CUDA graphs) or eager "
            "(plus an eager framework's per-kernel launch cost).",
        ),
    ] = None,  # None: the default (graph), reported as such
    tf32: Annotated[
        str | None,
        typer.Option(
            "--tf32",
            help="GPU fp32 on tensor cores: on or off (default: PyTorch's, convolutions "
            "TF32, matmuls fp32).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    fmt: Annotated[
        str,
        typer.Option("--format", help="table, json, or scalesim (SCALE-Sim's report files)."),
    ] = "table",
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for --format scalesim reports.")
    ] = None,
    mapping: Annotated[
        str | None,
        typer.Option(
            "--mapping",
            help="A ZigZag mapping .yaml, or a Timeloop constraints .yaml, for -H.",
        ),
    ] = None,
    objective: Annotated[
        str | None,
        typer.Option(
            "--objective",
            help="Mapper target: latency, energy or edp (spatial designs, ZigZag/Timeloop files).",
        ),
    ] = None,
    ert: Annotated[
        str | None,
        typer.Option("--ert", help="An Accelergy ERT for a Timeloop architecture."),
    ] = None,
) -> None:
    """Estimate cycles, seconds, joules and mm^2 of MODEL on HARDWARE, per layer and in total.

    HARDWARE may also be a ZigZag 3.x accelerator or a Timeloop/Accelergy v0.4 architecture
    YAML; MODEL may be a ZigZag YAML workload or a Timeloop problem.
    """
    if as_json and fmt == "table":
        fmt = "json"
    if fmt not in ("table", "json", "scalesim", "zigzag"):
        raise InputError(f"--format: unknown format {fmt!r}; use table, json, scalesim or zigzag")
    if objective is not None and objective not in OBJECTIVES:
        raise InputError(
            f"--objective: unknown objective {objective!r}; use latency, energy or edp"
        )
    if mapping is not None or objective is not None or ert is not None or fmt == "zigzag":
        zoo = (resolution, seq_len, kv_len, width)
        _mapped_command(
            model, hardware, mapping, ert, objective or "energy", fmt, precision, batch, dim, zoo
        )
        return
    if foreign_format(hardware) is not None:
        zoo = (resolution, seq_len, kv_len, width)
        _mapped_command(model, hardware, None, None, "energy", fmt, precision, batch, dim, zoo)
        return
    if fmt == "scalesim":
        from codesign_playground.cli.scalesim import write_scalesim_reports

        if out is None:
            raise InputError("--out: --format scalesim writes report files; give a folder")
        write_scalesim_reports(
            model,
            hardware,
            out,
            batch=batch,
            precision=precision,
            dim=dim,
            resolution=resolution,
            seq_len=seq_len,
            kv_len=kv_len,
            width=width,
        )
        return
    spec = resolve_hardware(hardware)
    sources = {
        "precision": spec.precision_source(precision),
        "batch": "asked (--batch)" if batch != 1 else "default: 1",
    }
    precision = spec.run_precision(precision)  # none asked: the chip's own (int8 on a TPU v1)
    net = load_from_options(
        model,
        batch,
        precision,
        dim,
        resolution,
        seq_len,
        kv_len,
        width,
        allow_unresolved=allow_unresolved,
    )
    result = estimate(net, spec, mode=mode, launch=launch, tf32=tf32, sources=sources)
    if fmt == "json":
        report = result.to_dict()
        if net.unresolved:  # the estimate leaves these ops out: say how much
            report["unresolved"] = unresolved_summary(net)
        print_json(report)
        return
    _render(result)


def run_line(e: Estimate) -> str:
    """What the estimate ran with, for a title: ``int8, batch 1, systolic model``."""
    st = e.settings
    prec = st["precision"]["value"]
    parts = [
        "/".join(prec) if isinstance(prec, list) else str(prec),
        f"batch {st['batch']['value']}",
        f"{st['timing_model']['value']} model",
    ]
    if "launch" in st:
        parts.append(f"{st['launch']['value']} launch")
    return ", ".join(parts)


def run_sources(e: Estimate) -> str:
    """Where each setting came from, one line."""
    return "; ".join(f"{k} {v['value']}: {v['source']}" for k, v in e.settings.items())


def _mapped_command(
    model: str,
    hardware: str,
    mapping: str | None,
    ert: str | None,
    objective: str,
    fmt: str,
    precision: str | None,
    batch: int,
    dim: list[str] | None,
    zoo: tuple[int | None, int | None, int | None, float | None],
) -> None:
    """The loop-nest mapper's estimate for ZigZag/Timeloop files or a spatial spec."""
    if fmt == "scalesim":
        raise InputError("--format: scalesim reports need a systolic design; use json or zigzag")
    for ref, what in ((mapping, "--mapping"), (ert, "--ert")):
        if ref is not None and not Path(ref).is_file():
            raise InputError(f"{what}: file not found: {ref}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        foreign = read_foreign_hardware(hardware, mapping=mapping, ert=ert)
        if foreign is None:
            if mapping is not None or ert is not None:
                raise InputError(
                    f"--mapping/--ert: {hardware} is not a ZigZag accelerator or Timeloop "
                    "architecture file"
                )
            spec, constraints = resolve_hardware(hardware), None
        else:
            spec, constraints = foreign.spec, foreign.constraints
        if precision is None:
            precision = spec.default_precision
        net = load_from_options(model, batch, precision, dim, *zoo)
    notes = tuple(dict.fromkeys(str(w.message) for w in caught))
    for note in notes:
        err_console.print(f"warning: {note}", markup=False, highlight=False)
    result = estimate_mapped(
        net, spec, objective=objective, constraints=constraints, warnings=notes
    )
    if fmt == "zigzag":
        print_json(result.to_zigzag())
    elif fmt == "json":
        print_json(result.to_dict())
    else:
        _render_mapped(result)


def _render_mapped(e: MappedEstimate) -> None:
    table = Table(
        title=f"{e.model_name} on {e.hardware_name}  (loop-nest mapper, objective {e.objective})",
        header_style="bold",
    )
    table.add_column("layer")
    table.add_column("op")
    for col in ("MACs", "cycles", "energy uJ", "util"):
        table.add_column(col, justify="right")
    for la in e.layers:
        table.add_row(
            la.name,
            la.op_type,
            human(la.macs),
            human(la.cycles),
            f"{la.energy_pj * 1e-6:.4g}",
            f"{la.utilization:.1%}" if la.mapped else "-",
        )
    out_console.print(table)
    t = e.totals()
    out_console.print(
        f"[bold]total[/bold]: {t['cycles']:,.0f} cycles ({t['latency_s'] * 1e3:.4g} ms at "
        f"{e.clock_hz / 1e6:.4g} MHz), {t['energy_j'] * 1e6:.4g} uJ; layers with a MAC core: "
        f"{t['mapped_cycles']:,.0f} cycles, {t['mapped_energy_j'] * 1e6:.4g} uJ, utilization "
        f"{t['utilization']:.1%}"
    )


def _render(e: Estimate) -> None:
    table = Table(title=f"{e.model_name} on {e.hardware_name}: {run_line(e)}", header_style="bold")
    table.add_column("layer")
    table.add_column("op")
    for col in ("MACs", "cycles", "latency us", "energy uJ", "util"):
        table.add_column(col, justify="right")
    table.add_column("bound")
    for r in e.layer_records():
        table.add_row(
            r["name"],
            r["op"],
            human(r["macs"]),
            human(r["cycles"]),
            f"{r['latency_s'] * 1e6:.4g}",
            f"{r['energy_j'] * 1e6:.4g}",
            f"{r['utilization']:.1%}",
            r["bound"],
        )
    out_console.print(table)
    t = e.totals()
    breakdown = ", ".join(
        f"{k} {v * 1e3:.3g} mJ" for k, v in e.energy.by_component_j().items() if v > 0
    )
    area = ", ".join(f"{k} {v:.3g}" for k, v in e.area.components.items())
    out_console.print(
        f"[bold]total[/bold]: {t['latency_s'] * 1e3:.4g} ms ({t['cycles']:,.0f} cycles at "
        f"{e.clock_hz / 1e6:.4g} MHz), {t['energy_j'] * 1e3:.4g} mJ "
        f"({t['average_power_w']:.3g} W average), utilization {t['utilization']:.1%}, "
        f"{t['inferences_per_s']:.4g} inferences/s"
        + (f", {t['tokens_per_s']:.4g} tokens/s" if "tokens_per_s" in t else "")
    )
    out_console.print(f"[bold]energy[/bold]: {breakdown}")
    out_console.print(f"[bold]settings[/bold]: {run_sources(e)}", highlight=False)
    published = (
        f"; published die {e.area.published_die_area_mm2:g} mm^2"
        if e.area.published_die_area_mm2
        else ""
    )
    out_console.print(
        f"[bold]area[/bold] (arithmetic and bit cells only): {t['area_mm2']:.4g} mm^2 "
        f"({area}){published}"
    )
