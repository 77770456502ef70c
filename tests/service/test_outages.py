"""Faults against real servers: PostgreSQL and Redis stopped, workers and the embedded server
SIGKILLed. The database and Redis are servers of this test's own (see ``outage.py``), so
stopping them cannot disturb other tests; each outage is short and undone in a ``finally``.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from codesign_playground.explore import run_exploration, space_from_dict

from .conftest import PY, REPO, Deployment
from .outage import PrivatePostgres, PrivateRedis, have_servers

pytestmark = pytest.mark.skipif(have_servers() is not None, reason=str(have_servers()))

FAST_TAKEOVER = {
    "WORKER_HEARTBEAT_SECONDS": "0.5",
    "JOB_STALE_AFTER_SECONDS": "3",
    "WORKER_CONCURRENCY": "2",
}


def space(name: str, batch: int = 8) -> dict[str, Any]:
    return {
        "name": name,
        "model": {"name": "resnet18"},
        "hardware": {
            "rows": {"min": 4, "max": 128, "factor": 2},
            "cols": {"min": 4, "max": 128, "factor": 2},
            "ifmap_sram_kb": [32, 64, 128, 256],
            "dataflow": ["ws", "os"],
        },
        "objectives": ["latency", "energy", "area"],
        "search": {"batch_size": batch},
    }


class Cluster(Deployment):
    """API and a Celery worker on private PostgreSQL and Redis servers."""

    def __init__(self, root: Path) -> None:
        super().__init__("embedded", root)  # the base environment, without shared servers
        self.mode = "distributed"
        self.pg = PrivatePostgres(root)
        self.pg.start()
        self.redis = PrivateRedis(root)
        self.redis.start()
        self.env |= FAST_TAKEOVER | {
            "DATABASE_URL": self.pg.url,
            "REDIS_URL": self.redis.url,
            "DATABASE_POOL_SIZE": "5",
            "DATABASE_POOL_TIMEOUT": "3",
        }
        subprocess.run(
            [PY, str(REPO / "scripts" / "init_db.py")],
            env=self.env,
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start_worker(self) -> None:
        log = self.worker_log.open("ab")
        self.worker = subprocess.Popen(
            [PY, "-m", "codesign_playground.worker"],
            env=self.env,
            stdout=log,
            stderr=log,
            cwd=self.root,
            start_new_session=True,  # the pool's children die with it on SIGKILL
        )

    def kill_worker(self) -> None:
        assert self.worker is not None
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait(10)
        self.worker = None

    def close(self) -> None:
        try:
            if self.worker is not None:
                self.kill_worker()
            self.stop_api()
        finally:
            self.pg.remove()
            self.redis.stop()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("outages"))
    try:
        c.start_worker()
        c.start_api()
        c.wait_ready(60)
        c.make_keys()
        yield c
    finally:
        c.close()


def _job_count(c: httpx.Client) -> int:
    return len(c.get("/api/v1/jobs", params={"limit": 500}).json()["items"])


def _assert_503(r: httpx.Response, field: str) -> None:
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert int(r.headers["retry-after"]) > 0
    assert r.json()["detail"].startswith(field)


def test_postgres_down_is_503_with_retry_after(cluster: Cluster) -> None:
    # before: 500 on database routes, and a dropped connection on the next request
    with cluster.client() as c:
        before = _job_count(c)
        with cluster.pg.down():
            _assert_503(c.get("/api/v1/models"), "database")
            _assert_503(c.get("/api/v1/jobs"), "database")
            _assert_503(c.post("/api/v1/explorations", json={"space": space("pg")}), "database")
            _assert_503(c.post("/api/v1/rtl", json={"rows": 4, "cols": 4}), "database")
            assert c.get("/health/ready").status_code == 503
            assert c.get("/health").status_code == 200  # same connection: not dropped
        cluster.wait_ready(30)
        assert _job_count(c) == before  # a 5xx stored nothing


def test_redis_down_submit_is_503_and_stores_nothing(cluster: Cluster) -> None:
    # before: 500 after ~19 s, and the job stored anyway (it ran later; a retry duplicated it)
    with cluster.client() as c:
        before = _job_count(c)
        with cluster.redis.down():
            _assert_503(c.post("/api/v1/explorations", json={"space": space("r")}), "queue")
            _assert_503(c.post("/api/v1/rtl", json={"rows": 4, "cols": 4}), "queue")
            assert c.get("/api/v1/models").status_code == 200  # no Redis needed
        assert _job_count(c) == before
        cluster.wait_ready(60)
        r = c.post("/api/v1/rtl", json={"rows": 4, "cols": 4})
        assert r.status_code == 202
    assert cluster.wait_job(r.json()["id"], 120)["status"] == "succeeded"


def test_outbox_relay_delivers_a_stored_job_once_redis_is_back(cluster: Cluster) -> None:
    """A send that fails after the job was stored is retried until it goes through."""
    from codesign_playground.config import Settings
    from codesign_playground.service.jobs.queue import CeleryQueue

    settings = Settings(
        codesign_env="test",
        secret_key="test-outbox",
        redis_url=cluster.redis.url,
        job_queue="outbox-test",
        redis_key_prefix="outbox-test",
    )
    client = redis.Redis.from_url(cluster.redis.url)
    queue = CeleryQueue(settings, client)
    try:
        with cluster.redis.down():
            queue.submit("job-sent-later")  # fails now; kept by the relay
            assert list(queue._pending) == ["job-sent-later"]
        deadline = time.monotonic() + 30
        while queue._pending and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not queue._pending
        assert client.llen("outbox-test") == 1  # one message, in the job queue
    finally:
        queue.close()
        client.close()


def _reference(doc: dict[str, Any], strategy: str, budget: int, seed: int) -> list[list[Any]]:
    r = run_exploration(
        space_from_dict(doc),
        strategy=strategy,
        budget=None if strategy == "grid" else budget,
        seed=seed,
    )
    cols = [c for c in ("trial", *r.knob_names) if c in r.points]
    rows: list[list[Any]] = r.points[cols].to_numpy().tolist()
    return rows


def _points(result: dict[str, Any], knobs: list[str]) -> list[list[Any]]:
    cols = [c for c in ("trial", *knobs) if c in result["points"][0]]
    return [[p[c] for c in cols] for p in result["points"]]


def test_ten_jobs_with_the_worker_killed_at_random_points(cluster: Cluster) -> None:
    rng = random.Random(13)
    plans = [(["tpe", "nsga2", "random", "grid"][i % 4], 64 + 8 * i, i) for i in range(10)]
    with cluster.client() as c:
        ids = []
        for i, (strategy, budget, seed) in enumerate(plans):
            body = {"space": space(f"kill{i}"), "strategy": strategy, "seed": seed}
            if strategy != "grid":
                body["budget"] = budget
            r = c.post("/api/v1/explorations", json=body)
            assert r.status_code == 202, r.text
            ids.append(r.json()["id"])
        kills = 0
        while kills < 10:
            # wait for the (restarted) worker to be up, then kill it at a random moment
            cluster.wait_ready(60)
            time.sleep(rng.uniform(0.5, 4.0))
            statuses = [c.get(f"/api/v1/jobs/{j}").json()["status"] for j in ids]
            if all(s in ("succeeded", "failed", "cancelled") for s in statuses):
                break
            cluster.kill_worker()
            kills += 1
            cluster.start_worker()
    jobs = [cluster.wait_job(j, timeout=300) for j in ids]
    print(f"worker SIGKILLs: {kills}; jobs: {[j['status'] for j in jobs]}")
    assert kills >= 3
    assert [j["status"] for j in jobs] == ["succeeded"] * 10, [j["error"] for j in jobs]
    resumed = sum(j["attempts"] > 1 for j in jobs)
    print(f"jobs resumed after a kill: {resumed}/10; attempts {[j['attempts'] for j in jobs]}")
    assert resumed >= 2
    with cluster.client() as c:
        for (strategy, budget, seed), job in zip(plans, jobs, strict=True):
            result = c.get(f"/api/v1/explorations/{job['id']}/results").json()
            doc = space(job["params"]["space"]["name"])
            expected = _reference(doc, strategy, budget, seed)
            got = _points(result, result["knobs"])
            assert result["points_total"] == len(expected)  # every point once
            if strategy != "grid":
                assert len({row[0] for row in got}) == len(got)
            assert got == expected, f"{strategy} seed {seed}: resumed points differ"


def test_embedded_server_sigkill_loses_nothing(tmp_path: Path) -> None:
    # before: a SIGKILL lost the trial in flight (1,999 of 2,000 points) and left a stale
    # optuna lock for about 30 s
    dep = Deployment("embedded", tmp_path)
    dep.env |= FAST_TAKEOVER
    rng = random.Random(7)
    plans = [("tpe", 96, 1), ("nsga2", 96, 2), ("random", 96, 3)]
    try:
        dep.start_api()
        dep.wait_ready()
        dep.make_keys()
        with dep.client() as c:
            ids = []
            for i, (strategy, budget, seed) in enumerate(plans):
                body = {"space": space(f"e{i}"), "strategy": strategy, "budget": budget}
                r = c.post("/api/v1/explorations", json=body | {"seed": seed})
                assert r.status_code == 202, r.text
                ids.append(r.json()["id"])
        kills = 0
        for _ in range(4):
            time.sleep(rng.uniform(1.0, 4.0))
            assert dep.api is not None
            dep.api.send_signal(signal.SIGKILL)
            dep.api.wait(10)
            kills += 1
            dep.start_api()
        jobs = [dep.wait_job(j, timeout=300) for j in ids]
        print(f"embedded SIGKILLs: {kills}; attempts {[j['attempts'] for j in jobs]}")
        assert [j["status"] for j in jobs] == ["succeeded"] * 3, [j["error"] for j in jobs]
        with dep.client() as c:
            for (strategy, budget, seed), job in zip(plans, jobs, strict=True):
                result = c.get(f"/api/v1/explorations/{job['id']}/results").json()
                expected = _reference(space(job["params"]["space"]["name"]), strategy, budget, seed)
                assert result["points_total"] == budget
                assert _points(result, result["knobs"]) == expected
    finally:
        dep.close()
