"""Many explorations at once in embedded mode: every one succeeds (real uvicorn process)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import Deployment


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    dep = Deployment("embedded", tmp_path_factory.mktemp("concurrency"))
    dep.env["WORKER_CONCURRENCY"] = "2"  # the default: two threads render reports at once
    try:
        dep.start_api()
        dep.wait_ready()
        dep.make_keys()
        yield dep
    finally:
        dep.close()


def test_ten_simultaneous_explorations_all_succeed(embedded: Deployment, tmp_path: Path) -> None:
    # before: matplotlib's mathtext parser, shared by the worker threads, failed 70% of them
    space = {
        "name": "concurrent",
        "model": {"name": "resnet18"},
        "hardware": {"rows": [8, 16, 32], "cols": [8, 16]},
        "objectives": ["latency", "energy"],
    }
    with embedded.client() as c:
        ids = []
        for i in range(10):
            r = c.post("/api/v1/explorations", json={"space": space | {"name": f"c{i}"}})
            assert r.status_code == 202, r.text
            ids.append(r.json()["id"])
    jobs = [embedded.wait_job(job_id, timeout=300) for job_id in ids]
    statuses = [j["status"] for j in jobs]
    print(f"simultaneous embedded explorations: {statuses.count('succeeded')}/10 succeeded")
    assert statuses == ["succeeded"] * 10, [j["error"] for j in jobs]
    with embedded.client() as c:
        for job_id in ids:
            assert c.get(f"/api/v1/explorations/{job_id}/report").status_code == 200
