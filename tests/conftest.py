"""Shared fixtures: the real model graphs kept in tests/data (copied from the shared data),
and headless Chromium (tests/headless.py)."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests import headless

REPO = Path(__file__).resolve().parents[1]
DATA_ONNX = REPO / "tests" / "data" / "onnx"


@pytest.fixture(scope="session")
def onnx_dir() -> Path:
    return DATA_ONNX


@pytest.fixture(scope="session")
def onnx_reference(onnx_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((onnx_dir / "reference.json").read_text())
    return data


# --- headless Chromium: skipped with "Chromium is not installed" where it is missing ---------
@pytest.fixture(scope="session")
def chromium() -> str:
    if headless.CHROMIUM is None:
        pytest.skip(headless.SKIP_REASON)
    return headless.CHROMIUM


@pytest.fixture
def dump_dom(chromium: str, tmp_path: Path) -> Callable[..., str]:
    """``dump_dom(url, offline=False, budget_ms=15000)``: the page's DOM after its scripts
    ran (tests/headless.py), each call with a fresh profile under the test's tmp_path."""
    profiles = itertools.count()

    def dump(url: str, *, offline: bool = False, budget_ms: int = 15_000) -> str:
        profile = tmp_path / f"chromium-profile-{next(profiles)}"
        return headless.dump_dom(url, profile, offline=offline, budget_ms=budget_ms)

    return dump


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Any]:
    """A Playwright Chromium for the tests of one module."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as pw:
        b = headless.launch(pw)
        try:
            yield b
        finally:
            b.close()


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
