"""The narrow interface the API uses to hand jobs to workers, and its two implementations."""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

import redis

from codesign_playground.config import Settings
from codesign_playground.service.core.db import Database
from codesign_playground.service.jobs.inprocess import InProcessWorker

__all__ = ["CeleryQueue", "EmbeddedQueue", "JobQueue"]

_log = logging.getLogger("codesign_playground.jobs")


class JobQueue(Protocol):
    def available(self) -> bool:
        """Whether a job queued now can reach a worker (checked before a job is stored)."""
        ...

    def submit(
        self, job_id: str, kind: str | None = None, params: dict[str, Any] | None = None
    ) -> None:
        """Hand a stored job to the workers; never loses it (re-sent until delivered).

        ``kind`` and ``params`` choose the queue (interactive or long searches)."""
        ...

    def cancel(self, job_id: str) -> None: ...

    def workers_alive(self) -> int: ...

    def close(self) -> None: ...


class EmbeddedQueue:
    """Jobs run by :class:`InProcessWorker` threads in this process."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.worker = InProcessWorker(db, settings)
        self.worker.start()

    def available(self) -> bool:
        return True  # the job table is the queue: stored means queued

    def submit(
        self, job_id: str, kind: str | None = None, params: dict[str, Any] | None = None
    ) -> None:
        self.worker.submit(job_id)

    def cancel(self, job_id: str) -> None:
        """Nothing to do: the running job polls its cancel flag."""

    def workers_alive(self) -> int:
        return 1 if self.worker.alive() else 0

    def close(self) -> None:
        self.worker.stop()


class CeleryQueue:
    """Jobs sent to Celery workers through Redis.

    The job row is the outbox: the API stores it (status ``queued``) and commits, then sends
    the message. A send that fails (Redis went down in between) is retried by a relay thread
    here until it goes through, and the workers' reconciler re-sends any queued job whose
    message was lost (this process died first); the runner's atomic claim makes a second
    delivery harmless. So a stored job runs exactly once.
    """

    def __init__(self, settings: Settings, client: redis.Redis) -> None:
        from codesign_playground.service.jobs.celery_app import make_celery

        self.settings = settings
        self.client = client
        self.probe = redis.Redis.from_url(
            settings.redis_url, socket_timeout=1, socket_connect_timeout=1
        )
        self.app = make_celery(settings)
        self._pending: dict[str, str] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._relay: threading.Thread | None = None

    def available(self) -> bool:
        try:
            return bool(self.probe.ping())
        except redis.RedisError:
            return False

    def _send(self, job_id: str, queue: str) -> None:
        from codesign_playground.service.jobs.celery_app import submit

        submit(self.app, self.settings, job_id, queue)

    def submit(
        self, job_id: str, kind: str | None = None, params: dict[str, Any] | None = None
    ) -> None:
        from codesign_playground.service.jobs.chunked import route_for

        queue = route_for(self.settings, kind, params)
        try:
            self._send(job_id, queue)
        except Exception:
            _log.warning("job message not sent; the relay retries", extra={"job_id": job_id})
            with self._lock:
                self._pending[job_id] = queue
                if self._relay is None or not self._relay.is_alive():
                    self._relay = threading.Thread(
                        target=self._run_relay, name="codesign-outbox", daemon=True
                    )
                    self._relay.start()

    def _run_relay(self) -> None:
        while not self._stop.wait(1.0):
            with self._lock:
                ids = list(self._pending.items())
            if not ids:
                return
            for job_id, queue in ids:
                try:
                    self._send(job_id, queue)
                except Exception:
                    break  # still down: try again in a second
                with self._lock:
                    self._pending.pop(job_id, None)
                _log.info("job message sent by the relay", extra={"job_id": job_id})

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
        self._stop.set()
        self.app.close()
        self.probe.close()
