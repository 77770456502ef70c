"""The workbench under the API's rate limit, in headless Chromium: a request refused with 429
is announced on the page (the limit, and a countdown to Retry-After) and sent again when the
window admits it, so the page fills instead of failing. The server runs with a low
``RATE_LIMIT_PER_MINUTE``; the test spends the bucket of 127.0.0.1 (the browser's address)
before the page asks for anything."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .workbench import ConsoleErrors, Server, start_server, stop

LIMIT = 5  # requests per minute: the Models page needs 3 (who am I, the zoo, the uploads)


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[Server]:
    proc, srv = start_server(tmp_path / "data", RATE_LIMIT_PER_MINUTE=str(LIMIT))
    try:
        yield srv
    finally:
        stop(proc)


def test_a_refused_request_is_announced_and_sent_again(limited: Server, browser: Any) -> None:
    errors = ConsoleErrors(allow=(("/api/v1/", 429),))
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(30_000)
    errors.attach(page)
    codes = [httpx.get(f"{limited.api}/hardware/catalog").status_code for _ in range(LIMIT + 1)]
    assert codes == [200] * LIMIT + [429]
    page.goto(f"{limited.base}/#/models")  # the page and its modules are not limited
    notice = page.locator("#rate-notice")
    notice.wait_for()
    text = notice.inner_text()
    assert re.fullmatch(
        rf"Rate limited: rate limit of {LIMIT} requests per minute exceeded\. The workbench "
        r"sends the request again in \d+ s\.",
        text,
    ), text
    assert page.get_by_role("status").filter(has_text="Rate limited").count() == 1
    # after Retry-After (at most the 60 s window) the requests are admitted and the page fills
    page.locator("[data-page=models] #model-list").get_by_text("No uploaded models yet").wait_for(
        timeout=120_000
    )
    page.locator("#rate-notice").wait_for(state="hidden")
    assert page.locator(".state.error").count() == 0
    assert errors == [], errors
