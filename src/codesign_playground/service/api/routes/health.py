"""Liveness, readiness and the Prometheus metrics page (outside ``/api/v1``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from codesign_playground.service.api.deps import ServicesDep, SettingsDep
from codesign_playground.service.core.metrics import render_metrics

router = APIRouter(tags=["health"])


@router.get("/health")
def health(settings: SettingsDep) -> dict[str, Any]:
    """Liveness: the process answers."""
    return {"status": "ok", "version": settings.codesign_version, "env": settings.codesign_env}


@router.get("/health/ready", responses={503: {"description": "a dependency is down"}})
def ready(services: ServicesDep) -> JSONResponse:
    """Readiness: the database, Redis and at least one live job worker answer."""
    database = services.db.ping()
    redis_ok = services.redis_up() if services.redis is not None else None
    workers = services.queue.workers_alive()
    checks = {"database": database, "redis": redis_ok, "workers": workers}
    ok = database and redis_ok is not False and workers > 0
    body = {
        "status": "ready" if ok else "not ready",
        "mode": "embedded" if services.settings.embedded else "distributed",
        "checks": checks,
    }
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/metrics", response_class=Response)
async def metrics(services: ServicesDep) -> Response:
    """Prometheus metrics (text exposition format)."""
    text, content_type = await run_in_threadpool(render_metrics, services.collector())
    return Response(text, media_type=content_type)
