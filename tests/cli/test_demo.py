"""The demo runs each chip at the precision ``codesign estimate`` picks for it by default."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CODESIGN = str(Path(sys.executable).with_name("codesign"))
ENV = {"COLUMNS": "250", "PATH": "/usr/bin:/bin"}


def _run(*args: str) -> str:
    return subprocess.run(
        [CODESIGN, *args], capture_output=True, text=True, env=ENV, check=True
    ).stdout


def test_demo_and_estimate_agree_on_default_precision() -> None:
    demo = _run("demo", "-m", "resnet18")
    rows = {
        line.split("│")[1].strip(): line.split("│")[2].strip()
        for line in demo.splitlines()
        if line.startswith("│")
    }
    for chip, name in (("h100", "NVIDIA H100 SXM5 80GB"), ("tpu-v1", "Google TPU v1")):
        est = json.loads(_run("estimate", "-m", "resnet18", "-H", chip, "--json"))
        assert rows[name] == est["settings"]["precision"]["value"], (chip, rows)
