"""The ``/api/v1`` router: one router per resource, every route behind authentication."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from codesign_playground.service.api.routes import (
    estimates,
    explorations,
    hardware,
    jobs,
    keys,
    models,
    rtl,
)
from codesign_playground.service.core.security import authenticate_request

api_router = APIRouter(
    dependencies=[Depends(authenticate_request)],
    responses={
        401: {"description": "no or unknown credentials (AUTH_MODE=api-key)"},
        403: {"description": "the key's scope does not allow this"},
    },
)
api_router.include_router(models.router)
api_router.include_router(hardware.router)
api_router.include_router(estimates.router)
api_router.include_router(explorations.router)
api_router.include_router(rtl.router)
api_router.include_router(jobs.router)
api_router.include_router(keys.router)
