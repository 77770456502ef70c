"""``codesign hardware``: list the chip catalog and show hardware descriptions."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from codesign_playground.cli.console import wide_console
from codesign_playground.hardware import (
    PRECISIONS,
    HardwareSpec,
    catalog_specs,
    hardware_to_dict,
    load_hardware,
)

app = typer.Typer(help="Accelerator descriptions: the chip catalog and description files.")


def _si(value: float, unit: str) -> str:
    for factor, prefix in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}"


def _bytes(value: float) -> str:
    return _si(value, "B")


def _memory_summary(spec: HardwareSpec) -> str:
    on_chip = sum(lv.total_capacity_bytes or 0 for lv in spec.memory[:-1])
    dram = spec.dram
    parts = []
    if on_chip:
        parts.append(f"{_bytes(on_chip)} on-chip")
    if dram.capacity_bytes is not None:
        parts.append(f"{_bytes(dram.capacity_bytes)} {dram.name}")
    bw = dram.bandwidth(spec.compute.clock_hz)
    if bw is not None:
        parts.append(f"{_si(bw, 'B/s')}")
    return ", ".join(parts)


@app.command("list")
def list_chips() -> None:
    """List the catalog: peak ops/s per precision (dense, computed), memory, power, node."""
    table = Table(title="Hardware catalog (peaks computed from the description)")
    table.add_column("name")
    table.add_column("id")
    table.add_column("kind")
    table.add_column("peak ops/s")
    table.add_column("memory")
    table.add_column("power")
    table.add_column("node")
    for chip_id, spec in catalog_specs().items():
        peaks = "\n".join(f"{p}: {_si(spec.peak_ops_per_s(p), 'op/s')}" for p in spec.precisions)
        table.add_row(
            spec.name,
            chip_id,
            spec.kind,
            peaks,
            _memory_summary(spec),
            "-" if spec.power_w is None else f"{spec.power_w:g} W",
            "-" if spec.tech_node_nm is None else f"{spec.tech_node_nm:g} nm",
        )
    wide_console.print(table)


@app.command("show")
def show(
    name_or_file: Annotated[str, typer.Argument(help="catalog name/alias or a .yaml/.json file")],
    as_json: Annotated[bool, typer.Option("--json", help="print the description as JSON")] = False,
) -> None:
    """Show every field of a description with its source."""
    spec = load_hardware(name_or_file)  # errors reach the boundary in cli/main.py
    if as_json:
        data = hardware_to_dict(spec)
        data["computed_peak_ops_per_s"] = {p: spec.peak_ops_per_s(p) for p in spec.precisions}
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    console = wide_console
    console.print(f"[bold]{spec.name}[/bold]  kind={spec.kind}  dataflow={spec.dataflow}")
    if spec.description:
        console.print(spec.description)
    table = Table(show_lines=False)
    table.add_column("field")
    table.add_column("value")
    table.add_column("source")
    sources = spec.sources
    for path, value in spec.numeric_fields(include_defaults=True).items():
        table.add_row(path, f"{value:g}", sources.get(path, "field default"))
    for level in spec.memory:
        path = f"memory.{level.name}.holds"
        table.add_row(path, ", ".join(level.holds), sources.get(path, ""))
    table.add_row("dataflow", spec.dataflow, sources.get("dataflow", ""))
    for path, note in sources.items():
        if path.startswith("memory.") and path.count(".") == 1:
            table.add_row(path, "", note)
    for precision in PRECISIONS:
        if precision in spec.precisions:
            table.add_row(
                f"peak_ops_per_s.{precision}",
                f"{spec.peak_ops_per_s(precision):.4g}",
                "computed: 2 x rows x cols x cores x MACs/PE/cycle x clock_hz",
            )
    console.print(table)
    if spec.references:
        console.print("[bold]References[/bold]")
        for key, citation in spec.references.items():
            console.print(f"  {key} = {citation}")
