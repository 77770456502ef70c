"""Pure ASGI middlewares: request metrics and log lines, trusted hosts (rate limits are in
``ratelimit``, security headers and Origin checks in ``headers``).

All are plain ASGI callables (no ``BaseHTTPMiddleware``) so they add microseconds, not
milliseconds, to a cached estimate.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from http import HTTPStatus
from typing import Any

from starlette.datastructures import Headers
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from codesign_playground.service.core.metrics import HTTP_IN_FLIGHT, HTTP_REQUESTS, HTTP_SECONDS
from codesign_playground.service.core.problems import PROBLEM_JSON

__all__ = ["ProblemTrustedHostMiddleware", "RequestMetricsMiddleware", "send_problem"]

_access = logging.getLogger("codesign_playground.access")


def _route_of(scope: Scope) -> str:
    """The matched route template with every include prefix (``/api/v1/models/{model_id}``)."""
    fastapi_scope = scope.get("fastapi")
    context = (
        fastapi_scope.get("effective_route_context") if isinstance(fastapi_scope, dict) else None
    )
    path = getattr(context, "path_format", None) or getattr(scope.get("route"), "path", None)
    return str(path) if path else "unmatched"


class RequestMetricsMiddleware:
    """Counts and times every request by route template and status; logs one JSON line each.

    Also sets ``X-Request-ID`` (kept from the request when the client sent one).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        enabled: bool = True,
        extra_headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        self.app = app
        self.enabled = enabled
        self.extra_headers = list(extra_headers or [])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        request_id = ""
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                request_id = value.decode("latin-1")[:64]
                break
        request_id = request_id or uuid.uuid4().hex

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", ()))
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                headers.extend(self.extra_headers)
                message["headers"] = headers
            await send(message)

        HTTP_IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            HTTP_IN_FLIGHT.dec()
            elapsed = time.perf_counter() - started
            route = _route_of(scope)
            method = str(scope.get("method", ""))
            if self.enabled:
                HTTP_REQUESTS.labels(method, route, str(status)).inc()
                HTTP_SECONDS.labels(method, route, str(status)).observe(elapsed)
            if _access.isEnabledFor(logging.INFO) and route not in ("/health", "/metrics"):
                client = scope.get("client")
                _access.info(
                    "request",
                    extra={
                        "method": method,
                        "path": scope.get("path", ""),
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 3),
                        "client": client[0] if client else None,
                        "request_id": request_id,
                    },
                )


class ProblemTrustedHostMiddleware(TrustedHostMiddleware):
    """Starlette's ``TrustedHostMiddleware`` (``ALLOWED_HOSTS``) answering in problem+json."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.allow_any or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = Headers(scope=scope).get("host", "").split(":")[0]
        for pattern in self.allowed_hosts:
            if host == pattern or (pattern.startswith("*") and host.endswith(pattern[1:])):
                await self.app(scope, receive, send)
                return
        await send_problem(
            scope, send, 400, "invalid-host", f"host: {host!r} is not in ALLOWED_HOSTS"
        )


async def send_problem(
    scope: Scope,
    send: Send,
    status: int,
    slug: str,
    detail: str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    body: dict[str, Any] = {
        "type": f"/problems/{slug}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": scope.get("path", ""),
    }
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(payload)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
