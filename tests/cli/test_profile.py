"""``codesign profile`` end to end through Typer's runner: outputs and exit codes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from codesign_playground.cli.main import app
from codesign_playground.cli.status import ExitStatus

runner = CliRunner()


def test_json_on_real_graph(onnx_dir: Path, onnx_reference: dict[str, Any]) -> None:
    res = runner.invoke(app, ["profile", str(onnx_dir / "resnet18.onnx"), "--json"])
    assert res.exit_code == ExitStatus.SUCCESS, res.output
    doc = json.loads(res.stdout)
    assert {"name", "op", "macs", "params"} <= set(doc["layers"][0])
    tot = doc["totals"]
    assert {"macs", "flops", "params", "weight_bytes", "activation_bytes"} <= set(tot)
    assert 2 * tot["macs"] == onnx_reference["resnet18"]["flopcounter_flops_batch1"]
    assert tot["params"] == sum(layer["params"] for layer in doc["layers"])


def test_table_and_csv(onnx_dir: Path) -> None:
    res = runner.invoke(app, ["profile", str(onnx_dir / "mobilenet_v2.onnx"), "-b", "2"])
    assert res.exit_code == 0, res.output
    assert "601,548,544 MACs" in res.stdout  # 2 x 300,774,272
    res = runner.invoke(
        app, ["profile", str(onnx_dir / "mobilenet_v2.onnx"), "--csv", "--precision", "int8"]
    )
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert rows and {"name", "op", "macs", "params", "weight_bytes"} <= set(rows[0])
    assert {r["weight_precision"] for r in rows} == {"int8"}


def _one_line_error(res: Any) -> str:
    assert res.exit_code == ExitStatus.BAD_INPUT, res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, res.stderr
    assert "Traceback" not in res.output
    return lines[0]


def test_bad_inputs_one_line_exit_2(tmp_path: Path, onnx_dir: Path) -> None:
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x08\x07\x12\x04junk" * 30)
    trunc = tmp_path / "trunc.onnx"
    trunc.write_bytes((onnx_dir / "resnet18.onnx").read_bytes()[:3000])
    text = tmp_path / "notes.onnx"
    text.write_text("not a model")
    cases = {
        "file not found": ["profile", str(tmp_path / "missing.onnx")],
        "junk.onnx": ["profile", str(junk)],
        "trunc.onnx": ["profile", str(trunc)],
        "notes.onnx": ["profile", str(text)],
        "precision": ["profile", str(onnx_dir / "resnet18.onnx"), "--precision", "fp8"],
        "--json and --csv": ["profile", str(onnx_dir / "resnet18.onnx"), "--json", "--csv"],
        "--dim": ["profile", str(onnx_dir / "resnet18.onnx"), "--dim", "seq"],
        "--batch": ["profile", str(onnx_dir / "resnet18.onnx"), "--batch", "0"],
    }
    for needle, args in cases.items():
        line = _one_line_error(runner.invoke(app, args))
        assert needle in line, (needle, line)


def test_unknown_zoo_name() -> None:
    pytest.importorskip("codesign_playground.workload.zoo")
    line = _one_line_error(runner.invoke(app, ["profile", "resnet19"]))
    assert "resnet19" in line and "resnet18" in line  # names close matches


def test_traceback_flag_reraises(tmp_path: Path) -> None:
    res = runner.invoke(app, ["--traceback", "profile", str(tmp_path / "missing.onnx")])
    assert res.exit_code != 0 and res.exception is not None
