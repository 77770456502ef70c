"""RFC 9457 problem details for every error response, from four handlers.

* :class:`~codesign_playground.errors.CodesignError` (library input errors): 422, or 404 for a
  missing model; the library's one-line message is the ``detail``;
* request validation errors: 422 with a one-line ``detail`` naming the field, and the full
  list under ``errors``;
* HTTP errors raised by routes or the router (404, 405, 413, 429 ...);
* anything else: 500 with no internals in the body (the traceback goes to the log).
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

import kombu.exceptions
import redis
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from codesign_playground.errors import CodesignError, ModelNotFoundError, UnsupportedError

__all__ = [
    "PROBLEM_JSON",
    "RETRY_AFTER_S",
    "UNAVAILABLE_ERRORS",
    "ProblemError",
    "install_problem_handlers",
    "problem_response",
    "unavailable",
]

PROBLEM_JSON = "application/problem+json"
_log = logging.getLogger("codesign_playground.service")

RETRY_AFTER_S = 5
"""Seconds a client is asked to wait (``Retry-After``) while the database or Redis is down."""

UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,  # the database is unreachable (or SQLite is locked)
    sa_exc.TimeoutError,  # no pooled connection came free in DATABASE_POOL_TIMEOUT
    sa_exc.InterfaceError,
    redis.ConnectionError,
    redis.TimeoutError,
    kombu.exceptions.OperationalError,  # the Celery broker (Redis) is unreachable
)
"""Errors of a dependency being down: a 503 with ``Retry-After``, not a 500."""


class ProblemError(Exception):
    """A route's error of a named problem type: ``ProblemError(409, "job-not-finished", ...)``."""

    def __init__(
        self, status: int, slug: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.detail = detail
        self.headers = headers


def problem_response(
    request: Request | None,
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response; ``slug`` names a ``/problems/<slug>`` type, else about:blank."""
    body: dict[str, Any] = {
        "type": f"/problems/{slug}" if slug else "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.url.path if request is not None else "",
        **extra,
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        where, rest = parts[0], parts[1:]
        return ".".join(rest) if rest else where
    return ".".join(parts)


def _one_line(text: str) -> str:
    return " ".join(text.split())


async def _codesign_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CodesignError)
    if isinstance(exc, ModelNotFoundError):
        return problem_response(request, 404, _one_line(str(exc)), slug="model-not-found")
    slug = "unsupported" if isinstance(exc, UnsupportedError) else "invalid-input"
    return problem_response(request, 422, _one_line(str(exc)), slug=slug)


def _allowed(request: Request, *, literal_only: bool = False) -> list[str]:
    """Methods the OpenAPI document lists for this request's path (any method); a literal
    path (``/hardware/validate``) wins over a template (``/hardware/{hardware_id}``)."""
    literal: set[str] = set()
    templated: set[str] = set()
    for template, item in request.app.openapi().get("paths", {}).items():
        pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, request.url.path):
            (templated if "{" in template else literal).update(m.upper() for m in item)
    return sorted(literal if literal or literal_only else templated)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    if exc.errors() and all(tuple(e.get("loc", ()))[:1] == ("path",) for e in exc.errors()):
        # GET /hardware/validate reached GET /hardware/{hardware_id}: the path names a
        # literal resource with other methods, so the method is what is wrong (405)
        literal = _allowed(request, literal_only=True)
        if literal and request.method not in literal:
            detail = f"method {request.method} is not allowed on {request.url.path}"
            return problem_response(request, 405, detail, headers={"Allow": ", ".join(literal)})
    errors = [
        {"field": _field(e.get("loc", ())), "message": str(e.get("msg", "")), "type": e["type"]}
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"field": "request", "message": "invalid"}
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    detail = _one_line(f"{first['field']}: {first['message']}{more}")
    return problem_response(request, 422, detail, slug="validation-error", errors=errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no resource at {request.url.path}"
    elif exc.status_code == 405:
        detail = f"method {request.method} is not allowed on {request.url.path}"
    headers = dict(exc.headers) if exc.headers else None
    if exc.status_code == 405:  # every method of the path, not only the first route's
        headers = (headers or {}) | {"Allow": ", ".join(_allowed(request))}
    return problem_response(request, exc.status_code, _one_line(detail), headers=headers)


async def _problem_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(request, exc.status, exc.detail, slug=exc.slug, headers=exc.headers)


def unavailable(what: str) -> ProblemError:
    """The 503 problem for ``what`` (``database``, ``queue`` ...) being unreachable."""
    return ProblemError(
        503,
        "service-unavailable",
        f"{what}: temporarily unreachable; nothing was changed, retry in {RETRY_AFTER_S} s",
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    what = "database" if isinstance(exc, sa_exc.SQLAlchemyError) else "redis"
    _log.warning(
        "dependency unavailable on %s: %s", request.url.path, type(exc).__name__, exc_info=exc
    )
    problem = unavailable(what)
    return problem_response(
        request, 503, problem.detail, slug=problem.slug, headers=problem.headers
    )


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    _log.error("unhandled error on %s", request.url.path, exc_info=exc)
    return problem_response(
        request, 500, "internal error; the server log has the details", slug="internal-error"
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(CodesignError, _codesign_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ProblemError, _problem_error)
    for error in UNAVAILABLE_ERRORS:
        app.add_exception_handler(error, _unavailable)
    app.add_exception_handler(Exception, _internal_error)
