"""Request body size limit, checked before any route work (pure ASGI, streaming).

A declared ``Content-Length`` above the limit is refused before a byte is read; a body sent
without one (chunked) is counted as it arrives and refused as soon as it passes the limit.
Model uploads (``multipart/form-data``) get ``MODEL_MAX_UPLOAD_MB`` plus room for the form's
framing; every other body gets ``API_MAX_BODY_KB``.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimitMiddleware", "BodyTooLargeError"]

_MULTIPART_SLACK = 64 * 1024  # form boundaries and part headers around the file


class BodyTooLargeError(HTTPException):
    """413: raised from ``receive`` so FastAPI's body reader passes it on unchanged."""

    def __init__(self, limit: int, setting: str) -> None:
        super().__init__(
            413, f"body: the request body is larger than the {limit} byte limit ({setting})"
        )


class BodyLimitMiddleware:
    """Refuse request bodies above the configured size with a 413 problem."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes

    def _limit(self, scope: Scope) -> tuple[int, str]:
        ctype = b""
        for key, value in scope.get("headers", ()):
            if key == b"content-type":
                ctype = value.lower()
        if ctype.startswith(b"multipart/form-data"):
            return self.max_upload_bytes + _MULTIPART_SLACK, "MODEL_MAX_UPLOAD_MB"
        return self.max_body_bytes, "API_MAX_BODY_KB"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, setting = self._limit(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _send_413(scope, send, limit, setting)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLargeError(limit, setting)
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited, tracking_send)
        except BodyTooLargeError:
            if started:
                raise
            await _send_413(scope, send, limit, setting)


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_413(scope: Scope, send: Send, limit: int, setting: str) -> None:
    from starlette.requests import Request

    from codesign_playground.service.core.problems import problem_response

    response = problem_response(
        Request(scope),
        413,
        f"body: the request body is larger than the {limit} byte limit ({setting})",
        slug="body-too-large",
    )
    body: Any = response.body
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [*response.raw_headers, (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": body})
