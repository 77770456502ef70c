"""``codesign explore SPACE.yaml``: design-space exploration with a progress bar and reports.

The lead registers it with ``app.command("explore")(explore_command)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from codesign_playground.cli.console import err_console, out_console, print_json
from codesign_playground.explore.search import run_exploration
from codesign_playground.explore.space import STRATEGIES, load_space

__all__ = ["explore_command"]

_FRONT_ROWS = 15  # front points shown in the terminal; front.csv has them all


def explore_command(
    space: Annotated[Path, typer.Argument(help="design-space YAML file (docs/explore.md)")],
    strategy: Annotated[
        str | None,
        typer.Option(
            "--strategy", help=f"{', '.join(STRATEGIES)} (default: the space's search.strategy)"
        ),
    ] = None,
    budget: Annotated[
        int | None, typer.Option("--budget", min=1, help="evaluations (grid: all points)")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="random seed")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="output folder (default: explore-<space name>)")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="continue the interrupted run in --out")
    ] = False,
    no_report: Annotated[
        bool,
        typer.Option(
            "--no-report",
            help="write the tables only (points.csv/.parquet, front.csv, summary.json), "
            "no HTML/PNG",
        ),
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
) -> None:
    """Explore a design space: evaluate points, keep the Pareto front, write reports."""
    sp = load_space(space)
    out_dir = out or Path(f"explore-{sp.name}")
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:.0f} eval/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console, transient=False) as bar:
        task = bar.add_task(f"explore {sp.name}", total=None, rate=0.0)

        def progress(done: int, total: int, best: dict[str, float], eta: float) -> None:
            elapsed = bar.tasks[task].elapsed or 0.0
            rate = done / elapsed if elapsed > 0 else 0.0
            bar.update(task, completed=done, total=total, rate=rate)

        def log(msg: str) -> None:
            bar.console.print(msg)

        result = run_exploration(
            sp,
            strategy=strategy,
            budget=budget,
            seed=seed,
            out_dir=out_dir,
            resume=resume,
            progress=progress,
            base_dir=space.parent,
            log=log,
        )
    from codesign_playground.explore.report import write_report, write_tables

    paths = write_tables(result, out_dir) if no_report else write_report(result, out_dir)
    if json_out:
        summary = result.to_dict()
        summary["files"] = {k: str(v) for k, v in paths.items()}
        print_json(summary)
        return
    table = Table(title=f"Pareto front of {sp.name} ({len(result.front)} points)")
    show = [o.column for o in result.objectives]
    knobs = [k for k in result.knob_names if result.points[k].nunique() > 1]
    for c in [*knobs, *show]:
        table.add_column(c)
    shown = result.front.head(_FRONT_ROWS)
    for _, row in shown.iterrows():
        table.add_row(
            *(
                f"{row[c]:.4g}" if isinstance(row[c], float) else str(row[c])
                for c in [*knobs, *show]
            )
        )
    out_console.print(table)
    if len(result.front) > len(shown):
        where = paths.get("front_csv", out_dir / "front.csv")
        out_console.print(
            f"(the first {len(shown)} of {len(result.front)} front points, by "
            f"{show[0]}; all of them are in {where})"
        )
    out_console.print(
        f"{result.evaluations} evaluations in {result.elapsed_s:.2f} s; hypervolume "
        f"{result.hypervolume:.4f}; knee: "
        + (", ".join(f"{k}={result.knee[k]}" for k in knobs) if result.knee else "none")
    )
    for note in result.notes:
        out_console.print(f"note: {note}")
    if "html" in paths:
        out_console.print(f"report: {paths['html']}")
    else:
        out_console.print(f"tables: {paths['front_csv'].parent}")
