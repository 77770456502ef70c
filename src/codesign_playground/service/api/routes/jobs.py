"""Jobs of any kind: read one (for clients that wait on it), shared helpers for the kinds."""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import RedirectResponse, StreamingResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from codesign_playground.config import Settings
from codesign_playground.service import crud
from codesign_playground.service.api.deps import (
    OffsetQuery,
    QueueDep,
    ServicesDep,
    SessionDep,
    SettingsDep,
)
from codesign_playground.service.core.problems import ProblemError, unavailable
from codesign_playground.service.core.security import Principal, PrincipalDep
from codesign_playground.service.core.tracing import capture_context
from codesign_playground.service.jobs.chunked import delete_shared_study
from codesign_playground.service.jobs.queue import JobQueue
from codesign_playground.service.schemas import JobList, JobPublic
from codesign_playground.service.storage import (
    ArtifactStore,
    StoreRefusedError,
    StoreUnavailableError,
    discard_outcome,
    pruned_at,
    stored_file,
)
from codesign_playground.service.tables import JobRow

router = APIRouter(prefix="/jobs", tags=["jobs"])

__all__ = [
    "artifact_bytes",
    "artifact_response",
    "cancel_job",
    "delete_job",
    "load_job",
    "refuse_pruned",
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


def delete_job(session: Any, settings: Settings, job: JobRow) -> Response:
    """Delete a finished job: its stored report and artifact and its shared optuna study,
    then its row (with its chunks).

    A job still queued or running is refused (409: cancel it first). The files go first and
    the row after, in one transaction that holds the row locked: a store that does not answer
    (503) leaves the row, so the DELETE can simply be repeated (deleting an object that is
    gone already is no error), and a deleted row never leaves files behind.
    """
    locked = crud.lock_job(session, job_id=job.id)
    if locked is None:
        raise ProblemError(404, "not-found", f"job_id: no job with id {job.id}")
    if locked.status not in crud.TERMINAL:
        raise ProblemError(
            409,
            "job-not-finished",
            f"job_id: job {job.id} is {locked.status}; cancel it (POST .../cancel) and delete "
            "it once it has stopped",
        )
    try:
        discard_outcome(settings, locked.result)
    except StoreUnavailableError:
        _log.warning("object store unreachable", extra={"job_id": job.id})
        raise unavailable("object store") from None
    except StoreRefusedError as exc:
        # e.g. no s3:DeleteObject permission: keep the row so the files stay reachable
        _log.warning("object store refused a delete", extra={"job_id": job.id}, exc_info=exc)
        raise ProblemError(
            503,
            "service-unavailable",
            f"object store: it refused to delete the files of job {job.id}; nothing was "
            "changed (the server log says why)",
        ) from None
    if locked.kind == "exploration":  # its shared optuna study (CODESIGN_SHARED_STUDIES)
        delete_shared_study(session.get_bind().engine, settings, job.id)
    crud.delete_job(session, job_id=job.id)
    session.commit()
    # the job's work folder, where this process shares the worker's data folder (embedded);
    # each distributed worker's sweep removes its own copy (retention.sweep_work_folders)
    shutil.rmtree(settings.codesign_data_dir / "jobs" / job.id, ignore_errors=True)
    _log.info("job deleted", extra={"job_id": job.id, "kind": locked.kind})
    return Response(status_code=status.HTTP_204_NO_CONTENT)


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


def refuse_pruned(job: JobRow, what: str) -> None:
    """A 410 problem once retention deleted the job's files
    (``CODESIGN_ARTIFACT_RETENTION_DAYS``)."""
    when = pruned_at(job.result)
    if when is not None:
        raise ProblemError(
            410,
            "gone",
            f"job {job.id}: its {what} was deleted on {when[:10]} by the retention of job "
            "files (finished jobs keep their result, not their report and artifact)",
        )


def stored_response(
    settings: Settings, job: JobRow, what: str, headers: dict[str, str]
) -> Response | None:
    """The job's ``report`` or ``artifact`` from its store, or ``None`` when the bytes are in
    the job row (``ARTIFACT_STORE=database``, or a row written before stores existed)."""
    refuse_pruned(job, what)
    found = stored_file(settings, job.result, what)
    if found is None:
        return None
    store, location = found
    media_type = str(location.get("media_type") or "application/octet-stream")
    return _stream(store, location, job, what, media_type, headers)


def artifact_response(session: Any, settings: Settings, job: JobRow) -> Response:
    """The job's artifact: streamed from its store (or a redirect to a presigned URL when
    ``ARTIFACT_DOWNLOAD_REDIRECT`` is on and the store is S3), else from the job row."""
    refuse_pruned(job, "artifact")
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


def artifact_bytes(session: Any, settings: Settings, job: JobRow) -> bytes:
    """The whole artifact in memory (for reading one file out of it), from its store or the
    job row; 503 while the store does not answer, 404 when its object is gone."""
    refuse_pruned(job, "artifact")
    found = stored_file(settings, job.result, "artifact")
    if found is None:
        return session.scalar(select(JobRow.artifact).where(JobRow.id == job.id)) or b""
    store, location = found
    try:
        return b"".join(store.open(location).chunks)
    except StoreUnavailableError:
        _log.warning("object store unreachable", extra={"job_id": job.id})
        raise unavailable("object store") from None
    except StoreRefusedError:
        raise ProblemError(
            404, "not-found", f"job {job.id}: its artifact is no longer in the {store.kind} store"
        ) from None


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


EVENTS_POLL_S = 0.5
"""How often the event stream reads the job's row (a change is sent at most this late)."""


@router.get(
    "/{job_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "``event: job`` messages, each a JobPublic as JSON, until the job "
            "ends or ``max_s`` passes (then reconnect)",
            "content": {"text/event-stream": {}},
        }
    },
)
async def job_events(
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    job_id: str,
    max_s: Annotated[float, Query(ge=1, le=600, description="close the stream after")] = 300,
) -> StreamingResponse:
    """The job's state as a server-sent event stream: one message now, then one at each change
    of status or progress. One request follows a whole job, so a page watching progress stays
    within the rate limits (polling ``GET /jobs/{id}`` twice a second would not)."""

    def read() -> str:
        with services.db.session() as s:
            return JobPublic.model_validate(load_job(s, principal, job_id)).model_dump_json()

    first = await run_in_threadpool(read)  # a 404 problem before the stream starts

    async def stream() -> AsyncIterator[str]:
        deadline = time.monotonic() + max_s
        payload, last = first, ""
        while True:
            if payload != last:
                yield f"event: job\ndata: {payload}\n\n"
                last = payload
            done = any(f'"status":"{t}"' in payload for t in crud.TERMINAL)
            if done or time.monotonic() > deadline or await request.is_disconnected():
                return
            await asyncio.sleep(EVENTS_POLL_S)
            payload = await run_in_threadpool(read)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.post("/{job_id}/cancel", response_model=JobPublic, status_code=status.HTTP_202_ACCEPTED)
def cancel(session: SessionDep, queue: QueueDep, principal: PrincipalDep, job_id: str) -> Any:
    """Ask a job to stop; a queued job is cancelled at once, a running one at its next check."""
    return cancel_job(session, queue, load_job(session, principal, job_id))


@router.delete("/{job_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def remove_job(
    session: SessionDep, settings: SettingsDep, principal: PrincipalDep, job_id: str
) -> Response:
    """Delete a finished job (succeeded, failed or cancelled) with its report and artifact in
    the artifact store; a queued or running job is refused (409: cancel it first)."""
    return delete_job(session, settings, load_job(session, principal, job_id))
