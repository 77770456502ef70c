"""``codesign profile``: per-layer work and totals of a model."""

from __future__ import annotations

import csv
import sys
from typing import Annotated

import typer
from rich.table import Table

from codesign_playground.cli.console import err_console, human, out_console, print_json
from codesign_playground.errors import InputError
from codesign_playground.units import PRECISIONS
from codesign_playground.workload import load_workload, parse_precision, profile
from codesign_playground.workload.ir import Network, Precision
from codesign_playground.workload.load import parse_dims
from codesign_playground.workload.profile import LAYER_FIELDS, totals, unresolved_summary

__all__ = [
    "ModelOptions",
    "load_from_options",
    "profile_command",
    "unresolved_summary",
    "warn_unresolved",
]


class ModelOptions:
    """The options every command that reads a model shares."""

    Batch = Annotated[int, typer.Option("--batch", "-b", min=1, help="Batch size.")]
    PrecisionOpt = Annotated[
        str | None,
        typer.Option(
            "--precision",
            "-p",
            help=f"{', '.join(PRECISIONS[:-1])} or {PRECISIONS[-1]} (all layers).",
        ),
    ]
    Dim = Annotated[
        list[str] | None,
        typer.Option("--dim", help="Size of a symbolic ONNX dimension, NAME=SIZE (repeatable)."),
    ]
    Resolution = Annotated[
        int | None, typer.Option("--resolution", help="Zoo CNNs/ViT: input height and width.")
    ]
    SeqLen = Annotated[
        int | None, typer.Option("--seq-len", help="Zoo transformers: sequence length.")
    ]
    KvLen = Annotated[
        int | None, typer.Option("--kv-len", help="Zoo decoders: cached tokens for a decode step.")
    ]
    Width = Annotated[float | None, typer.Option("--width", help="Zoo CNNs: width multiplier.")]
    AllowUnresolved = Annotated[
        bool,
        typer.Option(
            "--allow-unresolved",
            help="Count a graph whose arithmetic ops have shapes no inference resolves: "
            "those ops are left out, listed, and counted in the totals (else exit 2).",
        ),
    ]


def load_from_options(
    model: str,
    batch: int,
    precision: str | None,
    dim: list[str] | None,
    resolution: int | None,
    seq_len: int | None,
    kv_len: int | None,
    width: float | None,
    *,
    allow_unresolved: bool = False,
) -> Network:
    """Validate the shared model options and load the model.

    With ``allow_unresolved``, a network that left ops out prints a warning on stderr."""
    prec: Precision | None = parse_precision(precision) if precision else None
    net = load_workload(
        model,
        batch=batch,
        precision=prec,
        dims=parse_dims(dim),
        resolution=resolution,
        seq_len=seq_len,
        kv_len=kv_len,
        width=width,
        allow_unresolved=allow_unresolved,
    )
    warn_unresolved(net)
    return net


def warn_unresolved(net: Network) -> None:
    """One warning line on stderr when arithmetic ops were left out of the totals."""
    if not net.unresolved:
        return
    first = net.unresolved[0]
    info = first.unresolved.describe() if first.unresolved else ""
    err_console.print(
        f"[yellow]warning[/yellow]: {len(net.unresolved)} arithmetic node(s) with unresolved "
        f"shapes are NOT counted ({net.unresolved_fraction_of_nodes:.1%} of nodes, "
        f"{net.unresolved_fraction_of_arithmetic:.1%} of arithmetic ops); first: "
        f"{first.name} ({first.op_type}): {info}"
    )


def profile_command(
    model: Annotated[
        str, typer.Argument(help="An .onnx, .pt2 or SCALE-Sim .csv file, or a zoo name.")
    ],
    batch: ModelOptions.Batch = 1,
    precision: ModelOptions.PrecisionOpt = None,
    dim: ModelOptions.Dim = None,
    resolution: ModelOptions.Resolution = None,
    seq_len: ModelOptions.SeqLen = None,
    kv_len: ModelOptions.KvLen = None,
    width: ModelOptions.Width = None,
    allow_unresolved: ModelOptions.AllowUnresolved = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print one CSV row per layer.")] = False,
    summary: Annotated[
        bool, typer.Option("--summary", help="Totals and a per-kind summary only.")
    ] = False,
) -> None:
    """Count the work of MODEL exactly: MACs, FLOPs, parameters and bytes per layer."""
    if as_json and as_csv:
        raise InputError("--json and --csv: choose one output format")
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
    report = profile(net)
    if as_json:
        print_json(report)
        return
    if as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=LAYER_FIELDS, lineterminator="\n")
        writer.writeheader()
        for row in report["layers"]:
            writer.writerow({**row, "output_shape": "x".join(map(str, row["output_shape"]))})
        return
    _render(net, summary=summary)


def _render(net: Network, *, summary: bool) -> None:
    tot = totals(net)
    title = f"{net.name}  ({net.source})"
    if not summary:
        table = Table(title=title, header_style="bold")
        for col in ("layer", "op", "output"):
            table.add_column(col)
        for col in ("MACs", "FLOPs", "params", "weights B", "act B", "FLOP/B"):
            table.add_column(col, justify="right")
        for op in net.ops:
            shape = op.outputs[0].shape if op.outputs else ()
            table.add_row(
                op.name,
                op.op_type,
                "x".join(map(str, shape)),
                human(op.macs),
                human(op.total_flops),
                human(op.params),
                human(op.weight_bytes),
                human(op.input_bytes + op.output_bytes),
                f"{op.arithmetic_intensity:.1f}",
            )
        out_console.print(table)
    kinds: dict[str, list[int]] = {}
    for op in net.ops:
        k = kinds.setdefault(op.kind, [0, 0, 0])
        k[0] += 1
        k[1] += op.macs
        k[2] += op.total_flops
    by_kind = Table(title=title if summary else None, header_style="bold")
    by_kind.add_column("kind")
    for col in ("ops", "MACs", "FLOPs", "share of FLOPs"):
        by_kind.add_column(col, justify="right")
    for kind, (n, macs, flops) in sorted(kinds.items(), key=lambda kv: -kv[1][2]):
        share = flops / tot["flops"] if tot["flops"] else 0.0
        by_kind.add_row(kind, str(n), human(macs), human(flops), f"{share:.1%}")
    out_console.print(by_kind)
    out_console.print(
        f"[bold]total[/bold]: {tot['layers']} ops, {tot['macs']:,} MACs, {tot['flops']:,} FLOPs, "
        f"{tot['params']:,} params, weights {human(tot['weight_bytes'], 'B')}, "
        f"activations {human(tot['activation_bytes'], 'B')}"
    )
    if net.unmodeled:
        names = ", ".join(f"{u.name} ({u.op_type})" for u in net.unmodeled[:10])
        more = f" and {len(net.unmodeled) - 10} more" if len(net.unmodeled) > 10 else ""
        out_console.print(
            f"[yellow]unmodeled[/yellow]: {len(net.unmodeled)} node(s) without a cost model, "
            f"not counted: {names}{more}"
        )
