"""The workbench in a real browser: ``codesign serve`` (embedded SQLite, in-process worker) on
a free port, driven by Playwright for Python through Debian's Chromium (/usr/bin/chromium;
Playwright's own browser builds are never downloaded)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .workbench import CHROMIUM, Server, start_server, stop


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    proc, srv = start_server(tmp_path_factory.mktemp("workbench") / "data")
    try:
        yield srv
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            yield b
        finally:
            b.close()
