"""Helpers shared by the RTL tests: skip cleanly, with the reason, when a tool is missing."""

from __future__ import annotations

import shutil

import pytest

from codesign_playground.rtl import get_simulator, yosys_available


def require_simulator(name: str) -> None:
    """Skip the calling test, with the reason, when a simulator cannot run here."""
    reason = get_simulator(name).unavailable_reason()
    if reason is not None:
        pytest.skip(reason)


def require_tool(name: str) -> None:
    if name == "yosys" and not yosys_available():
        pytest.skip("yosys is not installed (scripts/install_rtl_tools.sh)")
    if shutil.which(name) is None:
        pytest.skip(f"{name} is not installed (scripts/install_rtl_tools.sh)")
