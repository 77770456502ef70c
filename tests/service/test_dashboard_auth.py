"""The workbench in headless Chromium when the server wants keys: it asks for one (and shows
no data) instead of breaking; its strict CSP lets its own modules run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from .test_dashboard import CHROMIUM, _free_port

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")


def test_dashboard_asks_for_a_key(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["AUTH_MODE"] = "api-key"
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
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/models").status_code == 401
        assert CHROMIUM is not None
        dom = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
             "--virtual-time-budget=10000", "--dump-dom", f"http://127.0.0.1:{port}/#/hardware"],
            capture_output=True, text=True, timeout=120, check=True,
        ).stdout  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert "embedded: ready" in dom  # the script ran under the CSP (health needs no key)
    assert "API key needed" in dom
    assert '<form id="key-form">' in dom  # the key form is shown (no hidden attribute)
    assert "NVIDIA H100 SXM5 80GB" not in dom  # no data without a key
    assert "this server needs an API key" in dom  # the page says why it is empty
