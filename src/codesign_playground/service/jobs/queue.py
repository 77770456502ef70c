"""The narrow interface the API uses to hand jobs to workers, and its two implementations."""

from __future__ import annotations

import logging
from typing import Protocol

import redis

from codesign_playground.config import Settings
from codesign_playground.service.core.db import Database
from codesign_playground.service.jobs.inprocess import InProcessWorker

__all__ = ["CeleryQueue", "EmbeddedQueue", "JobQueue"]

_log = logging.getLogger("codesign_playground.jobs")


class JobQueue(Protocol):
    def submit(self, job_id: str) -> None: ...

    def cancel(self, job_id: str) -> None: ...

    def workers_alive(self) -> int: ...

    def close(self) -> None: ...


class EmbeddedQueue:
    """Jobs run by :class:`InProcessWorker` threads in this process."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.worker = InProcessWorker(db, settings)
        self.worker.start()

    def submit(self, job_id: str) -> None:
        self.worker.submit(job_id)

    def cancel(self, job_id: str) -> None:
        """Nothing to do: the running job polls its cancel flag."""

    def workers_alive(self) -> int:
        return 1 if self.worker.alive() else 0

    def close(self) -> None:
        self.worker.stop()


class CeleryQueue:
    """Jobs sent to Celery workers through Redis."""

    def __init__(self, settings: Settings, client: redis.Redis) -> None:
        from codesign_playground.service.jobs.celery_app import make_celery

        self.settings = settings
        self.client = client
        self.app = make_celery(settings)

    def submit(self, job_id: str) -> None:
        from codesign_playground.service.jobs.celery_app import submit

        submit(self.app, self.settings, job_id)

    def cancel(self, job_id: str) -> None:
        try:
            self.app.control.revoke(job_id)
        except Exception:
            _log.warning("revoke failed", extra={"job_id": job_id})

    def workers_alive(self) -> int:
        from codesign_playground.service.jobs.celery_app import count_workers

        try:
            return count_workers(self.client, self.settings)
        except redis.RedisError:
            return 0

    def close(self) -> None:
        self.app.close()
