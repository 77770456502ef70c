"""Who is calling: API keys (``Authorization: Bearer csk_...``), OIDC bearer tokens, or nobody.

* ``AUTH_MODE=none`` (the embedded development server on loopback only): every request acts
  as the admin ``local``; a request that reached a non-loopback address is refused anyway.
* ``AUTH_MODE=api-key``: a key from ``codesign keys create`` or ``POST /api/v1/keys``. Keys are
  ``csk_`` + 256 random bits; the database keeps only their SHA-256 (a fast hash is enough for
  a high-entropy secret: there is nothing to brute-force), compared in constant time. With
  ``OIDC_ISSUER`` set, a JWT from that identity provider is accepted too (PyJWT, keys from the
  provider's JWKS); its ``OIDC_OWNER_CLAIM`` names the owner and its ``scope`` claim must hold
  ``codesign:read``, ``codesign:write`` or ``codesign:admin``.

Scopes: ``read`` reads its owner's objects and runs pure computations (estimates, validation);
``write`` also creates and cancels; ``admin`` sees every owner's objects and manages keys.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from codesign_playground.config import Settings, get_settings, is_loopback
from codesign_playground.errors import InputError
from codesign_playground.service.core.problems import ProblemError
from codesign_playground.service.tables import ApiKeyRow, utcnow

__all__ = [
    "KEY_PREFIX",
    "PURE_POSTS",
    "SCOPES",
    "AdminDep",
    "Authenticator",
    "Principal",
    "PrincipalDep",
    "Scope",
    "authenticate_request",
    "create_key",
    "hash_key",
    "list_keys",
    "new_key",
    "revoke_key",
]

Scope = Literal["read", "write", "admin"]
SCOPES: tuple[Scope, ...] = ("read", "write", "admin")
KEY_PREFIX = "csk_"
OWNER_NONE_MODE = "local"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PURE_POSTS = ("/estimates", "/hardware/validate", "/hardware/templates/{kind}")
"""Templates of POST routes under ``/api/v1`` that compute and store nothing: a read key may
call them."""

_CACHE_TTL_S = 5.0
"""How long a process trusts a key lookup; a revocation elsewhere takes effect within it."""

_bearer = HTTPBearer(auto_error=False, description="an API key (csk_...) or an OIDC token")


@dataclass(frozen=True)
class Principal:
    """The caller: an owner name, a scope, and how it was authenticated."""

    owner: str
    scope: Scope
    via: Literal["none", "api-key", "oidc"]
    key_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.scope == "admin"

    @property
    def can_write(self) -> bool:
        return self.scope in ("write", "admin")

    @property
    def owner_filter(self) -> str | None:
        """What reads filter on: ``None`` (every owner) for admins, else the own name."""
        return None if self.is_admin else self.owner


def new_key() -> str:
    """A fresh API key: the prefix and 256 random bits, url-safe."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    """The stored form of a key: hex SHA-256."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _check_owner(owner: str) -> str:
    owner = owner.strip()
    if not owner or len(owner) > 200 or any(ord(c) < 32 for c in owner):
        raise InputError("owner: give a name of 1 to 200 printable characters")
    return owner


