"""Typed dependencies shared by the routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from codesign_playground.config import Settings, get_settings
from codesign_playground.service.core.cache import Cache
from codesign_playground.service.core.services import Services
from codesign_playground.service.jobs.queue import JobQueue
from codesign_playground.service.schemas import DB_INT_MAX

__all__ = [
    "CacheDep",
    "OffsetQuery",
    "QueueDep",
    "ServicesDep",
    "SessionDep",
    "SettingsDep",
]

OffsetQuery = Annotated[int, Query(ge=0, le=DB_INT_MAX, description="items to skip")]


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_session(services: ServicesDep) -> Iterator[Session]:
    """A session per request, committed when the route function returns (``scope="function"``:
    before the response is sent, so a client that reads right after a write sees it)."""
    with services.db.session() as session:
        yield session


def get_cache(services: ServicesDep) -> Cache:
    return services.cache


def get_queue(services: ServicesDep) -> JobQueue:
    return services.queue


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
CacheDep = Annotated[Cache, Depends(get_cache)]
QueueDep = Annotated[JobQueue, Depends(get_queue)]
