"""The embedded mode's worker: threads in the API process polling the same job table.

Jobs are rows, not in-memory messages, so a job queued (or interrupted) when the process
stops is picked up again when it starts. Threads claim jobs with the same atomic update the
Celery tasks use; a transient failure is retried after an exponential backoff.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import timedelta

from sqlalchemy import select

from codesign_playground.config import Settings
from codesign_playground.service.core.db import Database
from codesign_playground.service.jobs.runner import TransientJobError, execute, stale_after_s
from codesign_playground.service.tables import JobRow, utcnow

__all__ = ["InProcessWorker", "backoff_s"]

_log = logging.getLogger("codesign_playground.jobs")


def backoff_s(attempt: int) -> float:
    """Exponential backoff: 1, 2, 4 ... seconds, at most 60."""
    return float(min(60, 2 ** max(attempt - 1, 0)))


class InProcessWorker:
    """``WORKER_CONCURRENCY`` threads that run queued jobs from the database."""

    def __init__(self, db: Database, settings: Settings, *, poll_s: float = 1.0) -> None:
        self.db = db
        self.settings = settings
        self.poll_s = poll_s
        self.name = f"embedded@{socket.gethostname()}-{os.getpid()}"
        self.stop_event = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._not_before: dict[str, float] = {}
        self._retries: dict[str, int] = {}
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for i in range(self.settings.worker_concurrency):
            t = threading.Thread(target=self._loop, name=f"codesign-job-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def submit(self, job_id: str) -> None:
        self._wake.set()

    def alive(self) -> int:
        return sum(t.is_alive() for t in self._threads)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Ask running jobs to stop (they go back to ``queued``) and join the threads."""
        self.stop_event.set()
        self._wake.set()
        deadline = time.monotonic() + timeout_s
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))

    def _candidates(self) -> list[str]:
        stale = utcnow() - timedelta(seconds=stale_after_s(self.settings))
        with self.db.session() as s:
            rows = s.scalars(
                select(JobRow.id)
                .where(
                    (JobRow.status == "queued")
                    | ((JobRow.status == "running") & (JobRow.heartbeat_at < stale))
                )
                .order_by(JobRow.created_at)
                .limit(20)
            ).all()
        now = time.monotonic()
        with self._lock:
            return [r for r in rows if self._not_before.get(r, 0.0) <= now]

    def _loop(self) -> None:
        while not self.stop_event.is_set():
            try:
                ran = self._run_one()
            except Exception:
                _log.exception("in-process worker loop error")
                ran = False
            if not ran:
                self._wake.wait(self.poll_s)
                self._wake.clear()

    def _run_one(self) -> bool:
        for job_id in self._candidates():
            if self.stop_event.is_set():
                return False
            try:
                status = execute(
                    self.db, self.settings, job_id, worker=self.name, stop_event=self.stop_event
                )
            except TransientJobError:
                with self._lock:
                    n = self._retries.get(job_id, 0) + 1
                    self._retries[job_id] = n
                    self._not_before[job_id] = time.monotonic() + backoff_s(n)
                continue
            if status in ("succeeded", "failed", "cancelled"):
                with self._lock:
                    self._not_before.pop(job_id, None)
                    self._retries.pop(job_id, None)
                return True
        return False
