"""The workbench in a real browser: headless Chromium loads it from ``codesign serve`` and its
modules fill the pages from the HTTP API (status badge, hardware catalog, zoo models). The
interactive flows are in tests/web/test_workbench_e2e.py."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_dashboard_renders_api_data(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    server = subprocess.Popen(
        [sys.executable, "-m", "codesign_playground.cli.main", "serve", "--port", str(port),
         "--data-dir", str(tmp_path / "data")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("codesign serve did not answer /health within 60 s")
        assert CHROMIUM is not None
        dom = {
            page: subprocess.run(
                [
                    CHROMIUM,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}",
                    "--virtual-time-budget=10000",
                    "--dump-dom",
                    f"http://127.0.0.1:{port}/#/{page}",
                ],
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
            ).stdout
            for page in ("hardware", "models", "estimate")
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert all("embedded: ready" in d for d in dom.values())  # the badge, from /health/ready
    # the catalog table, from /api/v1/hardware/catalog, with its sourced numbers' chips
    assert "NVIDIA H100 SXM5 80GB" in dom["hardware"] and "1.83 GHz" in dom["hardware"]
    assert "resnet18 (resnet)" in dom["models"]  # the zoo picker, from the zoo listing
    assert "zoo: resnet18" in dom["estimate"]  # the estimate's model picker
    assert "NVIDIA H100 SXM5 80GB" in dom["estimate"]  # and its hardware checkboxes
