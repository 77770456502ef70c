"""Traces: one trace from the request to the job's end, on the real instrumented app.

Embedded mode in-process (the SDK's in-memory exporter); distributed mode with real API and
Celery worker processes exporting OTLP/HTTP to a receiver in this test (a real HTTP server
decoding the OTLP protobuf).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from codesign_playground.config import Settings
from codesign_playground.service.core import tracing
from codesign_playground.service.main import create_app

from .conftest import Deployment


def test_settings_give_the_otlp_endpoint() -> None:
    def s(**kw: Any) -> Settings:
        return Settings(codesign_env="test", secret_key="x", **kw)

    assert (
        tracing.otlp_traces_endpoint(s(jaeger_endpoint="http://jaeger:14268/api/traces"))
        == "http://jaeger:4318/v1/traces"
    )
    assert (
        tracing.otlp_traces_endpoint(s(otel_exporter_otlp_endpoint="http://otel:4318"))
        == "http://otel:4318/v1/traces"
    )
    assert tracing.setup_tracing(s(), "api") is None  # off unless enabled


def test_embedded_request_to_job_end_is_one_trace(tmp_path: Path) -> None:
    exporter = InMemorySpanExporter()
    settings = Settings(
        codesign_env="test",
        secret_key="test-tracing",
        codesign_data_dir=tmp_path,
        allowed_hosts=["testserver"],
        rate_limit_enabled=False,
        enable_distributed_tracing=True,
    )
    provider = tracing.setup_tracing(settings, "api", exporter=exporter)
    assert provider is not None
    with TestClient(create_app(settings)) as c:
        r = c.post("/api/v1/rtl", json={"rows": 4, "cols": 4})
        assert r.status_code == 202, r.text
        job_id = r.json()["id"]
        deadline = time.monotonic() + 60
        while c.get(f"/api/v1/jobs/{job_id}").json()["status"] != "succeeded":
            assert time.monotonic() < deadline
            time.sleep(0.1)
    provider.force_flush()
    spans = exporter.get_finished_spans()
    request = next(s for s in spans if s.name == "POST /api/v1/rtl" and s.kind.name == "SERVER")
    job = next(s for s in spans if s.name == "job rtl")
    assert job.attributes is not None and job.attributes["codesign.job_id"] == job_id
    assert job.context.trace_id == request.context.trace_id
    sql = [
        s
        for s in spans
        if s.context.trace_id == job.context.trace_id
        and {"db.system", "db.system.name"} & set(s.attributes or {})
        and s.name.startswith(("SELECT", "INSERT", "UPDATE"))
    ]
    assert sql, [s.name for s in spans]


class _Receiver(BaseHTTPRequestHandler):
    spans: ClassVar[list[tuple[str, str, bytes, bytes]]] = []  # service, name, trace, span

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest.FromString(body)
        for rs in request.resource_spans:
            service = next(
                (a.value.string_value for a in rs.resource.attributes if a.key == "service.name"),
                "",
            )
            for ss in rs.scope_spans:
                for span in ss.spans:
                    self.spans.append((service, span.name, span.trace_id, span.span_id))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[str, str, bytes, bytes]]]]:
    _Receiver.spans = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Receiver.spans
    server.shutdown()


def test_distributed_trace_crosses_into_the_celery_worker(
    services_up: None,
    tmp_path: Path,
    receiver: tuple[str, list[tuple[str, str, bytes, bytes]]],
) -> None:
    url, spans = receiver
    dep = Deployment("distributed", tmp_path)
    dep.env |= {
        "ENABLE_DISTRIBUTED_TRACING": "true",
        "OTEL_EXPORTER_OTLP_ENDPOINT": url,
        "OTEL_BSP_SCHEDULE_DELAY": "200",
    }
    try:
        dep.start_worker()
        dep.start_api()
        dep.wait_ready(60)
        dep.make_keys()
        with dep.client() as c:
            r = c.post("/api/v1/rtl", json={"rows": 4, "cols": 4})
            assert r.status_code == 202, r.text
        assert dep.wait_job(r.json()["id"], 120)["status"] == "succeeded"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            job = [s for s in spans if s[1] == "job rtl"]
            if job:
                break
            time.sleep(0.2)
    finally:
        dep.close()
    request = [s for s in spans if s[0] == "codesign-api" and s[1] == "POST /api/v1/rtl"]
    job = [s for s in spans if s[0] == "codesign-worker" and s[1] == "job rtl"]
    assert request and job, sorted({(s[0], s[1]) for s in spans})
    trace_id = job[0][2]
    assert trace_id in {s[2] for s in request}  # one trace: API request -> worker job
    names = {(s[0], s[1]) for s in spans if s[2] == trace_id}
    print(f"one trace, {len(names)} span kinds: {sorted(names)}")
    assert any(service == "codesign-worker" and "run/" in n for service, n in names)
