"""Tables never cut a number, however narrow the terminal or when piped."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from rich.table import Table

from codesign_playground.cli.console import _Console

NUMBERS = ["3.536e-05", "0.002817", "1,814,073,344", "99.5%", "118 M", "12.34 mJ"]


@pytest.mark.parametrize("width", [40, 60, 80, 120])
def test_numbers_survive_any_width(width: int) -> None:
    table = Table(title="t")
    table.add_column("a rather long layer name column")
    for i in range(len(NUMBERS)):
        table.add_column(f"figure {i} with a long header", justify="right")
    table.add_row("layer4.1.conv2 of a network with long names", *NUMBERS)
    buf = io.StringIO()
    _Console(file=buf, width=width, highlight=False).print(table)
    text = buf.getvalue()
    for n in NUMBERS:
        assert n in text, f"{n!r} was cut at width {width}:\n{text}"
    assert "…" not in text


def test_estimate_table_at_80_columns_keeps_every_latency() -> None:
    env = {"COLUMNS": "80", "PATH": "/usr/bin:/bin"}
    run = [sys.executable, "-m", "codesign_playground.cli.main"]
    args = ["estimate", "-m", "resnet18", "-H", "tpu-v1"]
    table = subprocess.run(run + args, capture_output=True, text=True, env=env, check=True).stdout
    import json

    doc = json.loads(
        subprocess.run(
            [*run, *args, "--json"], capture_output=True, text=True, env=env, check=True
        ).stdout
    )
    assert "…" not in table
    for layer in doc["layers"]:
        assert f"{layer['latency_s'] * 1e6:.4g}" in table
