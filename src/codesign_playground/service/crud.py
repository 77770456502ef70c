"""Data access as plain functions with keyword-only arguments.

Reads take ``owner``: the caller's owner name, or ``None`` for an admin (every owner's rows).
A row of another owner is simply not found, so routes answer 404, never 403.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, case, delete, func, select, update
from sqlalchemy.orm import Session, undefer

from codesign_playground.service.core.metrics import JOB_DURATION_BUCKETS, JobStats
from codesign_playground.service.tables import (
    ChunkRow,
    ExploreRunRow,
    HardwareRow,
    JobRow,
    ModelRow,
    utcnow,
)

__all__ = [
    "TERMINAL",
    "claim_job",
    "create_hardware",
    "create_job",
    "create_model",
    "delete_job",
    "get_hardware",
    "get_job",
    "get_model",
    "get_model_content",
    "job_stats",
    "list_hardware",
    "list_jobs",
    "list_models",
    "lock_job",
    "request_cancel",
]

TERMINAL = ("succeeded", "failed", "cancelled")


def _owned(stmt: Select[Any], table: Any, owner: str | None) -> Select[Any]:
    return stmt if owner is None else stmt.where(table.owner == owner)


def create_model(
    session: Session,
    *,
    owner: str,
    name: str,
    filename: str,
    sha256: str,
    content: bytes,
    node_count: int,
    summary: dict[str, Any],
) -> ModelRow:
    row = ModelRow(
        owner=owner,
        name=name,
        filename=filename,
        sha256=sha256,
        size_bytes=len(content),
        node_count=node_count,
        summary=summary,
        content=content,
    )
    session.add(row)
    session.flush()
    return row


def list_models(
    session: Session, *, owner: str | None, offset: int = 0, limit: int = 100
) -> Sequence[ModelRow]:
    stmt = _owned(select(ModelRow), ModelRow, owner)
    return session.scalars(stmt.order_by(ModelRow.pk).offset(offset).limit(limit)).all()


def get_model(session: Session, *, model_id: str, owner: str | None) -> ModelRow | None:
    stmt = _owned(select(ModelRow).where(ModelRow.id == model_id), ModelRow, owner)
    return session.scalars(stmt).first()


def get_model_content(
    session: Session, *, model_id: str, owner: str | None
) -> tuple[ModelRow, bytes] | None:
    stmt = _owned(select(ModelRow).where(ModelRow.id == model_id), ModelRow, owner)
    row = session.scalars(stmt.options(undefer(ModelRow.content))).first()
    return None if row is None else (row, row.content)


def create_hardware(
    session: Session, *, owner: str, name: str, kind: str, spec: dict[str, Any]
) -> HardwareRow:
    row = HardwareRow(owner=owner, name=name, kind=kind, spec=spec)
    session.add(row)
    session.flush()
    return row


def list_hardware(
    session: Session, *, owner: str | None, offset: int = 0, limit: int = 100
) -> Sequence[HardwareRow]:
    stmt = _owned(select(HardwareRow), HardwareRow, owner)
    return session.scalars(stmt.order_by(HardwareRow.pk).offset(offset).limit(limit)).all()


def get_hardware(session: Session, *, hardware_id: str, owner: str | None) -> HardwareRow | None:
    stmt = _owned(select(HardwareRow).where(HardwareRow.id == hardware_id), HardwareRow, owner)
    return session.scalars(stmt).first()


def create_job(session: Session, *, owner: str, kind: str, params: dict[str, Any]) -> JobRow:
    row = JobRow(
        id=str(uuid.uuid4()),
        owner=owner,
        kind=kind,
        status="queued",
        params=params,
        progress={},
        cancel_requested=False,
        attempts=0,
        points_evaluated=0,
    )
    session.add(row)
    session.flush()
    return row


def get_job(
    session: Session, *, job_id: str, owner: str | None, kind: str | None = None
) -> JobRow | None:
    row = session.get(JobRow, job_id)
    if row is None or (kind is not None and row.kind != kind):
        return None
    if owner is not None and row.owner != owner:
        return None
    return row


def list_jobs(
    session: Session,
    *,
    owner: str | None,
    kind: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> Sequence[JobRow]:
    stmt = _owned(select(JobRow), JobRow, owner)
    stmt = stmt.order_by(JobRow.created_at.desc()).offset(offset).limit(limit)
    if kind is not None:
        stmt = stmt.where(JobRow.kind == kind)
    return session.scalars(stmt).all()


def lock_job(session: Session, *, job_id: str) -> JobRow | None:
    """The job row, read again and locked until the transaction ends (``FOR UPDATE`` on
    PostgreSQL; SQLite locks the whole database on the first write anyway)."""
    stmt = (
        select(JobRow)
        .where(JobRow.id == job_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(stmt).one_or_none()


def delete_job(session: Session, *, job_id: str) -> bool:
    """Delete a finished job's row with its chunks and running totals; ``False`` when no
    finished job ``job_id`` exists. Its stored files are the caller's
    (:func:`codesign_playground.service.storage.discard_outcome`)."""
    gone = session.execute(
        delete(JobRow)
        .where(JobRow.id == job_id, JobRow.status.in_(TERMINAL))
        .execution_options(synchronize_session=False)
    )
    if not gone.rowcount:  # type: ignore[attr-defined]
        return False
    # the foreign keys cascade on PostgreSQL; SQLite enforces none, so say it for both
    session.execute(delete(ChunkRow).where(ChunkRow.job_id == job_id))
    session.execute(delete(ExploreRunRow).where(ExploreRunRow.job_id == job_id))
    return True


def request_cancel(session: Session, *, job: JobRow) -> JobRow:
    """Flag ``job`` for cancellation; a job still queued is cancelled at once."""
    if job.status in TERMINAL:
        return job
    now = utcnow()
    session.execute(
        update(JobRow)
        .where(JobRow.id == job.id)
        .values(cancel_requested=True)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(JobRow)
        .where(JobRow.id == job.id, JobRow.status == "queued")
        .values(status="cancelled", finished_at=now, duration_s=0.0)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    session.refresh(job)
    return job


def claim_job(session: Session, *, job_id: str, worker: str, stale_after_s: float) -> bool:
    """Atomically move a queued job (or a running one whose worker went silent) to running."""
    now = utcnow()
    stale = now - timedelta(seconds=stale_after_s)
    result = session.execute(
        update(JobRow)
        .where(
            JobRow.id == job_id,
            JobRow.cancel_requested.is_(False),
            (JobRow.status == "queued")
            | ((JobRow.status == "running") & (JobRow.heartbeat_at < stale)),
        )
        .values(
            status="running",
            worker=worker,
            started_at=func.coalesce(JobRow.started_at, now),
            heartbeat_at=now,
            attempts=JobRow.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def job_stats(session: Session) -> JobStats:
    """Counts by kind and status, duration histograms, retries and design-point totals."""
    by_status = {
        (kind, status): int(n)
        for kind, status, n in session.execute(
            select(JobRow.kind, JobRow.status, func.count()).group_by(JobRow.kind, JobRow.status)
        )
    }
    bucket_cols = [
        func.sum(case((JobRow.duration_s <= b, 1), else_=0)) for b in JOB_DURATION_BUCKETS
    ]
    durations: dict[tuple[str, str], tuple[list[int], int, float]] = {}
    stmt = (
        select(JobRow.kind, JobRow.status, func.count(), func.sum(JobRow.duration_s), *bucket_cols)
        .where(JobRow.status.in_(TERMINAL), JobRow.duration_s.is_not(None))
        .group_by(JobRow.kind, JobRow.status)
    )
    for kind, status, count, total, *buckets in session.execute(stmt):
        durations[(kind, status)] = ([int(b or 0) for b in buckets], int(count), float(total or 0))
    extra = case((JobRow.attempts > 1, JobRow.attempts - 1), else_=0)
    attempts = {
        kind: int(n or 0)
        for kind, n in session.execute(select(JobRow.kind, func.sum(extra)).group_by(JobRow.kind))
    }
    points = int(session.scalar(select(func.coalesce(func.sum(JobRow.points_evaluated), 0))) or 0)
    rate = 0.0
    for (progress,) in session.execute(
        select(JobRow.progress).where(JobRow.status == "running", JobRow.kind == "exploration")
    ):
        rate += float((progress or {}).get("points_per_second") or 0.0)
    chunks = {
        str(status): int(n)
        for status, n in session.execute(
            select(ChunkRow.status, func.count())
            .join(JobRow, JobRow.id == ChunkRow.job_id)
            .where(JobRow.status == "running", ChunkRow.status.in_(("pending", "running")))
            .group_by(ChunkRow.status)
        )
    }
    return JobStats(
        by_status=by_status,
        durations=durations,
        attempts=attempts,
        points_evaluated=points,
        points_per_second=rate,
        chunks=chunks,
    )
