"""``codesign demo``: a two-minute tour: profile a real network, then estimate it on chips."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from codesign_playground.cli.console import human, out_console
from codesign_playground.hardware import get_chip, systolic
from codesign_playground.perf.estimate import estimate
from codesign_playground.workload import load_workload

__all__ = ["demo_command"]

# catalog chips of the tour; each runs the model at the library's default for it (the same
# precision `codesign estimate` picks when -p is not given)
_TOUR = (
    "tpu-v1",
    "edge-tpu",
    "gemmini-default",
    "jetson-agx-orin-64gb",
    "a100-sxm4-80gb",
    "h100-sxm5",
)


def demo_command(
    model: Annotated[str, typer.Option("--model", "-m", help="Zoo name or model file.")] = (
        "resnet50"
    ),
) -> None:
    """Profile MODEL and compare it across catalog chips and a systolic design."""
    base = load_workload(model)
    out_console.print(
        f"[bold]{base.name}[/bold]: {len(base.ops)} ops, {base.macs:,} MACs, "
        f"{base.params:,} parameters ({base.source or 'built-in zoo'})"
    )
    table = Table(
        title=f"{base.name}, batch 1, on real chips and a 64x64 systolic design",
        header_style="bold",
    )
    for col in ("hardware", "precision", "model"):
        table.add_column(col)
    for col in ("latency ms", "inferences/s", "energy mJ", "utilization", "bound by"):
        table.add_column(col, justify="right")
    designs = [get_chip(name) for name in _TOUR]
    designs.append(systolic(rows=64, cols=64, precision="int8", name="systolic 64x64 int8"))
    for spec in designs:
        prec = spec.run_precision(None)
        e = estimate(base.with_precision(prec), spec)  # type: ignore[arg-type]
        t = e.totals()
        bounds = [b for b in e.timing.bound if b != "none"]
        top = max(set(bounds), key=bounds.count) if bounds else "-"
        table.add_row(
            spec.name,
            prec,
            e.timing_model,
            f"{t['latency_s'] * 1e3:.3g}",
            human(t["inferences_per_s"]),
            f"{t['energy_j'] * 1e3:.3g}",
            f"{t['utilization']:.1%}",
            top,
        )
    out_console.print(table)
    out_console.print(
        "precision: each chip's default, as in codesign estimate (fp32 where the chip computes "
        "fp32, else its first precision); choose another with codesign estimate -p"
    )
    out_console.print(
        "Next: [bold]codesign profile MODEL[/bold] for per-layer counts, "
        "[bold]codesign estimate -m MODEL -H CHIP[/bold] for per-layer timing and energy, "
        "[bold]codesign hardware list[/bold] for the catalog and its sources."
    )
