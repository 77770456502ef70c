"""Help pages show flags as flags: no ``<bool>`` type next to an on/off option."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

COMMANDS = [
    [], ["profile"], ["estimate"], ["demo"], ["explore"], ["serve"], ["hardware", "list"],
    ["rtl", "generate"], ["rtl", "simulate"], ["rtl", "synth"], ["jobs", "prune"],
]  # fmt: skip


@pytest.mark.parametrize("words", COMMANDS, ids=lambda w: " ".join(w) or "codesign")
def test_help_has_no_bool_placeholders(words: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "codesign_playground.cli.main", *words, "--help"],
        capture_output=True, text=True, env={"COLUMNS": "100", "PATH": "/usr/bin:/bin"},
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "--help" in proc.stdout
    assert "<bool>" not in proc.stdout


@pytest.mark.parametrize(
    ("words", "where"),
    [
        (["estimate", "-m", "resnet18", "-H", "tpu-v1", "--batch", "0"], "codesign estimate"),
        (["rtl", "synth"], "codesign rtl synth"),
        (["bogus"], "codesign"),
    ],
)
def test_option_errors_point_at_the_commands_own_help(words: list[str], where: str) -> None:
    codesign = str(Path(sys.executable).with_name("codesign"))
    proc = subprocess.run(
        [codesign, *words],
        capture_output=True, text=True, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
        check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith(f"(see '{where} --help')"), proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
