"""``codesign estimate`` on ZigZag and Timeloop files: --mapping, --objective, --ert,
--json and --format zigzag; warnings on stderr; bad input exits 2 with a one-line message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codesign_playground.cli.main import app
from codesign_playground.cli.status import ExitStatus

runner = CliRunner()
DATA = Path(__file__).resolve().parents[1] / "data"
ZZ = DATA / "zigzag"
TL = DATA / "timeloop"
TPU = [
    "-H",
    str(ZZ / "hardware" / "tpu_like.yaml"),
    "--mapping",
    str(ZZ / "mapping" / "tpu_like.yaml"),
]
BLOCK = ["-m", str(ZZ / "workload" / "transformer_block.onnx")]


def test_zigzag_files_json_with_objective_and_warnings() -> None:
    res = runner.invoke(app, ["estimate", *TPU, *BLOCK, "--objective", "latency", "--json"])
    assert res.exit_code == ExitStatus.SUCCESS, res.output
    data = json.loads(res.stdout)
    assert data["objective"] == "latency" and data["hardware"] == "tpu_like"
    names = {la["name"] for la in data["layers"] if la["mapped"]}
    assert "ffn_up" in names and "softmax" not in names
    assert data["totals"]["mapped_energy_j"] > 0
    # every field the model cannot honour is named on stderr
    assert "warning: " in res.stderr and "temporal_ordering" in res.stderr


def test_format_zigzag_has_zigzags_shape() -> None:
    res = runner.invoke(app, ["estimate", *TPU, *BLOCK, "--format", "zigzag"])
    assert res.exit_code == ExitStatus.SUCCESS, res.output
    data = json.loads(res.stdout)
    assert set(data) == {"energy", "latency", "layers"}
    layer = data["layers"][0]["outputs"]
    assert set(layer["energy"]) >= {"energy_total", "operational_energy", "memory_energy"}
    assert set(layer["latency"]) == {"data_onloading", "computation", "data_offloading"}
    assert "stalls_onloading_offloading" in layer["spatial"]["mac_utilization"]
    total = sum(la["outputs"]["energy"]["energy_total"] for la in data["layers"])
    assert total == pytest.approx(data["energy"])


def test_timeloop_architecture_with_ert_and_problem() -> None:
    res = runner.invoke(
        app,
        [
            "estimate",
            "-H",
            str(TL / "eyeriss_like" / "arch.yaml"),
            "--ert",
            str(TL / "eyeriss_like" / "ERT_summary.yaml"),
            "-m",
            str(TL / "default_problem.yaml"),
            "--json",
        ],
    )
    assert res.exit_code == ExitStatus.SUCCESS, res.output
    data = json.loads(res.stdout)
    assert data["layers"][0]["macs"] == 10838016


def test_bad_input_exits_2() -> None:
    res = runner.invoke(app, ["estimate", *TPU, *BLOCK, "--objective", "speed"])
    assert res.exit_code == ExitStatus.BAD_INPUT and "--objective" in res.stderr
    res = runner.invoke(
        app,
        [
            "estimate",
            "-H",
            str(ZZ / "hardware" / "tpu_like.yaml"),
            "--mapping",
            "nope.yaml",
            *BLOCK,
        ],
    )
    assert res.exit_code == ExitStatus.BAD_INPUT and "--mapping" in res.stderr
    res = runner.invoke(
        app,
        [
            "estimate",
            "-H",
            str(TL / "eyeriss_like" / "arch.yaml"),
            *BLOCK,
            "--mapping",
            str(ZZ / "mapping" / "tpu_like.yaml"),
        ],
    )
    # a ZigZag mapping is no Timeloop constraints file
    assert res.exit_code == ExitStatus.BAD_INPUT and "constraints.targets" in res.stderr
