"""The workbench in headless Chromium when the server wants keys: it asks for one (and shows
no data) instead of breaking; its strict CSP lets its own modules run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
from tests.headless import serve


def test_dashboard_asks_for_a_key(tmp_path: Path, dump_dom: Callable[..., str]) -> None:
    with serve(tmp_path / "data", AUTH_MODE="api-key") as server:
        assert httpx.get(f"{server.api}/models").status_code == 401
        dom = dump_dom(f"{server.base}/#/hardware", budget_ms=10_000)
    assert "embedded: ready" in dom  # the script ran under the CSP (health needs no key)
    assert "API key needed" in dom
    assert '<form id="key-form">' in dom  # the key form is shown (no hidden attribute)
    assert "NVIDIA H100 SXM5 80GB" not in dom  # no data without a key
    assert "this server needs an API key" in dom  # the page says why it is empty
