"""The ``/api/v1`` router: one router per resource."""

from __future__ import annotations

from fastapi import APIRouter

from codesign_playground.service.api.routes import (
    estimates,
    explorations,
    hardware,
    jobs,
    models,
    rtl,
)

api_router = APIRouter()
api_router.include_router(models.router)
api_router.include_router(hardware.router)
api_router.include_router(estimates.router)
api_router.include_router(explorations.router)
api_router.include_router(rtl.router)
api_router.include_router(jobs.router)
