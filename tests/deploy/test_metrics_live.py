"""The real app and worker expose every metric the dashboards, alerts and the HPA reference.

Referenced names are parsed out of the Grafana panels' PromQL, the Prometheus recording and
alert rules and the HPAs (k8s/, chart values); recording-rule outputs and Prometheus' own
series (``up``) are subtracted. The API runs with ``uvicorn codesign_playground.server:app`` on
a fresh PostgreSQL database and Redis, with a real ``python -m codesign_playground.worker``; a
little traffic, one estimate, one exploration job and one 429 make every labelled family appear.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import httpx
import pytest
from tests.deploy.conftest import REPO, Service

pytestmark = pytest.mark.slow

TINY_SPACE = {
    "name": "tiny",
    "model": {"name": "digits_cnn"},
    "hardware": {"rows": [8, 16], "cols": [8, 16]},
    "objectives": ["latency", "energy"],
}


def _checks():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "deploy_checks", REPO / "scripts" / "deploy_checks" / "checks.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sample_names(exposition: str) -> set[str]:
    names = set()
    for line in exposition.splitlines():
        if line and not line.startswith("#"):
            names.add(line.split("{", 1)[0].split(" ", 1)[0])
    return names


def test_promql_parser_finds_selectors_only() -> None:
    checks = _checks()
    expr = (
        'histogram_quantile(0.95, sum by (le, route) (rate(a_bucket{job="x",le!="1"}[5m])))'
        " / on (job) group_left b_total offset 5m + max(c) > bool 3 and d:recorded"
    )
    assert checks.promql_metrics(expr) == {"a_bucket", "b_total", "c", "d:recorded"}


def test_referenced_metrics_are_found() -> None:
    refs = _checks().metric_refs(REPO)
    assert "codesign_http_requests_total" in refs  # the HPA rule's input
    assert "http_requests_per_second" not in refs  # a recording-rule output
    assert any(n.startswith("codesign_job") for n in refs)
    assert "codesign_exploration_points_per_second" in refs


def test_app_and_worker_expose_every_referenced_metric(database: str, tmp_path: Path) -> None:
    refs: dict[str, list[str]] = _checks().metric_refs(REPO)
    svc = Service(
        tmp_path,
        database,
        redis=True,
        extra={"RATE_LIMIT_PER_MINUTE": "60", "RATE_LIMIT_PER_HOUR": "100000"},
    )
    svc.migrate()
    try:
        svc.start_worker()
        svc.start_api()
        svc.wait_ready()
        with svc.client() as c:
            assert c.get("/health").status_code == 200
            assert c.get("/api/v1/hardware/catalog").status_code == 200
            assert c.get("/api/v1/jobs/does-not-exist").status_code == 404
            body = {
                "model": {"zoo": "resnet18"},
                "hardware": {"chip": "a100"},
                "include_layers": False,
            }
            c.post("/api/v1/estimates", json=body)
            c.post("/api/v1/estimates", json=body)
            job = c.post("/api/v1/explorations", json={"space": TINY_SPACE})
            assert job.status_code == 202, job.text
            job_id = job.json()["id"]
            deadline = time.monotonic() + 120
            status = ""
            while time.monotonic() < deadline:
                status = c.get(f"/api/v1/jobs/{job_id}").json()["status"]
                if status in ("succeeded", "failed", "cancelled"):
                    break
                time.sleep(1)
            # a finished job (whatever its outcome) fills the job-duration histogram
            assert status in ("succeeded", "failed"), f"job {job_id} did not finish: {status}"
            # exceed RATE_LIMIT_PER_MINUTE once, so codesign_rate_limited_total has a sample
            for _ in range(200):
                if c.get("/api/v1/hardware/catalog").status_code == 429:
                    break
            else:
                pytest.fail("no 429 after 200 requests")
            page = c.get("/metrics")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/plain")
        exposed = sample_names(page.text)
        missing = {n: w for n, w in refs.items() if n not in exposed}
        assert not missing, "referenced but not on /metrics:\n" + "\n".join(
            f"  {n}: {', '.join(w[:3])}" for n, w in sorted(missing.items())
        )
        # the HPA's input has the labels the recording rule sums over
        lines = page.text.splitlines()
        assert any(line.startswith("codesign_http_requests_total{") for line in lines)
    finally:
        svc.stop()


def test_metrics_page_needs_no_auth_and_health_answers(database: str, tmp_path: Path) -> None:
    """What the probes and the scrape rely on: /health, /health/ready and /metrics answer on a
    migrated database (embedded job runner: no Redis)."""
    svc = Service(tmp_path, database, redis=False, extra={})
    svc.migrate()
    try:
        svc.start_api()
        svc.wait_ready()
        for path in ("/health", "/health/ready", "/metrics"):
            assert httpx.get(f"{svc.base_url}{path}", timeout=10).status_code == 200, path
    finally:
        svc.stop()
