from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from codesign_playground.cli.explore import explore_command
from codesign_playground.cli.main import _ErrorBoundary

SPACE = """
name: cli-tiny
model: {name: digits_cnn, width: [0.5, 1.0], bits: 8}
hardware: {rows: [4, 8], cols: [4, 8]}
objectives: [latency, energy]
"""


def _app() -> typer.Typer:
    app = typer.Typer(cls=_ErrorBoundary)
    app.command("explore")(explore_command)

    @app.command("other")
    def other() -> None:  # a second command keeps 'explore' a subcommand
        pass

    return app


def test_explore_cli_json(tmp_path: Path) -> None:
    space = tmp_path / "space.yaml"
    space.write_text(SPACE)
    out = tmp_path / "run"
    res = CliRunner().invoke(
        _app(), ["explore", str(space), "--out", str(out), "--no-report", "--json"]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout[res.stdout.index("{") :])
    assert data["evaluations"] == 8
    assert (out / "points.csv").is_file()


def test_explore_cli_bad_space_exits_2(tmp_path: Path) -> None:
    space = tmp_path / "space.yaml"
    space.write_text("model: {name: digits_cnn}\nobjectives: [speed]\n")
    res = CliRunner().invoke(_app(), ["explore", str(space)])
    assert res.exit_code == 2
    assert "objectives" in res.output


WIDE_SPACE = """
name: cli-wide
model: {name: resnet18, bits: 8}
hardware:
  rows: [4, 8, 16, 32, 64, 128]
  cols: [4, 8, 16, 32, 64, 128]
  dataflow: [ws, os]
objectives: [latency, energy, area]
search: {strategy: grid}
"""


def test_no_report_writes_every_table_and_the_front_says_how_many_are_shown(
    tmp_path: Path,
) -> None:
    space = tmp_path / "space.yaml"
    space.write_text(WIDE_SPACE)
    out = tmp_path / "run"
    res = CliRunner().invoke(
        _app(), ["explore", str(space), "--out", str(out), "--no-report"], env={"COLUMNS": "200"}
    )
    assert res.exit_code == 0, res.output
    written = {p.name for p in out.iterdir()}
    assert {"points.csv", "points.parquet", "front.csv", "summary.json"} <= written
    assert not {"report.html", "pareto.png"} & written
    n_front = len((out / "front.csv").read_text().strip().splitlines()) - 1
    assert f"Pareto front of cli-wide ({n_front} points)" in res.stdout
    if n_front > 15:
        assert f"(the first 15 of {n_front} front points" in " ".join(res.stdout.split())
