"""The Celery app, built from the settings (``REDIS_URL`` is broker and result backend).

Tasks are acknowledged late and rejected when their worker dies, so a job a worker was
running is delivered again; :func:`~codesign_playground.service.jobs.runner.execute` makes the
second delivery harmless. Transient failures are retried with exponential backoff; each job
has a time limit (``JOB_TIME_LIMIT_SECONDS``, enforced cooperatively, with Celery's soft and
hard limits behind it).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from datetime import timedelta
from typing import Any

import redis
from celery import Celery, Task  # type: ignore[import-untyped]
from celery.exceptions import (  # type: ignore[import-untyped]
    MaxRetriesExceededError,
    SoftTimeLimitExceeded,
)
from sqlalchemy import select

from codesign_playground.config import Settings
from codesign_playground.service.core.db import Database
from codesign_playground.service.jobs.chunked import route_for, run_chunk, stale_chunks
from codesign_playground.service.jobs.inprocess import backoff_s
from codesign_playground.service.jobs.runner import (
    TRANSIENT_ERRORS,
    TransientJobError,
    execute,
    stale_after_s,
)
from codesign_playground.service.retention import (
    PRUNE_EVERY_S,
    prune_artifacts,
    sweep_work_folders,
)
from codesign_playground.service.tables import JobRow, utcnow

__all__ = [
    "CHUNK_TASK_NAME",
    "TASK_NAME",
    "WorkerHeartbeat",
    "count_workers",
    "make_celery",
    "reconcile",
    "worker_key",
]

TASK_NAME = "codesign.run_job"
CHUNK_TASK_NAME = "codesign.run_chunk"
_log = logging.getLogger("codesign_playground.jobs")
_DATABASES: dict[int, Database] = {}


def _database(settings: Settings) -> Database:
    """One engine per process (Celery's prefork children must not share a parent's pool)."""
    pid = os.getpid()
    if pid not in _DATABASES:
        _DATABASES[pid] = Database(settings)
    return _DATABASES[pid]


def make_celery(settings: Settings) -> Celery:
    """A Celery app for ``settings`` with the ``codesign.run_job`` task registered."""
    app = Celery("codesign_playground", broker=settings.redis_url, backend=settings.redis_url)
    limit = settings.job_time_limit_seconds
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=settings.job_queue,
        task_soft_time_limit=limit + 30,
        task_time_limit=limit + 60,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_expires=timedelta(days=1),
        broker_connection_retry_on_startup=True,
        # a worker listening to both queues takes interactive work first
        broker_transport_options={
            "visibility_timeout": limit + 300,
            "queue_order_strategy": "priority",
        },
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        worker_send_task_events=False,
    )

    @app.task(name=TASK_NAME, bind=True, max_retries=settings.job_max_retries + 1)  # type: ignore[untyped-decorator]
    def run_job(self: Task, job_id: str) -> str:
        """Run one job; a thin call into the runner."""
        db = _database(settings)

        def dispatch(job: str, chunks: list[int]) -> None:
            for idx in chunks:
                send_chunk(app, settings, job, idx)

        try:
            return execute(
                db, settings, job_id, worker=str(self.request.hostname), dispatch=dispatch
            )
        except TransientJobError as exc:
            try:
                raise self.retry(exc=exc, countdown=backoff_s(self.request.retries + 1))
            except MaxRetriesExceededError:
                _fail(db, job_id, str(exc))
                return "failed"
        except SoftTimeLimitExceeded:
            _fail(db, job_id, f"time limit of {limit} s exceeded")
            return "failed"

    @app.task(name=CHUNK_TASK_NAME, bind=True, max_retries=settings.job_max_retries + 1)  # type: ignore[untyped-decorator]
    def run_chunk_task(self: Task, job_id: str, idx: int) -> str:
        """Evaluate one chunk of an exploration (see ``jobs.chunked``)."""
        db = _database(settings)
        try:
            return run_chunk(db, settings, job_id, int(idx), worker=str(self.request.hostname))
        except TRANSIENT_ERRORS as exc:
            try:
                raise self.retry(exc=exc, countdown=backoff_s(self.request.retries + 1))
            except MaxRetriesExceededError:
                return "failed"  # the chunk stays claimable: the planner takes it
        except Exception:
            # the chunk was given back; the job's planner evaluates it and reports the error
            _log.warning("chunk failed", extra={"job_id": job_id, "chunk": idx}, exc_info=True)
            return "failed"

    return app


def send_chunk(app: Celery, settings: Settings, job_id: str, idx: int) -> None:
    """Queue chunk ``idx`` of job ``job_id`` on the explore queue."""
    app.send_task(
        CHUNK_TASK_NAME,
        args=[job_id, idx],
        queue=settings.explore_queue,
        exchange="",
        routing_key=settings.explore_queue,
    )


def _fail(db: Database, job_id: str, error: str) -> None:
    with db.session() as s:
        job = s.get(JobRow, job_id)
        if job is not None and job.status not in ("succeeded", "failed", "cancelled"):
            job.status, job.error, job.finished_at = "failed", error, utcnow()


def worker_key(settings: Settings, name: str = "*") -> str:
    return f"{settings.redis_key_prefix}:workers:{settings.job_queue}:{name}"


def count_workers(client: redis.Redis, settings: Settings) -> int:
    """Workers whose heartbeat key has not expired."""
    return sum(1 for _ in client.scan_iter(match=worker_key(settings), count=100))


def reconcile(app: Celery, db: Database, settings: Settings, *, queued_older_than_s: float) -> int:
    """Re-send jobs whose message may be lost: stale running ones and long-queued ones."""
    now = utcnow()
    stale = now - timedelta(seconds=stale_after_s(settings))
    old = now - timedelta(seconds=queued_older_than_s)
    with db.session() as s:
        rows = s.execute(
            select(JobRow.id, JobRow.kind, JobRow.params).where(
                ((JobRow.status == "running") & (JobRow.heartbeat_at < stale))
                | ((JobRow.status == "queued") & (JobRow.created_at < old))
            )
        ).all()
    for job_id, kind, params in rows:
        queue = route_for(settings, kind, params)
        app.send_task(TASK_NAME, args=[job_id], queue=queue, exchange="", routing_key=queue)
    # chunks whose worker went silent: any live worker may take them over
    chunks = stale_chunks(db, settings)
    for job_id, idx in chunks:
        send_chunk(app, settings, job_id, idx)
    if rows or chunks:
        _log.info("re-sent jobs", extra={"count": len(rows), "chunks": len(chunks)})
    return len(rows)


class WorkerHeartbeat:
    """A thread in the worker's main process: refreshes its Redis key and reconciles."""

    def __init__(self, app: Celery, settings: Settings, name: str) -> None:
        self.app = app
        self.settings = settings
        self.key = worker_key(settings, name)
        self.client = redis.Redis.from_url(settings.redis_url)
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name="codesign-heartbeat", daemon=True)
        self.pruner: threading.Thread | None = None

    def start(self) -> None:
        self._beat()
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        with contextlib.suppress(redis.RedisError):
            self.client.delete(self.key)

    def _beat(self) -> None:
        ttl = max(2, int(3 * self.settings.worker_heartbeat_seconds))
        self.client.set(self.key, str(os.getpid()), ex=ttl)

    def _run(self) -> None:
        every = self.settings.worker_heartbeat_seconds
        beats = 0
        db = _database(self.settings)
        while not self.stop_event.wait(every):
            try:
                self._beat()
                # as often as a job can go stale: a killed worker's job is re-sent promptly
                if beats % max(1, int(stale_after_s(self.settings) / every)) == 0:
                    reconcile(self.app, db, self.settings, queued_older_than_s=120)
                    # this machine's work folders of deleted and finished jobs
                    sweep_work_folders(db, self.settings)
                beats += 1
                self._maybe_prune(db)
            except Exception:
                _log.warning("worker heartbeat failed", exc_info=True)

    def _maybe_prune(self, db: Database) -> None:
        """With ``CODESIGN_ARTIFACT_RETENTION_DAYS``, prune job files once per
        :data:`~codesign_playground.service.retention.PRUNE_EVERY_S` across all workers (the
        one that sets the Redis key first), in a thread of its own: a long pass never holds
        up this heartbeat."""
        days = self.settings.codesign_artifact_retention_days
        if days <= 0 or (self.pruner is not None and self.pruner.is_alive()):
            return
        key = f"{self.settings.redis_key_prefix}:retention:{self.settings.job_queue}"
        if not self.client.set(key, self.key, nx=True, ex=PRUNE_EVERY_S):
            return

        def run() -> None:
            try:
                prune_artifacts(db, self.settings, older_than_days=days)
            except Exception:
                _log.warning("pruning job files failed", exc_info=True)

        self.pruner = threading.Thread(target=run, name="codesign-retention", daemon=True)
        self.pruner.start()


def submit(app: Celery, settings: Settings, job_id: str, queue: str | None = None) -> Any:
    """Queue job ``job_id`` on ``queue`` (default: the interactive ``JOB_QUEUE``); the task
    id is the job id, so a cancel can revoke it."""
    queue = queue or settings.job_queue
    # a short retry policy: a client waits seconds, not the default ~20 s, when Redis is down;
    # the anonymous exchange puts the message straight on the queue's list, so it does not
    # depend on exchange bindings that a restarted Redis without persistence has lost
    return app.send_task(
        TASK_NAME,
        args=[job_id],
        queue=queue,
        exchange="",
        routing_key=queue,
        task_id=job_id,
        retry_policy={
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.5,
            "interval_max": 1,
        },
    )
