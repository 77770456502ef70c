"""Jobs of any kind: read one (for clients that wait on it), shared helpers for the kinds."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import RedirectResponse, StreamingResponse
from sqlalchemy import select

from codesign_playground.config import Settings
from codesign_playground.service import crud
from codesign_playground.service.api.deps import OffsetQuery, QueueDep, SessionDep
from codesign_playground.service.core.problems import ProblemError, unavailable
from codesign_playground.service.core.security import Principal, PrincipalDep
from codesign_playground.service.core.tracing import capture_context
from codesign_playground.service.jobs.queue import JobQueue
from codesign_playground.service.schemas import JobList, JobPublic
from codesign_playground.service.storage import (
    ArtifactStore,
    StoreRefusedError,
    StoreUnavailableError,
    stored_file,
)
from codesign_playground.service.tables import JobRow

router = APIRouter(prefix="/jobs", tags=["jobs"])

__all__ = [
    "artifact_response",
    "cancel_job",
    "load_job",
    "router",
    "stored_response",
    "submit_job",
]

_log = logging.getLogger("codesign_playground.service")


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


def _stream(
    store: ArtifactStore,
    location: dict[str, Any],
    job: JobRow,
    what: str,
    media_type: str,
    headers: dict[str, str],
) -> Response:
    """A download of a stored object, streamed from its store in pieces."""
    try:
        found = store.open(location)
    except StoreUnavailableError as exc:
        _log.warning("object store unreachable", extra={"job_id": job.id}, exc_info=exc)
        raise unavailable("object store") from None
    except StoreRefusedError as exc:
        _log.warning("stored %s missing", what, extra={"job_id": job.id}, exc_info=exc)
        raise ProblemError(
            404, "not-found", f"job {job.id}: its {what} is no longer in the {store.kind} store"
        ) from None
    return StreamingResponse(
        found.chunks,
        media_type=media_type,
        headers={**headers, "Content-Length": str(found.size_bytes)},
    )


def stored_response(
    settings: Settings, job: JobRow, what: str, headers: dict[str, str]
) -> Response | None:
    """The job's ``report`` or ``artifact`` from its store, or ``None`` when the bytes are in
    the job row (``ARTIFACT_STORE=database``, or a row written before stores existed)."""
    found = stored_file(settings, job.result, what)
    if found is None:
        return None
    store, location = found
    media_type = str(location.get("media_type") or "application/octet-stream")
    return _stream(store, location, job, what, media_type, headers)


def artifact_response(session: Any, settings: Settings, job: JobRow) -> Response:
    """The job's artifact: streamed from its store (or a redirect to a presigned URL when
    ``ARTIFACT_DOWNLOAD_REDIRECT`` is on and the store is S3), else from the job row."""
    if job.status != "succeeded" or not job.artifact_name:
        raise ProblemError(
            409, "job-not-finished", f"job {job.id} has no artifact (status {job.status})"
        )
    disposition = {"Content-Disposition": f'attachment; filename="{job.artifact_name}"'}
    found = stored_file(settings, job.result, "artifact")
    if found is not None and settings.artifact_download_redirect:
        store, location = found
        try:
            url = store.url(
                location,
                filename=job.artifact_name,
                media_type="application/gzip",
                expires_s=settings.artifact_url_expiry_seconds,
            )
        except StoreUnavailableError:
            raise unavailable("object store") from None
        if url is not None:
            return RedirectResponse(url, status_code=status.HTTP_307_TEMPORARY_REDIRECT)
    streamed = stored_response(settings, job, "artifact", disposition)
    if streamed is not None:
        return streamed
    data = session.scalar(select(JobRow.artifact).where(JobRow.id == job.id))
    return Response(data, media_type="application/gzip", headers=disposition)


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
