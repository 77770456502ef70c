"""One exploration spread over several Celery worker processes, one of them SIGKILLed mid-run.

Real PostgreSQL (a fresh database) and Redis (a DB number, key prefix and queues of this test);
the space is evaluation-bound (the loop-nest mapper searches mappings for every array
geometry, tenths of a second a point), so chunks take real time and the kill lands while the
third worker holds one. The front must equal the single-process front for the same seed, and
every point must be counted once: the test prints the counts.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from tests.service.conftest import PY, REDIS_HOST, REPO, create_pg_database, drop_pg_database

pytestmark = pytest.mark.slow

# random search, batches of 4 points = 10 chunks; every point a mapper search (resnet18)
SPACE: dict[str, Any] = {
    "name": "scaleout-mapper",
    "model": {"name": "resnet18", "bits": 8},
    "hardware": {
        "template": "spatial",
        "rows": {"min": 8, "max": 23, "num": 16},
        "cols": {"min": 8, "max": 15, "num": 8},
        "glb_kb": [64, 128],
        "precision": "int8",
    },
    "objectives": ["latency", "energy", "area"],
    "search": {"strategy": "random", "budget": 40, "batch_size": 4, "seed": 11},
}


class Cluster:
    """A database, Redis namespace and worker processes started in their own sessions."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.database = create_pg_database()
        tag = uuid.uuid4().hex[:8]
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
            "CODESIGN_ENV": "test",
            "CODESIGN_LOG_LEVEL": "INFO",
            "CODESIGN_DATA_DIR": str(root / "data"),
            "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{self.database}",
            "DATABASE_POOL_SIZE": "4",
            "REDIS_URL": f"redis://{REDIS_HOST}/{1 + (os.getpid() + int(tag, 16)) % 15}",
            "REDIS_KEY_PREFIX": f"codesign-scaleout-{tag}",
            "JOB_QUEUE": f"codesign-scaleout-{tag}",
            "WORKER_CONCURRENCY": "1",
            "WORKER_HEARTBEAT_SECONDS": "1",
            "JOB_STALE_AFTER_SECONDS": "4",
            "JOB_TIME_LIMIT_SECONDS": "1200",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(REPO / "src"),
        }
        subprocess.run(
            [PY, str(REPO / "scripts" / "init_db.py")],
            env=self.env,
            check=True,
            capture_output=True,
            timeout=120,
        )
        self.workers: list[subprocess.Popen[bytes]] = []
        self.settings = self._settings()

    def _settings(self) -> Any:
        from codesign_playground.config import Settings

        keys = {k: v for k, v in self.env.items() if k.isupper()}
        saved = dict(os.environ)
        try:
            os.environ.update(keys)
            return Settings(_env_file=None)
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def start_worker(self, name: str) -> subprocess.Popen[bytes]:
        log = (self.root / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            [PY, "-m", "codesign_playground.worker"],
            env=self.env,
            stdout=log,
            stderr=log,
            cwd=self.root,
            start_new_session=True,  # a SIGKILL to its group takes its pool children too
        )
        self.workers.append(proc)
        return proc

    def close(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.workers:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        import redis

        client = redis.Redis.from_url(self.settings.redis_url)
        for key in client.scan_iter(match=f"{self.settings.job_queue}*"):
            client.delete(key)
        for key in client.scan_iter(match=f"{self.settings.redis_key_prefix}:*"):
            client.delete(key)
        drop_pg_database(self.database)


@pytest.fixture
def cluster(services_up: None, tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path)
    try:
        yield c
    finally:
        c.close()


def _wait(what: str, check: Any, timeout: float, logs: Path) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    tails = "\n".join(
        f"--- {p.name}\n" + p.read_text(errors="replace")[-3000:] for p in logs.glob("*.log")
    )
    raise AssertionError(f"{what}: not within {timeout} s\n{tails}")


def test_exploration_over_three_workers_one_killed(cluster: Cluster) -> None:
    import redis
    from sqlalchemy import select

    from codesign_playground.explore import run_exploration, space_from_dict
    from codesign_playground.service import crud
    from codesign_playground.service.core.db import Database
    from codesign_playground.service.jobs.celery_app import count_workers, make_celery, submit
    from codesign_playground.service.jobs.chunked import route_for
    from codesign_playground.service.schemas import JobPublic
    from codesign_playground.service.tables import ChunkRow, ExploreRunRow, JobRow

    settings = cluster.settings
    db = Database(settings)
    client = redis.Redis.from_url(settings.redis_url)
    a, b = cluster.start_worker("worker-a"), cluster.start_worker("worker-b")
    victim = cluster.start_worker("worker-c")
    _wait("three workers up", lambda: count_workers(client, settings) >= 3, 180, cluster.root)
    victim_name = f"codesign-{victim.pid}@"

    with db.session() as s:
        job = crud.create_job(s, owner="alice", kind="exploration", params={"space": SPACE})
        job_id = job.id
    queue = route_for(settings, "exploration", {"space": SPACE})
    assert queue == settings.job_queue  # 40 points: a small job, the interactive queue
    app = make_celery(settings)
    submit(app, settings, job_id, queue)

    def victim_chunk() -> tuple[int, str] | None:
        with db.session() as s:
            row = s.execute(
                select(ChunkRow.idx, ChunkRow.worker).where(
                    ChunkRow.job_id == job_id,
                    ChunkRow.status == "running",
                    ChunkRow.worker.startswith(victim_name),
                )
            ).first()
        return None if row is None else (int(row[0]), str(row[1]))

    killed_idx, _ = _wait("the third worker claims a chunk", victim_chunk, 300, cluster.root)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(10)
    print(f"\nkilled worker {victim_name}... (pid {victim.pid}) while it held chunk {killed_idx}")

    # while it runs, the job's progress carries chunk counts and the running front
    seen_running_front: list[int] = []

    def finished() -> bool:
        with db.session() as s:
            row = s.get(JobRow, job_id)
            assert row is not None
            if row.status == "running" and row.progress.get("front"):
                public = JobPublic.model_validate(row)
                assert public.progress.chunks is not None
                seen_running_front.append(len(public.progress.front or []))
            return row.status in ("succeeded", "failed", "cancelled")

    _wait("the job finishes", finished, 900, cluster.root)
    assert a.poll() is None and b.poll() is None, "a surviving worker died"
    with db.session() as s:
        row = s.get(JobRow, job_id)
        assert row is not None
        status, error, result = row.status, row.error, row.result
        evaluated = row.points_evaluated
        chunks = s.execute(
            select(
                ChunkRow.idx, ChunkRow.status, ChunkRow.attempts, ChunkRow.points, ChunkRow.worker
            )
            .where(ChunkRow.job_id == job_id)
            .order_by(ChunkRow.idx)
        ).all()
    assert status == "succeeded", error
    assert result is not None

    print("chunk  status  attempts  points  worker")
    for idx, st, attempts, points, worker in chunks:
        print(f"{idx:5d}  {st:6s}  {attempts:8d}  {points:6d}  {worker}")
    total_points = sum(int(c.points) for c in chunks)
    trials = [p["trial"] for p in result["points"]]
    print(
        f"points: planned 40, stored in chunks {total_points}, job points_evaluated {evaluated}, "
        f"result points {len(trials)}, distinct trials {len(set(trials))}; chunk attempts "
        f"{sum(int(c.attempts) for c in chunks)} for {len(chunks)} chunks; running front seen "
        f"{len(seen_running_front)} times"
    )
    with db.session() as s:
        run = s.get(ExploreRunRow, job_id)
        assert run is not None
        totals = (run.chunks_done, run.points_done)
    print(f"running totals (explore_runs): {totals[0]} chunks, {totals[1]} points")
    assert [c.status for c in chunks] == ["done"] * 10
    assert total_points == evaluated == len(trials) == len(set(trials)) == 40
    assert totals == (10, 40)
    assert sorted(trials) == list(range(40))
    killed = chunks[killed_idx]
    assert killed.attempts >= 2 and not str(killed.worker).startswith(victim_name), (
        f"chunk {killed_idx} was not redelivered: {killed}"
    )
    assert {str(c.worker).split("@")[0] for c in chunks} - {victim_name.rstrip("@")}

    # the single-process front for the same seed
    reference = run_exploration(space_from_dict(SPACE))
    cols = [*reference.knob_names, "latency_s", "energy_j", "area_mm2"]
    got = pd.DataFrame(result["front"])[cols].reset_index(drop=True)
    want = reference.front[cols].reset_index(drop=True)
    print(f"front: {len(got)} points distributed, {len(want)} points single-process")
    pd.testing.assert_frame_equal(got, want, check_dtype=False, rtol=1e-12)
    assert result["hypervolume"] == pytest.approx(reference.hypervolume, rel=1e-12)


GRID_SPACE: dict[str, Any] = {
    **SPACE,
    "name": "scaleout-mapper-grid",
    "hardware": {**SPACE["hardware"], "rows": {"min": 8, "max": 12, "num": 5}},
    "search": {"strategy": "grid", "seed": 0},
}  # 5 x 8 x 2 = 80 geometries


def test_job_resumes_after_the_whole_pool_is_killed(cluster: Cluster) -> None:
    import redis
    from sqlalchemy import select

    from codesign_playground.explore import run_exploration, space_from_dict
    from codesign_playground.service import crud
    from codesign_playground.service.core.db import Database
    from codesign_playground.service.jobs.celery_app import count_workers, make_celery, submit
    from codesign_playground.service.jobs.chunked import chunk_counts
    from codesign_playground.service.tables import ChunkRow, JobRow

    cluster.env["CODESIGN_CHUNK_POINTS"] = "8"  # 10 chunks
    settings = cluster.settings
    db = Database(settings)
    client = redis.Redis.from_url(settings.redis_url)
    first = [cluster.start_worker("pool1-a"), cluster.start_worker("pool1-b")]
    _wait("two workers up", lambda: count_workers(client, settings) >= 2, 180, cluster.root)
    with db.session() as s:
        job_id = crud.create_job(
            s, owner="alice", kind="exploration", params={"space": GRID_SPACE}
        ).id
    submit(make_celery(settings), settings, job_id, settings.explore_queue)
    _wait("two chunks stored", lambda: chunk_counts(db, job_id)["done"] >= 2, 600, cluster.root)
    for proc in first:  # the whole pool dies at once
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    before = chunk_counts(db, job_id)
    print(f"\npool killed with chunks {before}")
    assert before["done"] < before["total"], "the pool finished before it was killed"
    _wait("old heartbeats expire", lambda: count_workers(client, settings) == 0, 60, cluster.root)
    cluster.start_worker("pool2-a")
    cluster.start_worker("pool2-b")

    def finished() -> bool:
        with db.session() as s:
            row = s.get(JobRow, job_id)
            return row is not None and row.status in ("succeeded", "failed", "cancelled")

    _wait("the job finishes on the new pool", finished, 900, cluster.root)
    with db.session() as s:
        row = s.get(JobRow, job_id)
        assert row is not None
        status, error, result, evaluated = row.status, row.error, row.result, row.points_evaluated
        chunks = s.execute(
            select(ChunkRow.idx, ChunkRow.status, ChunkRow.attempts, ChunkRow.points)
            .where(ChunkRow.job_id == job_id)
            .order_by(ChunkRow.idx)
        ).all()
    assert status == "succeeded", error
    assert result is not None
    stored = sum(int(c.points) for c in chunks)
    print(
        f"points: stored {stored}, job {evaluated}, result {result['points_total']}; "
        f"attempts {[int(c.attempts) for c in chunks]}"
    )
    assert [c.status for c in chunks] == ["done"] * 10
    assert stored == evaluated == result["points_total"] == 80
    reference = run_exploration(space_from_dict(GRID_SPACE))
    cols = [*reference.knob_names, "latency_s", "energy_j", "area_mm2"]
    pd.testing.assert_frame_equal(
        pd.DataFrame(result["front"])[cols],
        reference.front[cols].reset_index(drop=True),
        check_dtype=False,
        rtol=1e-12,
    )


def test_cancel_stops_every_chunk_embedded(tmp_path: Path) -> None:
    """The embedded worker runs chunked jobs in-process; a cancel leaves no chunk to run, and
    a resume runs the cancelled chunks (each point counted once)."""
    import threading

    from codesign_playground.config import Settings
    from codesign_playground.service import crud
    from codesign_playground.service.core.db import Database, migrate
    from codesign_playground.service.jobs.chunked import chunk_counts
    from codesign_playground.service.jobs.runner import execute
    from codesign_playground.service.tables import JobRow

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=f"sqlite:///{tmp_path / 'c.db'}",
        redis_url="",
        codesign_data_dir=tmp_path,
        codesign_chunk_points=4,
    )
    migrate(settings.database_url)
    db = Database(settings)
    with db.session() as s:
        job_id = crud.create_job(
            s, owner="local", kind="exploration", params={"space": GRID_SPACE}
        ).id
    status: list[str] = []
    t = threading.Thread(target=lambda: status.append(execute(db, settings, job_id, worker="w")))
    t.start()
    deadline = time.monotonic() + 600
    while chunk_counts(db, job_id)["done"] < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    with db.session() as s:
        row = s.get(JobRow, job_id)
        assert row is not None
        row.cancel_requested = True
    t.join(600)
    counts = chunk_counts(db, job_id)
    print(f"\nafter cancel: {counts}")
    assert status == ["cancelled"]
    assert counts["pending"] == counts["running"] == 0
    assert counts["cancelled"] >= 1 and counts["done"] >= 1
    work = tmp_path / "jobs" / job_id  # the report went to the store; the checkpoint stays
    assert sorted(p.name for p in work.iterdir()) == ["run"]
    with db.session() as s:
        row = s.get(JobRow, job_id)
        assert row is not None and row.result is not None
        assert row.result["evaluations"] == counts["points"] < 80
        # resumed as POST /explorations/{id}/resume does: queued again, the cancel cleared
        row.status, row.cancel_requested, row.finished_at = "queued", False, None
    assert execute(db, settings, job_id, worker="w2") == "succeeded"
    assert not work.exists()  # nothing resumes a succeeded job
    counts = chunk_counts(db, job_id)
    print(f"after resume: {counts}")
    assert counts["cancelled"] == counts["pending"] == counts["running"] == 0
    with db.session() as s:
        row = s.get(JobRow, job_id)
        assert row is not None and row.result is not None
        assert row.result["evaluations"] == counts["points"] == 80


