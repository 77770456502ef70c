"""``codesign hardware list/show`` via the Typer sub-app."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from codesign_playground.cli.hardware import app
from codesign_playground.cli.main import app as codesign
from codesign_playground.hardware import list_catalog, save_hardware, systolic

runner = CliRunner()


def test_list_shows_every_chip() -> None:
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0, result.output
    for chip_id in list_catalog():
        assert chip_id in result.output
    assert "Top/s" in result.output


def test_show_prints_fields_with_sources() -> None:
    result = runner.invoke(app, ["show", "tpu-v1"])
    assert result.exit_code == 0, result.output
    assert "compute.clock_hz" in result.output
    assert "700 MHz" in result.output
    assert "Jouppi" in result.output


def test_show_json_is_complete() -> None:
    result = runner.invoke(app, ["show", "H100", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["compute"]["cores"] == 132
    assert data["sources"]["compute.cores"]
    assert data["computed_peak_ops_per_s"]["fp16"] > 9e14


def test_show_file(tmp_path: Path) -> None:
    path = save_hardware(systolic(rows=8, cols=8), tmp_path / "hw.yaml")
    result = runner.invoke(app, ["show", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["compute"]["rows"] == 8


def test_unknown_name_is_one_line_error_exit_2() -> None:
    result = runner.invoke(codesign, ["hardware", "show", "h10"])  # errors: the one boundary
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0
    assert "unknown chip 'h10'" in result.stderr
    assert "h100" in result.stderr


def test_invalid_file_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nkind: systolic\n")
    result = runner.invoke(codesign, ["hardware", "show", str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: hardware field 'compute': is required")
