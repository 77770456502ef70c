"""Browser-facing protections: Content-Security-Policy on every answer, sandboxed reports, the
API docs pages with hashed inline scripts, and an ``Origin`` check on state-changing requests.

* the dashboard may load only its own scripts and styles (``'self'``, no inline code);
* an exploration report is served with ``sandbox allow-scripts``: its plots run, but in an
  opaque origin that cannot read the dashboard's storage or call the API as the user; its one
  outside script is the Plotly bundle this server serves (:data:`PLOTLY_BUNDLE_URL`);
* any other answer (JSON, errors) gets ``default-src 'none'``;
* a POST/PUT/PATCH/DELETE whose ``Origin`` is neither this server nor one of ``CORS_ORIGINS`` is
  refused (403): a web page elsewhere cannot make a browser upload or start jobs here.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from codesign_playground.service.core.middleware import send_problem

__all__ = [
    "DASHBOARD_CSP",
    "DEFAULT_CSP",
    "PLOTLY_BUNDLE_URL",
    "REPORT_CSP",
    "ContentSecurityPolicyMiddleware",
    "OriginCheckMiddleware",
    "install_docs",
]

DASHBOARD_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
PLOTLY_BUNDLE_URL = "/static/vendor/plotly.min.js"
"""Where the app serves Plotly.js (vendored by ``scripts/vendor_web.sh``: the strict build of the
same plotly.js version the plotly package bundles); the workbench and served reports load it
from here (the only script a report may load from the server: ``script-src 'self'``)."""
REPORT_CSP = (
    "sandbox allow-scripts; default-src 'none'; script-src 'self' 'unsafe-inline'; "
    "style-src 'unsafe-inline'; img-src data: blob:; font-src data:; connect-src 'none'; "
    "form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)
DEFAULT_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
# Swagger UI and ReDoc assets come from the fastapi-offline package (served under /static/docs),
# so the API documentation works without internet access
DOCS_ASSETS = "/static/docs"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ContentSecurityPolicyMiddleware:
    """Adds :data:`DEFAULT_CSP` to every HTTP answer that does not carry its own policy."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if not any(k.lower() == b"content-security-policy" for k, _ in headers):
                    headers.append((b"content-security-policy", DEFAULT_CSP.encode()))
                    message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_wrapper)


def _netloc(scheme: str, netloc: str) -> str:
    """``host[:port]`` in lower case without the scheme's default port."""
    netloc = netloc.lower()
    default = {"http": ":80", "https": ":443"}.get(scheme)
    if default and netloc.endswith(default):
        netloc = netloc[: -len(default)]
    return netloc


class OriginCheckMiddleware:
    """Refuses state-changing requests from a foreign ``Origin`` (403 problem+json).

    Same origin means the ``Origin``'s host and port equal the request's ``Host`` (checked
    against ``ALLOWED_HOSTS`` before); ``CORS_ORIGINS`` lists the other accepted origins.
    Requests without ``Origin`` (command-line clients) pass: browsers always send it on
    cross-origin POSTs. ``Origin: null`` (sandboxed documents, ``file:``) is refused.
    """

    def __init__(self, app: ASGIApp, *, allowed_origins: list[str]) -> None:
        self.app = app
        self.allowed = {o.rstrip("/").lower() for o in allowed_origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in _UNSAFE:
            await self.app(scope, receive, send)
            return
        origin = host = None
        for name, value in scope.get("headers", ()):
            if name == b"origin":
                origin = value.decode("latin-1").strip()
            elif name == b"host":
                host = value.decode("latin-1").strip()
        if origin is None or self._same_or_allowed(origin, host):
            await self.app(scope, receive, send)
            return
        await send_problem(
            scope,
            send,
            403,
            "origin-refused",
            f"Origin: {origin[:100]!r} may not {scope.get('method')} here; a cross-origin "
            "page needs its origin in CORS_ORIGINS",
        )

    def _same_or_allowed(self, origin: str, host: str | None) -> bool:
        if origin.rstrip("/").lower() in self.allowed:
            return True
        if origin.lower() == "null" or host is None:
            return False
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False
        # the browser reached Host with the origin's scheme (a TLS-terminating proxy may
        # hand the request on as plain http, so the request's own scheme is not compared)
        return _netloc(parts.scheme, parts.netloc) == _netloc(parts.scheme, host)


def _hashes(html: str, tag: str) -> list[str]:
    """CSP hash sources of ``html``'s inline ``<tag>`` blocks (those without ``src``)."""
    out = []
    for attrs, body in re.findall(rf"<{tag}([^>]*)>(.*?)</{tag}>", html, flags=re.S):
        if "src=" not in attrs:
            digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
            out.append(f"'sha256-{digest}'")
    return out


def _docs_response(html: str) -> HTMLResponse:
    scripts = " ".join(["'self'", *_hashes(html, "script")])
    csp = (
        f"default-src 'none'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
        "worker-src blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": csp})


def install_docs(app: FastAPI) -> None:
    """``/docs`` (Swagger UI) and ``/redoc``, offline, with a CSP allowing exactly their scripts."""
    title = app.title
    app.mount(
        DOCS_ASSETS, StaticFiles(packages=[("fastapi_offline", "static")]), name="docs-assets"
    )
    swagger = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title=f"{title} - API docs",
        swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
    ).body
    redoc = get_redoc_html(
        openapi_url="/openapi.json",
        title=f"{title} - ReDoc",
        redoc_js_url=f"{DOCS_ASSETS}/redoc.standalone.js",
        redoc_favicon_url=f"{DOCS_ASSETS}/favicon.png",
        with_google_fonts=False,
    ).body
    swagger_html = bytes(swagger).decode()
    redoc_html = bytes(redoc).decode()

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return _docs_response(swagger_html)

    @app.get("/redoc", include_in_schema=False)
    def redoc_page() -> HTMLResponse:
        return _docs_response(redoc_html)
