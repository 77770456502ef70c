"""Assemble the FastAPI app: routers, problem handlers, middlewares, dashboard, lifespan."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from codesign_playground import __version__
from codesign_playground.config import Settings, get_settings
from codesign_playground.service.api.main import api_router
from codesign_playground.service.api.routes import health
from codesign_playground.service.core import tracing
from codesign_playground.service.core.db import DatabaseNotMigratedError
from codesign_playground.service.core.headers import (
    DASHBOARD_CSP,
    ContentSecurityPolicyMiddleware,
    OriginCheckMiddleware,
    install_docs,
)
from codesign_playground.service.core.limits import BodyLimitMiddleware
from codesign_playground.service.core.logging import setup_logging
from codesign_playground.service.core.middleware import (
    ProblemTrustedHostMiddleware,
    RequestMetricsMiddleware,
)
from codesign_playground.service.core.openapi import install_problem_openapi
from codesign_playground.service.core.problems import install_problem_handlers
from codesign_playground.service.core.ratelimit import (
    MemorySlidingWindows,
    RateLimitMiddleware,
    RedisSlidingWindows,
    TrustedProxies,
    TrustedProxyMiddleware,
    WindowStore,
)
from codesign_playground.service.core.security import Authenticator
from codesign_playground.service.core.services import start_services

__all__ = ["create_app"]

_log = logging.getLogger("codesign_playground.service")


def create_app(settings: Settings | None = None) -> FastAPI:
    """The application for ``settings`` (default: :func:`get_settings`)."""
    explicit = settings is not None
    settings = settings or get_settings()
    setup_logging(
        settings.codesign_log_level,
        static={"service": "api", "env": settings.codesign_env, "pod": settings.pod_name},
    )

    if settings.uses_placeholder_secret:
        _log.warning(
            "SECRET_KEY is a placeholder: fine for development, refused in staging and "
            "production (set SECRET_KEY to a long random string)"
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            app.state.services = await run_in_threadpool(start_services, settings)
        except DatabaseNotMigratedError as exc:
            _log.error(str(exc))
            print(f"error: {exc}", file=sys.stderr, flush=True)
            raise SystemExit(3) from None
        try:
            yield
        finally:
            await run_in_threadpool(app.state.services.close)
            tracing.flush()

    provider = tracing.setup_tracing(settings, "api")  # before any engine or client exists
    app = FastAPI(
        title="codesign-playground",
        version=__version__,
        summary="Profile networks, estimate them on accelerators, explore the joint design space.",
        lifespan=lifespan,
        debug=settings.debug,
        docs_url=None,
        redoc_url=None,
    )
    app.state.authenticator = Authenticator(settings)
    if explicit:
        app.dependency_overrides[get_settings] = lambda: settings
    install_problem_handlers(app)
    tracing.instrument_app(app, provider)
    install_problem_openapi(app)
    app.include_router(health.router)
    app.include_router(api_router, prefix="/api/v1")
    install_docs(app)

    web = resources.files("codesign_playground.web")

    app.mount(
        "/static", StaticFiles(packages=[("codesign_playground", "web/static")]), name="static"
    )

    @app.get("/", include_in_schema=False)
    def dashboard() -> FileResponse:
        return FileResponse(
            str(web.joinpath("static/index.html")),
            headers={"Content-Security-Policy": DASHBOARD_CSP},
        )

    # outermost last: metrics see every response, including 400 host and 429 rate-limit ones
    app.add_middleware(
        BodyLimitMiddleware,
        max_body_bytes=settings.api_max_body_bytes,
        max_upload_bytes=settings.model_max_upload_bytes,
    )
    if settings.rate_limit_enabled:
        store: WindowStore = (
            RedisSlidingWindows(settings.redis_url, settings.redis_key_prefix)
            if settings.redis_url
            else MemorySlidingWindows()
        )
        app.add_middleware(
            RateLimitMiddleware,
            store=store,
            per_minute=settings.rate_limit_per_minute,
            per_hour=settings.rate_limit_per_hour,
        )
    app.add_middleware(OriginCheckMiddleware, allowed_origins=settings.cors_origins)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "X-Cache", "Retry-After"],
            allow_credentials=False,
            max_age=600,
        )
    if settings.allowed_hosts and "*" not in settings.allowed_hosts:
        app.add_middleware(ProblemTrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
    headers: list[tuple[bytes, bytes]] = []
    if settings.enable_security_validation:
        headers += [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
        ]
    if settings.ssl_enabled:
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    app.add_middleware(ContentSecurityPolicyMiddleware)
    proxies = TrustedProxies(settings.forwarded_allow_ips)
    if proxies:
        app.add_middleware(TrustedProxyMiddleware, proxies=proxies)
    app.add_middleware(
        RequestMetricsMiddleware,
        enabled=settings.enable_performance_monitoring,
        extra_headers=headers,
    )
    return app
