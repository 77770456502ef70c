"""Help pages show flags as flags: no ``<bool>`` type next to an on/off option."""

from __future__ import annotations

import subprocess
import sys

import pytest

COMMANDS = [
    [], ["profile"], ["estimate"], ["demo"], ["explore"], ["serve"], ["hardware", "list"],
    ["rtl", "generate"], ["rtl", "simulate"], ["rtl", "synth"],
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
