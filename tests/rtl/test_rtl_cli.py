"""``codesign rtl`` (the Typer sub-app): outputs and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from rtl_helpers import require_simulator, require_tool
from typer.testing import CliRunner

from codesign_playground.cli.main import app  # errors go through its one boundary
from codesign_playground.rtl import _sim

pytestmark = pytest.mark.rtl

runner = CliRunner()


def _gen(tmp_path: Path, *extra: str) -> Path:
    out = tmp_path / "design"
    res = runner.invoke(
        app, ["rtl", "generate", "--rows", "2", "--cols", "3", "--out", str(out), *extra]
    )
    assert res.exit_code == 0, res.output
    return out


def test_generate_table_and_json(tmp_path: Path) -> None:
    out = tmp_path / "d"
    res = runner.invoke(app, ["rtl", "generate", "--rows", "4", "--cols", "4", "--dataflow", "os",
                              "--data-width", "16", "--out", str(out), "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["design"]["dataflow"] == "os" and doc["design"]["data_width"] == 16
    assert (out / "design.json").is_file() and (out / "systolic_top.v").is_file()
    res = runner.invoke(app, ["rtl", "generate", "--out", str(tmp_path / "e")])
    assert res.exit_code == 0 and "systolic_top.v" in res.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rows", "0"], "error: rows must be an integer in 2..64, got 0"),
        (["--dataflow", "xx"], "error: dataflow must be 'ws' or 'os', got 'xx'"),
        (["--data-width", "32"], "error: data_width must be an integer in 4..16, got 32"),
    ],
)
def test_generate_bad_input_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    res = runner.invoke(app, ["rtl", "generate", "--out", str(tmp_path / "x"), *args])
    assert res.exit_code == 2
    assert res.stderr.strip() == message


def test_simulate_without_design_exit_2(tmp_path: Path) -> None:
    res = runner.invoke(app, ["rtl", "simulate", str(tmp_path)])
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "holds no generated design" in lines[0]


def test_simulate_bad_simulator_exit_2(tmp_path: Path) -> None:
    out = _gen(tmp_path)
    res = runner.invoke(app, ["rtl", "simulate", str(out), "--simulator", "modelsim"])
    assert res.exit_code == 2
    assert (
        res.stderr.strip() == "error: --simulator must be one of icarus, verilator, got 'modelsim'"
    )


def test_simulate_missing_simulator_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = _gen(tmp_path)
    monkeypatch.setattr(_sim.IcarusSimulator, "available", lambda self: False)
    res = runner.invoke(app, ["rtl", "simulate", str(out), "--simulator", "icarus"])
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "is not installed" in lines[0]


def test_synth_bad_target_exit_2(tmp_path: Path) -> None:
    out = _gen(tmp_path)
    res = runner.invoke(app, ["rtl", "synth", str(out), "--target", "asic"])
    assert res.exit_code == 2
    assert res.stderr.strip() == "error: --target must be one of generic, ice40, xilinx, got 'asic'"


def test_synth_above_the_pe_limit_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CODESIGN_SYNTH_MAX_PES (or --max-pes) refuses a larger array before Yosys starts."""
    out = _gen(tmp_path)  # 2 x 3
    monkeypatch.setenv("CODESIGN_SYNTH_MAX_PES", "4")
    res = runner.invoke(app, ["rtl", "synth", str(out)])
    assert res.exit_code == 2
    assert res.stderr.strip() == (
        "error: --max-pes: the design is 2 x 3 = 6 PEs, above the limit of 4 "
        "(CODESIGN_SYNTH_MAX_PES); Yosys needs many GB and minutes for large arrays: raise "
        "--max-pes to synthesize it anyway"
    )
    res = runner.invoke(app, ["rtl", "synth", str(out), "--max-pes", "5"])
    assert res.exit_code == 2 and "above the limit of 5" in res.stderr
    assert not (out / "synth").exists()


def test_synth_memory_limit_from_the_environment_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CODESIGN_SYNTH_MEMORY_MB reaches Yosys' ulimit -v: 64 MB is too little for any array."""
    require_tool("yosys")
    out = _gen(tmp_path)
    monkeypatch.setenv("CODESIGN_SYNTH_MEMORY_MB", "64")
    res = runner.invoke(app, ["rtl", "synth", str(out)])
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "each process may use 64 MB" in lines[0], res.stderr


@pytest.mark.slow
def test_simulate_icarus_json_and_vcd(tmp_path: Path) -> None:
    require_simulator("icarus")
    out = _gen(tmp_path, "--dataflow", "os")
    res = runner.invoke(app, ["rtl", "simulate", str(out), "--simulator", "icarus", "--shapes", "3",
                              "--vcd", "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["ok"] and doc["cycles_match_model"] and len(doc["cases"]) == 3
    assert doc["waves"] and Path(doc["waves"]).is_file()
    res = runner.invoke(
        app, ["rtl", "simulate", str(out), "--simulator", "icarus", "--shape", "5x4x3"]
    )
    assert res.exit_code == 0, res.output
    assert "SCALE-Sim" in res.stdout


@pytest.mark.slow
def test_synth_generic_json(tmp_path: Path) -> None:
    require_tool("yosys")
    out = _gen(tmp_path)
    res = runner.invoke(app, ["rtl", "synth", str(out), "--target", "generic", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["coarse"]["$macc"] == 6


def test_app_is_a_typer_app() -> None:
    assert isinstance(app, typer.Typer)


def test_a_design_that_does_not_build_is_one_line_naming_the_cause(tmp_path: Path) -> None:
    """A broken source ends in the tool's own first error and where the log is, exit 2."""
    require_tool("iverilog")
    out = _gen(tmp_path)
    with (out / "sa_array.v").open("a") as fh:
        fh.write("module broken(; endmodule\n")
    res = runner.invoke(
        app, ["rtl", "simulate", str(out), "--simulator", "icarus", "--shapes", "1"]
    )
    assert res.exit_code == 2, res.output
    line = " ".join(res.output.split())
    assert "Traceback" not in res.output
    assert "icarus could not build the design:" in line
    assert "sa_array.v" in line and "syntax error" in line and "build.log" in line
