"""API keys (admin only) and ``/me``: who the caller is."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, status

from codesign_playground.service.api.deps import SessionDep, SettingsDep
from codesign_playground.service.core.problems import ProblemError
from codesign_playground.service.core.security import (
    AdminDep,
    Authenticator,
    PrincipalDep,
    create_key,
    list_keys,
    revoke_key,
)
from codesign_playground.service.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic, Me

router = APIRouter(tags=["keys"])

__all__ = ["router"]


@router.get("/me", response_model=Me)
def read_me(principal: PrincipalDep, settings: SettingsDep) -> Any:
    """The caller's owner name and scope, and the server's AUTH_MODE."""
    return {
        "owner": principal.owner,
        "scope": principal.scope,
        "via": principal.via,
        "auth_mode": settings.auth_mode,
    }


@router.post("/keys", status_code=status.HTTP_201_CREATED, response_model=ApiKeyCreated)
def create_api_key(session: SessionDep, _admin: AdminDep, body: ApiKeyCreate) -> Any:
    """Create a key for an owner; the key itself is in this answer only (store it now)."""
    row, key = create_key(session, owner=body.owner, scope=body.scope)
    return ApiKeyCreated.model_validate(row, from_attributes=True).model_copy(update={"key": key})


@router.get("/keys", response_model=list[ApiKeyPublic])
def read_api_keys(session: SessionDep, _admin: AdminDep) -> Any:
    """Every key (never the key itself: id, owner, scope, prefix, dates)."""
    return list_keys(session)


@router.post("/keys/{key_id}/revoke", response_model=ApiKeyPublic)
def revoke_api_key(session: SessionDep, request: Request, _admin: AdminDep, key_id: str) -> Any:
    """Revoke a key at once in this process (other processes within 5 s)."""
    row = revoke_key(session, key_id=key_id)
    if row is None:
        raise ProblemError(404, "not-found", f"key_id: no key with id {key_id}")
    authenticator: Authenticator = request.app.state.authenticator
    authenticator.forget()
    return row
