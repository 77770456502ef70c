"""Shared fixtures: the real model graphs kept in tests/data (copied from the shared data)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA_ONNX = REPO / "tests" / "data" / "onnx"


@pytest.fixture(scope="session")
def onnx_dir() -> Path:
    return DATA_ONNX


@pytest.fixture(scope="session")
def onnx_reference(onnx_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((onnx_dir / "reference.json").read_text())
    return data


# --- skips are failures in CI unless listed, with the reason, in tests/allowed_skips.txt ---
ALLOWED_SKIPS = REPO / "tests" / "allowed_skips.txt"
_skipped: list[tuple[str, str]] = []


def _allowed_skip_reasons() -> list[str]:
    lines = ALLOWED_SKIPS.read_text().splitlines() if ALLOWED_SKIPS.exists() else []
    return [ln.split("  #", 1)[0].strip() for ln in lines if ln.strip() and not ln.startswith("#")]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else ""
        _skipped.append((report.nodeid, reason.removeprefix("Skipped: ")))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With CI set (or CODESIGN_STRICT_SKIPS=1), a skip whose reason is not allowed fails."""
    strict = os.environ.get("CI", "").lower() in {"1", "true", "yes"} or (
        os.environ.get("CODESIGN_STRICT_SKIPS") == "1"
    )
    if not strict or not _skipped:
        return
    allowed = _allowed_skip_reasons()
    bad = [(n, r) for n, r in _skipped if not any(a in r for a in allowed)]
    if bad:
        tr = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = [f"{len(bad)} test(s) skipped in CI without a listed justification:"]
        lines += [f"  {n}: {r}" for n, r in bad]
        lines.append(f"fix the environment, or list the reason in {ALLOWED_SKIPS.name}")
        for line in lines:
            if tr is not None:
                tr.write_line(line, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
