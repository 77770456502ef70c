"""The OpenAPI document declares what errors really are: RFC 9457 problem details.

FastAPI documents its 422 as ``application/json`` ``HTTPValidationError``; every error this
service sends is ``application/problem+json`` (see ``problems.py``). This rewrites the
generated document once: a ``Problem`` schema, the 422 of each operation pointing at it, and a
``default`` problem response on every operation (404, 409, 413, 429, 503 ...).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from codesign_playground.service.core.problems import PROBLEM_JSON

__all__ = ["PROBLEM_SCHEMA", "install_problem_openapi"]

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details",
    "type": "object",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "description": "/problems/<slug> or about:blank"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "one line naming the field and the fix"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "validation errors: every field at fault",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
}

_REF = {"$ref": "#/components/schemas/Problem"}
_BINARY = {"type": "string", "format": "binary"}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": _REF}}}


def install_problem_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` declare problem+json error responses on every operation."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
        )
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = PROBLEM_SCHEMA
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        for path, item in schema.get("paths", {}).items():
            for operation in item.values():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                responses = operation["responses"]
                ok = responses.get("200")
                if ok is not None and path.endswith("/artifact"):
                    ok["content"] = {"application/gzip": {"schema": _BINARY}}
                elif ok is not None and path.endswith("/report"):
                    ok["content"] = {
                        "text/html": {"schema": {"type": "string"}},
                        "text/markdown": {"schema": {"type": "string"}},
                    }
                if "422" in responses:
                    responses["422"] = _problem("Invalid input (the detail names the field)")
                responses["default"] = _problem(
                    "Error: 400 host, 404 not found, 409 not finished, 410 files deleted "
                    "by retention, 413 too large, 429 rate limited, 503 database, Redis or "
                    "object store unavailable (Retry-After)"
                )
        _add_links(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


_ID_PARAM = re.compile(r"^\{([a-z_]+_id)\}$")


def _add_links(schema: dict[str, Any]) -> None:
    """OpenAPI links from each create operation to the operations on what it created.

    ``POST /api/v1/models`` returns ``{"id": ...}``; ``GET /api/v1/models/{model_id}`` and
    ``.../profile`` take it. Clients (and stateful API testing) follow these links."""
    paths: dict[str, Any] = schema.get("paths", {})
    for path, item in paths.items():
        create = item.get("post")
        if not isinstance(create, dict):
            continue
        ok = next((r for code, r in create["responses"].items() if code in ("201", "202")), None)
        if ok is None:
            continue
        links: dict[str, Any] = {}
        for other, other_item in paths.items():
            rest = other[len(path) + 1 :].split("/") if other.startswith(path + "/") else []
            match = _ID_PARAM.match(rest[0]) if rest else None
            if match is None:
                continue
            for operation in other_item.values():
                if isinstance(operation, dict) and "operationId" in operation:
                    links[operation["operationId"]] = {
                        "operationId": operation["operationId"],
                        "parameters": {match.group(1): "$response.body#/id"},
                    }
        if links:
            ok["links"] = links
