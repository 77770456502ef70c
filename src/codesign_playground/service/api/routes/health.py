"""Liveness, readiness and the Prometheus metrics page (outside ``/api/v1``)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from codesign_playground.service.api.deps import ServicesDep, SettingsDep
from codesign_playground.service.core.metrics import render_metrics
from codesign_playground.service.storage import store_ready

router = APIRouter(tags=["health"])
_log = logging.getLogger("codesign_playground.service")


@router.get("/health")
def health(settings: SettingsDep) -> dict[str, Any]:
    """Liveness: the process answers."""
    return {"status": "ok", "version": settings.codesign_version, "env": settings.codesign_env}


@router.get("/health/ready", responses={503: {"description": "a dependency is down"}})
def ready(services: ServicesDep) -> JSONResponse:
    """Readiness: the database, Redis, at least one live job worker and, with an S3 artifact
    store, its bucket answer (``artifact_store`` is ``null`` for the local folder and the
    database: nothing remote to ask)."""
    database = services.db.ping()
    redis_ok = services.redis_up() if services.redis is not None else None
    workers = services.queue.workers_alive()
    store_ok, problem = store_ready(services.settings)
    if problem is not None:
        # the body stays free of bucket names (the probe is not authenticated); the log has it
        _log.warning("readiness: artifact store not ready", extra={"error": problem})
    checks = {
        "database": database,
        "redis": redis_ok,
        "workers": workers,
        "artifact_store": store_ok,
    }
    ok = database and redis_ok is not False and workers > 0 and store_ok is not False
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
