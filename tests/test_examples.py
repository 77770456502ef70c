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
