"""Run one job: claim it, call its kind's function, store progress and the outcome.

The same :func:`execute` runs under Celery and under the in-process worker. It is idempotent:
a job that is already finished, or running under a live worker, is left alone, so a message
delivered twice (late acknowledgement, re-sent by the reconciler) does no harm. Progress and
partial results go to the job row while the job runs; a job interrupted by a shutdown goes back
to ``queued`` and resumes from its work folder when claimed again.
"""

from __future__ import annotations

import logging
import math
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from codesign_playground.config import Settings
from codesign_playground.errors import CodesignError
from codesign_playground.service import crud
from codesign_playground.service.core.db import Database
from codesign_playground.service.core.tracing import job_span
from codesign_playground.service.storage import keep_outcome
from codesign_playground.service.tables import JobRow, utcnow

__all__ = [
    "RESUMABLE_KINDS",
    "TRANSIENT_ERRORS",
    "JobContext",
    "JobOutcome",
    "TransientJobError",
    "execute",
    "stale_after_s",
    "tidy_work_dir",
]

_log = logging.getLogger("codesign_playground.jobs")

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    PoolTimeoutError,
    redis.ConnectionError,
    redis.TimeoutError,
    ConnectionError,
    TimeoutError,
)
"""Errors worth a retry with backoff: the database or Redis went away for a moment."""


class TransientJobError(Exception):
    """A job attempt failed for a transient reason; the job is queued again for a retry."""


@dataclass
class JobOutcome:
    """What a job kind returns: the result document, and optionally an artifact and a report."""

    result: dict[str, Any]
    artifact: tuple[str, bytes] | None = None
    report: str | None = None
    points_evaluated: int | None = None


@dataclass
class JobContext:
    """Everything a job kind may use; ``should_stop`` and ``report`` talk to the job row."""

    job_id: str
    kind: str
    params: dict[str, Any]
    work_dir: Path
    data_dir: Path
    db: Database
    should_stop: Callable[[], bool]
    report: Callable[..., None]
    stop_reason: list[str] = field(default_factory=list)
    settings: Settings | None = None
    worker: str = ""
    dispatch: Callable[[str, list[int]], None] | None = None
    """Sends chunk messages to other workers (Celery); None: this process runs every chunk."""


def stale_after_s(settings: Settings) -> float:
    """A running job whose heartbeat is older than this is claimable again."""
    return max(settings.job_stale_after_seconds, 3 * settings.worker_heartbeat_seconds)


class _Tracker:
    """Throttled progress writes, cancel-flag polls, the time limit and the heartbeat."""

    def __init__(
        self, db: Database, settings: Settings, job_id: str, stop_event: threading.Event | None
    ) -> None:
        self.db = db
        self.job_id = job_id
        self.deadline = time.monotonic() + settings.job_time_limit_seconds
        self.limit_s = settings.job_time_limit_seconds
        self.stop_event = stop_event
        self.reason: list[str] = []
        self._last_poll = 0.0
        self._last_write = 0.0
        self._cancelled = False
        self._started = time.monotonic()
        self._beat_stop = threading.Event()
        self._beat = threading.Thread(
            target=self._heartbeat, args=(settings.worker_heartbeat_seconds,), daemon=True
        )
        self._beat.start()

    def _heartbeat(self, every_s: float) -> None:
        while not self._beat_stop.wait(every_s):
            try:
                with self.db.session() as s:
                    s.execute(
                        update(JobRow)
                        .where(JobRow.id == self.job_id, JobRow.status == "running")
                        .values(heartbeat_at=utcnow())
                    )
            except Exception:
                _log.warning("heartbeat failed", extra={"job_id": self.job_id})

    def close(self) -> None:
        self._beat_stop.set()

    def should_stop(self) -> bool:
        if self.reason:
            return True
        now = time.monotonic()
        if self.stop_event is not None and self.stop_event.is_set():
            self.reason.append("interrupted")
        elif now > self.deadline:
            self.reason.append("time-limit")
        elif now - self._last_poll >= 0.5:
            self._last_poll = now
            with self.db.session() as s:
                flag = s.get(JobRow, self.job_id)
                if flag is not None and flag.cancel_requested:
                    self.reason.append("cancelled")
        return bool(self.reason)

    def report(
        self,
        evaluated: int = 0,
        total: int | None = None,
        best_so_far: Any = None,
        eta_s: float | None = None,
        *,
        message: str | None = None,
        force: bool = False,
    ) -> None:
        now = time.monotonic()
        if not force and now - self._last_write < 0.5 and (total is None or evaluated < total):
            return
        self._last_write = now
        elapsed = max(now - self._started, 1e-9)
        progress = {
            "evaluated": int(evaluated),
            "total": None if total is None else int(total),
            "best_so_far": best_so_far,
            "eta_s": float(eta_s) if eta_s is not None and math.isfinite(eta_s) else None,
            "points_per_second": evaluated / elapsed,
            "message": message,
        }
        with self.db.session() as s:
            s.execute(
                update(JobRow)
                .where(JobRow.id == self.job_id)
                .values(progress=progress, points_evaluated=int(evaluated), heartbeat_at=utcnow())
            )


def _finish(db: Database, job_id: str, **values: Any) -> None:
    with db.session() as s:
        job = s.get(JobRow, job_id)
        if job is None:
            return
        now = utcnow()
        started = job.started_at or now
        if started.tzinfo is None:  # SQLite returns naive datetimes
            started = started.replace(tzinfo=now.tzinfo)
        values.setdefault("finished_at", now)
        values.setdefault("duration_s", max((now - started).total_seconds(), 0.0))
        for key, value in values.items():
            setattr(job, key, value)


