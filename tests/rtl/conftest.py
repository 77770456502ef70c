"""Fixtures for the RTL tests: tool discovery and one build directory per test session."""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "rtl: RTL generation/simulation/synthesis (needs the tools it names to run)"
    )


@pytest.fixture(scope="session")
def rtl_work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory for all generated designs and simulator builds of a session."""
    return tmp_path_factory.mktemp("rtl")
