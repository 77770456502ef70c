"""Jobs of any kind: read one (for clients that wait on it), shared helpers for the kinds."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from sqlalchemy import select

from codesign_playground.service import crud
from codesign_playground.service.api.deps import OffsetQuery, QueueDep, SessionDep
from codesign_playground.service.core.problems import ProblemError, unavailable
from codesign_playground.service.core.security import Principal, PrincipalDep
from codesign_playground.service.core.tracing import capture_context
from codesign_playground.service.jobs.queue import JobQueue
from codesign_playground.service.schemas import JobList, JobPublic
from codesign_playground.service.tables import JobRow

router = APIRouter(prefix="/jobs", tags=["jobs"])

__all__ = ["artifact_response", "cancel_job", "load_job", "router", "submit_job"]


def load_job(session: Any, principal: Principal, job_id: str, kind: str | None = None) -> JobRow:
    """The caller's job ``job_id`` (an admin: anyone's), else a 404 problem."""
    job = crud.get_job(session, job_id=job_id, owner=principal.owner_filter, kind=kind)
    if job is None:
        what = f"{kind} job" if kind else "job"
        raise ProblemError(404, "not-found", f"job_id: no {what} with id {job_id}")
    return job


def submit_job(
    session: Any, queue: JobQueue, *, owner: str, kind: str, params: dict[str, Any]
) -> JobRow:
    """Store the job, commit, then queue it (a worker must find the row).

    Atomic for the client: the queue is checked first (503, nothing stored, while Redis is
    down); a stored job is the queue's outbox entry and runs exactly once, even when the
    message cannot be sent at once. A database error before the commit stores nothing (503).
    """
    if not queue.available():
        raise unavailable("queue")
    job = crud.create_job(session, owner=owner, kind=kind, params=params)
    session.commit()
    capture_context(job.id)  # the job continues this request's trace
    queue.submit(job.id, kind, params)
    return job


def cancel_job(session: Any, queue: JobQueue, job: JobRow) -> JobRow:
    job = crud.request_cancel(session, job=job)
    session.commit()
    queue.cancel(job.id)
    return job


def artifact_response(session: Any, job: JobRow) -> Response:
    if job.status != "succeeded" or not job.artifact_name:
        raise ProblemError(
            409, "job-not-finished", f"job {job.id} has no artifact (status {job.status})"
        )
    data = session.scalar(select(JobRow.artifact).where(JobRow.id == job.id))
    return Response(
        data,
        media_type="application/gzip",
        headers={"Content-Disposition": f'attachment; filename="{job.artifact_name}"'},
    )


@router.get("", response_model=JobList)
def read_jobs(
    session: SessionDep,
    principal: PrincipalDep,
    kind: str | None = None,
    offset: OffsetQuery = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    """Jobs of every kind, newest first."""
    rows = crud.list_jobs(
        session, owner=principal.owner_filter, kind=kind, offset=offset, limit=limit
    )
    return {"items": rows, "count": len(rows)}


@router.get("/{job_id}", response_model=JobPublic)
def read_job(session: SessionDep, principal: PrincipalDep, job_id: str) -> Any:
    """One job with its progress."""
    return load_job(session, principal, job_id)


@router.post("/{job_id}/cancel", response_model=JobPublic, status_code=status.HTTP_202_ACCEPTED)
def cancel(session: SessionDep, queue: QueueDep, principal: PrincipalDep, job_id: str) -> Any:
    """Ask a job to stop; a queued job is cancelled at once, a running one at its next check."""
    return cancel_job(session, queue, load_job(session, principal, job_id))