def create_key(session: Session, *, owner: str, scope: str) -> tuple[ApiKeyRow, str]:
    """Store a new key for ``owner`` with ``scope``; returns the row and the key (shown once)."""
    if scope not in SCOPES:
        raise InputError(f"scope: {scope!r} is not one of {', '.join(SCOPES)}")
    key = new_key()
    row = ApiKeyRow(
        id="key_" + secrets.token_urlsafe(9),
        owner=_check_owner(owner),
        scope=scope,
        key_hash=hash_key(key),
        prefix=key[: len(KEY_PREFIX) + 6],
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row, key


def list_keys(session: Session, *, include_revoked: bool = True) -> Sequence[ApiKeyRow]:
    stmt = select(ApiKeyRow).order_by(ApiKeyRow.created_at)
    if not include_revoked:
        stmt = stmt.where(ApiKeyRow.revoked_at.is_(None))
    return session.scalars(stmt).all()


def revoke_key(session: Session, *, key_id: str) -> ApiKeyRow | None:
    """Mark a key revoked (kept for the record); ``None`` if there is no such key."""
    row = session.get(ApiKeyRow, key_id)
    if row is None:
        return None
    if row.revoked_at is None:
        session.execute(update(ApiKeyRow).where(ApiKeyRow.id == key_id).values(revoked_at=utcnow()))
        session.flush()
        session.refresh(row)
    return row


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(401, "unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


class Authenticator:
    """Turns an ``Authorization`` header into a :class:`Principal` (one per app)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._cache: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()
        self._jwks: Any = None

    def forget(self) -> None:
        """Drop cached key lookups (after a revocation in this process)."""
        with self._lock:
            self._cache.clear()

    def principal(self, session_factory: Any, token: str | None) -> Principal:
        if self.settings.auth_mode == "none":
            return Principal(owner=OWNER_NONE_MODE, scope="admin", via="none")
        if not token:
            raise _unauthorized(
                "Authorization: send 'Authorization: Bearer <key>' (AUTH_MODE=api-key; "
                "create a key with 'codesign keys create')"
            )
        if token.startswith(KEY_PREFIX):
            return self._api_key(session_factory, token)
        if self.settings.oidc_issuer and token.count(".") == 2:
            return self._oidc(token)
        raise _unauthorized("Authorization: the bearer token is not a valid API key")

    def _api_key(self, session_factory: Any, token: str) -> Principal:
        digest = hash_key(token)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(digest)
        if hit is not None and hit[1] > now:
            return hit[0]
        with session_factory() as session:
            row = session.scalars(select(ApiKeyRow).where(ApiKeyRow.key_hash == digest)).first()
            found = None
            if (
                row is not None
                and row.revoked_at is None
                and hmac.compare_digest(row.key_hash, digest)
                and row.scope in SCOPES
            ):
                found = Principal(owner=row.owner, scope=row.scope, via="api-key", key_id=row.id)
        if found is None:
            raise _unauthorized("Authorization: unknown or revoked API key")
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (found, now + _CACHE_TTL_S)
        return found

    def _jwks_client(self) -> Any:
        import jwt

        if self._jwks is None:
            url = self.settings.oidc_jwks_url
            if not url:
                import httpx

                discovery = self.settings.oidc_issuer.rstrip("/")
                discovery += "/.well-known/openid-configuration"
                url = httpx.get(discovery, timeout=5).raise_for_status().json()["jwks_uri"]
            self._jwks = jwt.PyJWKClient(url, cache_keys=True, lifespan=300, timeout=5)
        return self._jwks

    def _oidc(self, token: str) -> Principal:
        import jwt

        try:
            signing_key = self._jwks_client().get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                signing_key.key,
                algorithms=list(self.settings.oidc_algorithms),
                audience=self.settings.oidc_audience or None,
                issuer=self.settings.oidc_issuer,
                options={
                    "require": ["exp", "iss", "sub"],
                    "verify_aud": bool(self.settings.oidc_audience),
                },
            )
        except jwt.PyJWKClientError as exc:
            raise _unauthorized(f"Authorization: token signing key not found ({exc})") from None
        except jwt.InvalidTokenError as exc:
            raise _unauthorized(f"Authorization: invalid token ({exc})") from None
        owner = claims.get(self.settings.oidc_owner_claim)
        if not isinstance(owner, str) or not owner:
            raise _unauthorized(
                f"Authorization: the token has no {self.settings.oidc_owner_claim!r} claim "
                "(OIDC_OWNER_CLAIM)"
            )
        raw = claims.get("scope", claims.get("scp", ""))
        granted = set(raw.split() if isinstance(raw, str) else raw or [])
        for scope in ("admin", "write", "read"):
            if f"codesign:{scope}" in granted:
                return Principal(owner=owner, scope=scope, via="oidc")
        raise ProblemError(
            403,
            "forbidden",
            "Authorization: the token grants none of codesign:read, codesign:write, codesign:admin",
        )


def _server_is_remote(request: Request) -> bool:
    """The request arrived on a non-loopback address (AUTH_MODE=none serves loopback only)."""
    server = request.scope.get("server")
    if not server:
        return False
    try:
        ipaddress.ip_address(str(server[0]))
    except ValueError:
        return False  # a test client's symbolic name
    return not is_loopback(str(server[0]))


def authenticate_request(
    request: Request,
    settings: Annotated[Settings, Depends(get_settings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller of an ``/api/v1`` route; a read scope may not change anything."""
    if settings.auth_mode == "none" and _server_is_remote(request):
        raise _unauthorized(
            "Authorization: AUTH_MODE=none serves loopback only; this request reached "
            f"{request.scope['server'][0]}. Set AUTH_MODE=api-key"
        )
    authenticator: Authenticator = request.app.state.authenticator
    token = credentials.credentials if credentials is not None else None
    principal = authenticator.principal(request.app.state.services.db.session, token)
    route = str(getattr(request.scope.get("route"), "path", ""))
    pure = any(route.endswith(p) for p in PURE_POSTS)  # the template, with or without prefix
    if request.method not in SAFE_METHODS and not pure and not principal.can_write:
        raise ProblemError(
            403,
            "forbidden",
            f"scope: a {principal.scope} key cannot {request.method} {request.url.path}; "
            "use a key with scope write",
        )
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(authenticate_request)]


def require_admin(principal: PrincipalDep) -> Principal:
    if not principal.is_admin:
        raise ProblemError(403, "forbidden", "scope: managing keys needs an admin key")
    return principal


AdminDep = Annotated[Principal, Depends(require_admin)]
