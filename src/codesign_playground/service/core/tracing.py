"""OpenTelemetry traces, exported by OTLP/HTTP when ``ENABLE_DISTRIBUTED_TRACING`` is on.

One trace runs from the request to the job's end: FastAPI, SQLAlchemy, Redis and Celery are
instrumented with the ``opentelemetry-instrumentation-*`` packages; Celery carries the trace
context in the task message headers to the worker, and the embedded worker threads take it
from the submitting request (kept in memory by job id). The endpoint is
``OTEL_EXPORTER_OTLP_ENDPOINT`` (the collector's base URL, e.g. ``http://jaeger:4318``), else
the host of ``JAEGER_ENDPOINT`` (the operations guide's ``http://jaeger:14268/api/traces``)
on the OTLP/HTTP port 4318: Jaeger receives OTLP with ``COLLECTOR_OTLP_ENABLED=true``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from codesign_playground import __version__
from codesign_playground.config import Settings

__all__ = [
    "OTLP_HTTP_PORT",
    "capture_context",
    "job_span",
    "otlp_traces_endpoint",
    "setup_tracing",
]

OTLP_HTTP_PORT = 4318
_log = logging.getLogger("codesign_playground.service")
_LOCK = threading.Lock()
_PROVIDER: TracerProvider | None = None
_CARRIERS: dict[str, dict[str, str]] = {}


def otlp_traces_endpoint(settings: Settings) -> str:
    """The OTLP/HTTP traces URL from the settings (see the module docstring)."""
    base = settings.otel_exporter_otlp_endpoint
    if not base and settings.jaeger_endpoint:
        parts = urlsplit(settings.jaeger_endpoint)
        base = f"{parts.scheme or 'http'}://{parts.hostname}:{OTLP_HTTP_PORT}"
    if not base:
        base = f"http://localhost:{OTLP_HTTP_PORT}"
    return base.rstrip("/") + ("" if base.rstrip("/").endswith("/v1/traces") else "/v1/traces")


def setup_tracing(
    settings: Settings, service: str, *, exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """Install the tracer provider and the library instrumentations once per process.

    ``exporter`` replaces the OTLP exporter (tests pass the SDK's in-memory one). Returns
    ``None`` when tracing is off."""
    global _PROVIDER
    if not settings.enable_distributed_tracing:
        return None
    with _LOCK:
        if _PROVIDER is not None:
            if exporter is not None:
                _PROVIDER.add_span_processor(BatchSpanProcessor(exporter))
            return _PROVIDER
        if exporter is None:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter(endpoint=otlp_traces_endpoint(settings))
        resource = Resource.create(
            {
                "service.name": f"codesign-{service}",
                "service.version": __version__,
                "deployment.environment": settings.codesign_env,
            }
        )
        provider = TracerProvider(resource=resource)
        provider.add_span_processor(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        from opentelemetry.instrumentation.celery import CeleryInstrumentor
        from opentelemetry.instrumentation.redis import RedisInstrumentor
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        # engines made after this are traced; SQLAlchemy 2.1 keeps the event API the
        # instrumentation uses, though its declared range still ends below 2.1
        SQLAlchemyInstrumentor().instrument(tracer_provider=provider, skip_dep_check=True)
        RedisInstrumentor().instrument(tracer_provider=provider)
        CeleryInstrumentor().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]
        _PROVIDER = provider
        _log.info("tracing on", extra={"endpoint": otlp_traces_endpoint(settings)})
        return provider


def instrument_app(app: Any, provider: TracerProvider | None) -> None:
    """Trace every request of ``app`` (a server span per request)."""
    if provider is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, excluded_urls="health,health/ready,metrics"
    )


def capture_context(job_id: str) -> None:
    """Remember the current trace context for job ``job_id`` (embedded mode: the worker
    thread that runs the job continues the submitting request's trace)."""
    if _PROVIDER is None:
        return
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    if carrier:
        with _LOCK:
            _CARRIERS[job_id] = carrier
            while len(_CARRIERS) > 10_000:
                _CARRIERS.pop(next(iter(_CARRIERS)))


@contextmanager
def job_span(job_id: str, kind: str) -> Iterator[None]:
    """A span around one run of a job, parented by the submitting request when known."""
    with _LOCK:
        carrier = _CARRIERS.pop(job_id, None)
    token = otel_context.attach(propagate.extract(carrier)) if carrier else None
    try:
        tracer = trace.get_tracer("codesign_playground.jobs")
        with tracer.start_as_current_span(
            f"job {kind}", attributes={"codesign.job_id": job_id, "codesign.job_kind": kind}
        ):
            yield
    finally:
        if token is not None:
            otel_context.detach(token)


def flush() -> None:
    """Export the spans still buffered (before a process exits)."""
    if _PROVIDER is not None:
        _PROVIDER.force_flush(5000)
