"""Jobs outlive the processes: API restarts, worker stops, and an unmigrated database."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from typing import Any

import httpx
import pytest

from .conftest import PY, REPO, TINY_SPACE, Deployment, create_pg_database, drop_pg_database


def _submit_rtl(c: httpx.Client, n: int) -> list[str]:
    ids = []
    for i in range(n):
        r = c.post("/api/v1/rtl", json={"rows": 4 + i % 4, "cols": 4})
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])
    return ids


def test_stopped_worker_leaves_jobs_queued_and_restart_finishes_them(
    deployment: Deployment, stored_model: dict[str, Any]
) -> None:
    if deployment.mode == "embedded":
        pytest.skip("the embedded worker lives in the API process (see the restart test)")
    deployment.stop_worker()
    with deployment.client() as c:
        ready = c.get("/health/ready")
        assert ready.status_code == 503 and ready.json()["checks"]["workers"] == 0
        rtl = _submit_rtl(c, 1)[0]
        r = c.post(
            "/api/v1/explorations", json={"space": TINY_SPACE, "model_id": stored_model["id"]}
        )
        exploration = r.json()["id"]
        doomed = _submit_rtl(c, 1)[0]
        cancelled = c.post(f"/api/v1/jobs/{doomed}/cancel").json()
        assert cancelled["status"] == "cancelled"
        time.sleep(1.5)
        assert c.get(f"/api/v1/jobs/{rtl}").json()["status"] == "queued"
        assert c.get(f"/api/v1/jobs/{exploration}").json()["status"] == "queued"
        depth = [
            x
            for x in c.get("/metrics").text.splitlines()
            if x.startswith('codesign_job_queue_depth{kind="rtl"}')
        ]
        assert float(depth[0].split()[-1]) >= 1
    # the API restarts too while the jobs wait: they are in the database and the queue
    deployment.stop_api()
    deployment.start_api()
    deployment.start_worker()
    deployment.wait_ready()
    assert deployment.wait_job(rtl)["status"] == "succeeded"
    assert deployment.wait_job(exploration, timeout=120)["status"] == "succeeded"
    assert deployment.wait_job(doomed)["status"] == "cancelled"


def test_jobs_survive_api_restart(deployment: Deployment) -> None:
    with deployment.client() as c:
        ids = _submit_rtl(c, 6)
    deployment.stop_api()  # embedded: the in-process worker stops with it
    if deployment.mode == "embedded":
        db = deployment.root / "data" / "codesign.db"
        with sqlite3.connect(db) as conn:
            statuses = dict(conn.execute("SELECT id, status FROM jobs").fetchall())
        assert all(statuses[i] in ("queued", "succeeded") for i in ids), statuses
    deployment.start_api()
    deployment.wait_ready()
    for job_id in ids:
        assert deployment.wait_job(job_id)["status"] == "succeeded"


def test_unmigrated_database_is_refused(services_up: None, tmp_path: Any) -> None:
    name = create_pg_database()
    try:
        env = {
            "PATH": "/usr/bin:/bin",
            "CODESIGN_ENV": "test",
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{name}",
            "REDIS_URL": "redis://127.0.0.1:6379/15",
            "CODESIGN_DATA_DIR": str(tmp_path),
        }
        api = subprocess.run(
            [PY, "-m", "uvicorn", "codesign_playground.server:app", "--port", "1"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert api.returncode != 0
        assert "run: python scripts/init_db.py" in api.stderr
        worker = subprocess.run(
            [PY, "-m", "codesign_playground.worker"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert worker.returncode == 3
        assert "python scripts/init_db.py" in worker.stderr
        init = subprocess.run(
            [PY, str(REPO / "scripts" / "init_db.py")],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert init.returncode == 0, init.stderr
        again = subprocess.run(
            [PY, str(REPO / "scripts" / "init_db.py")],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert again.returncode == 0, again.stderr
    finally:
        drop_pg_database(name)