def test_claims_respect_the_per_job_and_per_owner_limits(tmp_path: Path) -> None:
    from codesign_playground.config import Settings
    from codesign_playground.service import crud
    from codesign_playground.service.core.db import Database, migrate
    from codesign_playground.service.jobs.chunked import claim_chunk, ensure_chunks

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=f"sqlite:///{tmp_path / 'l.db'}",
        redis_url="",
        codesign_data_dir=tmp_path,
        codesign_job_max_workers=2,
        codesign_owner_max_workers=3,
    )
    migrate(settings.database_url)
    db = Database(settings)
    with db.session() as s:
        jobs = [
            crud.create_job(s, owner="alice", kind="exploration", params={}).id for _ in range(2)
        ]
    for job_id in jobs:
        ensure_chunks(db, job_id, ((0, 4), (4, 8), (8, 12)))

    def claim(job_id: str, who: str) -> tuple[int, int, int] | None:
        return claim_chunk(db, settings, job_id=job_id, owner="alice", worker=who)

    assert claim(jobs[0], "w1") == (0, 0, 4)
    assert claim(jobs[0], "w2") == (1, 4, 8)
    assert claim(jobs[0], "w3") is None  # two chunks of this job under a live lease
    assert claim(jobs[1], "w3") == (0, 0, 4)
    assert claim(jobs[1], "w4") is None  # three chunks of alice's jobs under a live lease
    # the same chunk cannot be claimed twice while its lease is live
    assert claim_chunk(db, settings, job_id=jobs[1], owner="bob", worker="w5", idx=0) is None