def _requeue(db: Database, job_id: str, error: str | None = None) -> None:
    with db.session() as s:
        s.execute(
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.status == "running")
            .values(status="queued", worker=None, heartbeat_at=None, error=error)
        )


def execute(
    db: Database,
    settings: Settings,
    job_id: str,
    *,
    worker: str,
    stop_event: threading.Event | None = None,
    dispatch: Callable[[str, list[int]], None] | None = None,
) -> str:
    """Run job ``job_id`` if it is claimable; returns its status afterwards.

    Raises :class:`TransientJobError` when the attempt failed for a transient reason and the
    job was queued again (the caller retries it with backoff).
    """
    from codesign_playground.service.jobs.kinds import KINDS

    with db.session() as s:
        job = s.get(JobRow, job_id)
        if job is None:
            _log.warning("job not found", extra={"job_id": job_id})
            return "missing"
        if job.status in crud.TERMINAL:
            return job.status
        if job.cancel_requested:
            s.execute(
                update(JobRow)
                .where(JobRow.id == job_id)
                .values(status="cancelled", finished_at=utcnow(), duration_s=0.0)
            )
            return "cancelled"
        if not crud.claim_job(
            s, job_id=job_id, worker=worker, stale_after_s=stale_after_s(settings)
        ):
            return job.status
        kind, params, attempts = job.kind, dict(job.params), job.attempts + 1
    _log.info("job started", extra={"job_id": job_id, "kind": kind, "attempt": attempts})
    tracker = _Tracker(db, settings, job_id, stop_event)
    work_dir = settings.codesign_data_dir / "jobs" / job_id
    ctx = JobContext(
        job_id=job_id,
        kind=kind,
        params=params,
        work_dir=work_dir,
        data_dir=settings.codesign_data_dir,
        db=db,
        should_stop=tracker.should_stop,
        report=tracker.report,
        stop_reason=tracker.reason,
        settings=settings,
        worker=worker,
        dispatch=dispatch,
    )
    try:
        with job_span(job_id, kind):
            outcome = KINDS[kind](ctx)
            # the report and artifact go to the store now: a store that is down is transient
            files = keep_outcome(
                settings,
                job_id,
                result=outcome.result,
                artifact=outcome.artifact,
                report=outcome.report,
            )
    except CodesignError as exc:
        _finish(db, job_id, status="failed", error=" ".join(str(exc).split()))
        tidy_work_dir(work_dir, kind, "failed")
        return "failed"
    except TRANSIENT_ERRORS as exc:
        error_id = uuid.uuid4().hex[:12]
        # clients see a safe sentence and an id; the exception (hosts, SQL) goes to the log
        message = (
            f"transient error (attempt {attempts}): the database, Redis or the object store "
            f"was unreachable (error id {error_id})"
        )
        _log.warning(
            "job attempt failed",
            extra={"job_id": job_id, "error_id": error_id, "error": f"{type(exc).__name__}"},
            exc_info=exc,
        )
        if attempts > settings.job_max_retries:
            _finish(db, job_id, status="failed", error=message.splitlines()[0])
            return "failed"
        _requeue(db, job_id, error=message.splitlines()[0])
        raise TransientJobError(message) from exc
    except Exception:
        error_id = uuid.uuid4().hex[:12]
        _log.exception("job crashed", extra={"job_id": job_id, "error_id": error_id})
        _finish(
            db,
            job_id,
            status="failed",
            error=f"internal error (error id {error_id}); the server log has the details",
        )
        tidy_work_dir(work_dir, kind, "failed")
        return "failed"
    finally:
        tracker.close()
    reason = tracker.reason[0] if tracker.reason else None
    if reason == "interrupted":
        _requeue(db, job_id)
        _log.info("job interrupted; queued again", extra={"job_id": job_id})
        return "queued"
    status, error = "succeeded", None
    if reason == "cancelled":
        status = "cancelled"
    elif reason == "time-limit":
        status, error = "failed", f"time limit of {settings.job_time_limit_seconds} s exceeded"
    values: dict[str, Any] = {"status": status, "error": error, **files}
    if outcome.points_evaluated is not None:
        values["points_evaluated"] = outcome.points_evaluated
    _finish(db, job_id, **values)
    tidy_work_dir(work_dir, kind, status)
    _log.info("job finished", extra={"job_id": job_id, "kind": kind, "status": status})
    return status


RESUMABLE_KINDS = frozenset({"exploration"})
"""Kinds whose cancelled or failed jobs ``POST .../resume`` continues from their checkpoint."""


def tidy_work_dir(work_dir: Path, kind: str, status: str) -> None:
    """The work folder of a job that just ended (its report and artifact are in the store
    already): removed, except the checkpoint (``run``) of a cancelled or failed exploration,
    which a resume continues from; the workers' sweep removes that one once the job is deleted
    (or older than ``CODESIGN_ARTIFACT_RETENTION_DAYS``)."""
    if status == "succeeded" or kind not in RESUMABLE_KINDS:
        shutil.rmtree(work_dir, ignore_errors=True)
        return
    if work_dir.is_dir():
        for entry in work_dir.iterdir():
            if entry.name == "run":
                continue
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
