"""The workbench in a real browser: headless Chromium loads it from ``codesign serve`` and its
modules fill the pages from the HTTP API (status badge, hardware catalog, zoo models). The
interactive flows are in tests/web/test_workbench_e2e.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.headless import serve


def test_dashboard_renders_api_data(tmp_path: Path, dump_dom: Callable[..., str]) -> None:
    with serve(tmp_path / "data") as server:
        dom = {
            page: dump_dom(f"{server.base}/#/{page}", budget_ms=10_000)
            for page in ("hardware", "models", "estimate")
        }
    assert all("embedded: ready" in d for d in dom.values())  # the badge, from /health/ready
    # the catalog table, from /api/v1/hardware/catalog, with its sourced numbers' chips
    assert "NVIDIA H100 SXM5 80GB" in dom["hardware"] and "1.83 GHz" in dom["hardware"]
    assert "resnet18 (resnet)" in dom["models"]  # the zoo picker, from the zoo listing
    assert "zoo: resnet18" in dom["estimate"]  # the estimate's model picker
    assert "NVIDIA H100 SXM5 80GB" in dom["estimate"]  # and its hardware checkboxes
