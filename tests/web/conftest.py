"""The workbench in a real browser: ``codesign serve`` (embedded SQLite, in-process worker) on
a free port, driven by Playwright for Python through Debian's Chromium (the ``browser`` fixture
of tests/conftest.py; Playwright's own browser builds are never downloaded)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .workbench import Server, start_server, stop


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    proc, srv = start_server(tmp_path_factory.mktemp("workbench") / "data")
    try:
        yield srv
    finally:
        stop(proc)
