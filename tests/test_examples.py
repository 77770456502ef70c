"""Every runnable example runs, so none of them rots."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.rtl
@pytest.mark.skipif(shutil.which("iverilog") is None, reason="Icarus Verilog is not installed")
def test_rtl_example_runs(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "examples" / "rtl" / "gemm_and_conv.py"),
         "--simulator", "icarus", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "rtl").is_dir()


@pytest.mark.parametrize("space", sorted(p.name for p in (REPO / "examples").glob("*.yaml")))
def test_example_spaces_validate(space: str) -> None:
    from codesign_playground.explore.space import load_space

    load_space(REPO / "examples" / space)


@pytest.mark.slow
@pytest.mark.parametrize("space", ["resnet50_spatial.yaml", "gpu_vs_accelerators.yaml"])
def test_template_example_spaces_write_a_pareto_report(space: str, tmp_path: Path) -> None:
    """``codesign explore`` on the spatial and the mixed GPU-versus-accelerator examples."""
    from typer.testing import CliRunner

    from codesign_playground.cli.main import app

    result = CliRunner().invoke(
        app, ["explore", str(REPO / "examples" / space), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    for name in ("report.html", "pareto.png", "front.csv", "summary.json"):
        assert (tmp_path / name).is_file(), name