def test_routing_and_worker_queues() -> None:
    from codesign_playground.config import Settings
    from codesign_playground.service.jobs.chunked import route_for

    s = Settings(_env_file=None, job_queue="q", codesign_interactive_max_points=100)  # type: ignore[call-arg]
    assert s.explore_queue == "q-explore"
    assert s.worker_queue_names == ["q", "q-explore"]
    assert route_for(s, "rtl", {"rows": 8}) == "q"
    small = {**SPACE, "search": {**SPACE["search"], "budget": 100}}
    assert route_for(s, "exploration", {"space": small}) == "q"
    big = {**SPACE, "search": {**SPACE["search"], "budget": 101}}
    assert route_for(s, "exploration", {"space": big}) == "q-explore"
    only = Settings(_env_file=None, job_queue="q", codesign_worker_queues="explore")  # type: ignore[call-arg]
    assert only.worker_queue_names == ["q-explore"]
    with pytest.raises(ValueError, match="CODESIGN_WORKER_QUEUES: unknown 'fast'"):
        Settings(_env_file=None, codesign_worker_queues="fast")  # type: ignore[call-arg]


def test_nsga2_batches_share_one_study_over_two_workers(cluster: Cluster) -> None:
    """NSGA-II over two workers (CODESIGN_SHARED_STUDIES): batches ask and tell through one
    optuna study in PostgreSQL (schema optuna_studies); every trial is told and counted once."""
    import optuna
    import redis
    from sqlalchemy import select

    from codesign_playground.explore.pareto import nondominated_mask
    from codesign_playground.service import crud
    from codesign_playground.service.core.db import Database
    from codesign_playground.service.jobs.celery_app import count_workers, make_celery, submit
    from codesign_playground.service.jobs.chunked import OPTUNA_SCHEMA, study_name
    from codesign_playground.service.tables import ChunkRow, JobRow

    space = {
        "name": "scaleout-nsga2",
        "model": {"name": "resnet18"},
        "hardware": {"rows": [8, 16, 32, 64, 128], "cols": [8, 16, 32, 64, 128]},
        "objectives": ["latency", "energy"],
        "search": {"strategy": "nsga2", "budget": 48, "batch_size": 8, "seed": 3},
    }
    cluster.env["CODESIGN_SHARED_STUDIES"] = "true"
    settings = cluster.settings
    db = Database(settings)
    client = redis.Redis.from_url(settings.redis_url)
    cluster.start_worker("nsga-a")
    cluster.start_worker("nsga-b")
    _wait("two workers up", lambda: count_workers(client, settings) >= 2, 180, cluster.root)
    with db.session() as s:
        job_id = crud.create_job(s, owner="alice", kind="exploration", params={"space": space}).id
    submit(make_celery(settings), settings, job_id, settings.explore_queue)

    def finished() -> bool:
        with db.session() as s:
            row = s.get(JobRow, job_id)
            return row is not None and row.status in ("succeeded", "failed", "cancelled")

    _wait("the job finishes", finished, 600, cluster.root)
    with db.session() as s:
        row = s.get(JobRow, job_id)
        assert row is not None
        status, error, result = row.status, row.error, row.result
        workers = set(s.scalars(select(ChunkRow.worker).where(ChunkRow.job_id == job_id)).all())
    assert status == "succeeded", error
    assert result is not None
    storage = optuna.storages.RDBStorage(
        settings.database_url,
        engine_kwargs={"connect_args": {"options": f"-c search_path={OPTUNA_SCHEMA}"}},
    )
    study = optuna.load_study(study_name=study_name(job_id), storage=storage)
    TS = optuna.trial.TrialState
    complete = sorted(t.number for t in study.get_trials(states=(TS.COMPLETE,)))
    trials = sorted(int(p["trial"]) for p in result["points"])
    print(
        f"\nnsga2: {len(trials)} points in the result, {len(complete)} complete trials in the "
        f"shared study, chunks evaluated by {len(workers)} worker processes"
    )
    assert trials == complete and len(trials) == result["points_total"] == 48
    front = pd.DataFrame(result["front"])[["latency_s", "energy_j"]].to_numpy(float)
    assert len(front) and nondominated_mask(front).all()
