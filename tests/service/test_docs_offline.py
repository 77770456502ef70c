"""``/docs`` and ``/redoc`` render in a real browser with every outside host unreachable."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import httpx
import pytest
from tests.headless import serve


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(tmp_path_factory.mktemp("docs")) as server:
        yield server.base


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_nothing_from_outside(served: str, page: str) -> None:
    html = httpx.get(served + page, timeout=10).text
    outside = [u for u in re.findall(r"""(?:src|href)=["'](https?://[^"']+)""", html)]
    assert outside == [], f"{page} loads from outside: {outside}"
    for asset in re.findall(r"""(?:src|href)=["'](/static/docs/[^"']+)""", html):
        assert httpx.get(served + asset, timeout=10).status_code == 200, asset


def test_swagger_ui_renders_offline(served: str, dump_dom: Callable[..., str]) -> None:
    dom = dump_dom(f"{served}/docs", offline=True)
    assert "opblock" in dom  # Swagger UI drew the operations from /openapi.json
    assert "/api/v1/estimates" in dom


def test_redoc_renders_offline(served: str, dump_dom: Callable[..., str]) -> None:
    dom = dump_dom(f"{served}/redoc", offline=True)
    assert "/api/v1/estimates" in dom


def test_docs_routes_are_counted_by_their_own_names(served: str) -> None:
    for page in ("/docs", "/redoc", "/openapi.json", "/static/docs/swagger-ui.css"):
        assert httpx.get(served + page, timeout=10).status_code == 200
    metrics = httpx.get(f"{served}/metrics", timeout=10).text
    for route in ("/docs", "/redoc", "/openapi.json", "/static/docs/{path}"):
        assert f'route="{route}",status="200"' in metrics, route
    assert 'route="unmatched",status="200"' not in metrics
