"""``/docs`` and ``/redoc`` render in a real browser with every outside host unreachable."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import free_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("docs")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    server = subprocess.Popen(
        [sys.executable, "-m", "codesign_playground.cli.main", "serve", "--port", str(port),
         "--data-dir", str(data)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("codesign serve did not answer /health within 60 s")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_nothing_from_outside(served: str, page: str) -> None:
    html = httpx.get(served + page, timeout=10).text
    outside = [u for u in re.findall(r"""(?:src|href)=["'](https?://[^"']+)""", html)]
    assert outside == [], f"{page} loads from outside: {outside}"
    for asset in re.findall(r"""(?:src|href)=["'](/static/docs/[^"']+)""", html):
        assert httpx.get(served + asset, timeout=10).status_code == 200, asset


def _dump_dom(url: str, profile: Path) -> str:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}",
         # offline: every host but this machine fails to resolve
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
         "--virtual-time-budget=15000", "--dump-dom", url],
        capture_output=True, text=True, timeout=180, check=True,
    ).stdout  # fmt: skip


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
def test_swagger_ui_renders_offline(served: str, tmp_path: Path) -> None:
    dom = _dump_dom(f"{served}/docs", tmp_path / "profile")
    assert "opblock" in dom  # Swagger UI drew the operations from /openapi.json
    assert "/api/v1/estimates" in dom


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
def test_redoc_renders_offline(served: str, tmp_path: Path) -> None:
    dom = _dump_dom(f"{served}/redoc", tmp_path / "profile")
    assert "/api/v1/estimates" in dom


def test_docs_routes_are_counted_by_their_own_names(served: str) -> None:
    for page in ("/docs", "/redoc", "/openapi.json", "/static/docs/swagger-ui.css"):
        assert httpx.get(served + page, timeout=10).status_code == 200
    metrics = httpx.get(f"{served}/metrics", timeout=10).text
    for route in ("/docs", "/redoc", "/openapi.json", "/static/docs/{path}"):
        assert f'route="{route}",status="200"' in metrics, route
    assert 'route="unmatched",status="200"' not in metrics
