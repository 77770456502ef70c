"""Explorations: design-space searches run as jobs, with progress, results and a report."""

from __future__ import annotations

import io
import tarfile
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import HTMLResponse, PlainTextResponse
from sqlalchemy import select, update

from codesign_playground.errors import InputError, ModelNotFoundError
from codesign_playground.service import crud
from codesign_playground.service.analysis import stored_binding
from codesign_playground.service.api.deps import OffsetQuery, QueueDep, SessionDep, SettingsDep
from codesign_playground.service.api.routes.jobs import (
    artifact_bytes,
    artifact_response,
    cancel_job,
    delete_job,
    load_job,
    refuse_pruned,
    stored_response,
    submit_job,
)
from codesign_playground.service.core.headers import REPORT_CSP
from codesign_playground.service.core.problems import ProblemError, unavailable
from codesign_playground.service.core.security import Principal, PrincipalDep
from codesign_playground.service.schemas import ExplorationCreate, JobList, JobPublic, SpaceCheck
from codesign_playground.service.space_policy import server_space
from codesign_playground.service.storage import public_result
from codesign_playground.service.tables import JobRow

# the report folder's files a client may download one by one (from the job's artifact)
REPORT_FILES: dict[str, str] = {
    "points.csv": "text/csv; charset=utf-8",
    "points.parquet": "application/vnd.apache.parquet",
    "front.csv": "text/csv; charset=utf-8",
    "summary.json": "application/json",
    "report.html": "text/html; charset=utf-8",
}
ReportFile = Literal["points.csv", "points.parquet", "front.csv", "summary.json", "report.html"]

router = APIRouter(prefix="/explorations", tags=["explorations"])
KIND = "exploration"


def _with_upload_binding(document: dict[str, Any], summary: Any) -> dict[str, Any]:
    """The space with the dims and ``allow_unresolved`` the model was uploaded with, where
    ``space.model`` does not give its own."""
    dims, allow = stored_binding(summary)
    model = document.get("model")
    if not isinstance(model, dict) or not (dims or allow):
        return document
    model = dict(model)
    if dims and "dims" not in model:
        model["dims"] = dims
    if allow and "allow_unresolved" not in model:
        model["allow_unresolved"] = True
    return document | {"model": model}


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=JobPublic)
def create_exploration(
    session: SessionDep,
    queue: QueueDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    body: ExplorationCreate,
) -> Any:
    """Start an exploration of a design-space document (validated before it is queued).

    ``space.model.name`` names a zoo model (or give ``model_id``); file paths are refused.
    """
    from codesign_playground.explore.space import space_from_dict

    row = None
    if body.model_id is not None:
        row = crud.get_model(session, model_id=body.model_id, owner=principal.owner_filter)
        if row is None:
            raise ModelNotFoundError(f"model_id: no stored model with id {body.model_id}")
    document = server_space(body.space, model_id=body.model_id)  # the worker fills model.name
    if row is not None:
        document = _with_upload_binding(document, row.summary)
    space_from_dict(document, max_points=settings.explore_max_points)
    params = body.model_dump() | {"space": document}
    return submit_job(session, queue, owner=principal.owner, kind=KIND, params=params)


@router.post("/validate")
def validate_space(
    session: SessionDep, settings: SettingsDep, principal: PrincipalDep, body: SpaceCheck
) -> dict[str, Any]:
    """Check a design-space document (JSON or YAML text) without starting anything.

    Answers the parsed document (ready for ``POST /explorations``), its grid size and its
    knobs; a bad document is a 422 problem whose ``detail`` names the field.
    """
    import yaml

    from codesign_playground.explore.space import space_from_dict, space_knobs, space_size

    document: Any = body.space
    if body.yaml is not None:
        try:
            document = yaml.safe_load(body.yaml)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise InputError(f"yaml: not valid YAML{where}") from None
        if not isinstance(document, dict):
            raise InputError("yaml: the document must be a mapping (name:, model:, hardware:, ...)")
    if body.model_id is not None and (
        crud.get_model(session, model_id=body.model_id, owner=principal.owner_filter) is None
    ):
        raise ModelNotFoundError(f"model_id: no stored model with id {body.model_id}")
    checked = server_space(document, model_id=body.model_id)
    space = space_from_dict(checked, max_points=settings.explore_max_points)
    return {
        "space": document,
        "grid_points": int(space_size(space)),
        "knobs": [
            {"name": k.name, "section": k.section, "values": list(k.values)}
            for k in space_knobs(space)
        ],
        "objectives": [o.metric for o in space.objective_list()],
    }


@router.get("", response_model=JobList)
def read_explorations(
    session: SessionDep,
    principal: PrincipalDep,
    offset: OffsetQuery = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    """Explorations, newest first."""
    rows = crud.list_jobs(
        session, owner=principal.owner_filter, kind=KIND, offset=offset, limit=limit
    )
    return {"items": rows, "count": len(rows)}


@router.get("/{job_id}", response_model=JobPublic)
def read_exploration(session: SessionDep, principal: PrincipalDep, job_id: str) -> Any:
    """One exploration with its progress (points evaluated, best so far, ETA)."""
    return load_job(session, principal, job_id, KIND)


@router.delete("/{job_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def delete_exploration(
    session: SessionDep, settings: SettingsDep, principal: PrincipalDep, job_id: str
) -> Response:
    """Delete a finished exploration with its chunks, report and artifact tarball; a queued
    or running one is refused (409: cancel it first)."""
    return delete_job(session, settings, load_job(session, principal, job_id, KIND))


@router.post("/{job_id}/cancel", status_code=status.HTTP_202_ACCEPTED, response_model=JobPublic)
def cancel_exploration(
    session: SessionDep, queue: QueueDep, principal: PrincipalDep, job_id: str
) -> Any:
    """Cancel an exploration; the points evaluated so far are kept."""
    return cancel_job(session, queue, load_job(session, principal, job_id, KIND))


@router.post("/{job_id}/resume", status_code=status.HTTP_202_ACCEPTED, response_model=JobPublic)
def resume_exploration(
    session: SessionDep, queue: QueueDep, principal: PrincipalDep, job_id: str
) -> Any:
    """Queue a cancelled or failed exploration again; it continues from its checkpoint.

    The points already evaluated are not evaluated again (the worker resumes from the job's
    work folder). A job still queued or running, or one that succeeded, is refused (409).
    """
    job = load_job(session, principal, job_id, KIND)
    if job.status not in ("cancelled", "failed"):
        raise ProblemError(
            409,
            "job-not-resumable",
            f"job_id: exploration {job_id} is {job.status}; only a cancelled or failed one "
            "can be resumed",
        )
    if not queue.available():
        raise unavailable("queue")
    session.execute(
        update(JobRow)
        .where(JobRow.id == job.id, JobRow.status.in_(("cancelled", "failed")))
        .values(
            status="queued",
            cancel_requested=False,
            error=None,
            finished_at=None,
            duration_s=None,
            worker=None,
            heartbeat_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    session.refresh(job)
    queue.submit(job.id)
    return job


def _result(session: Any, principal: Principal, job_id: str) -> dict[str, Any]:
    job = load_job(session, principal, job_id, KIND)
    if job.result is None:
        raise ProblemError(
            409,
            "job-not-finished",
            f"exploration {job_id} has no results yet (status {job.status})",
        )
    return public_result(job.result)


@router.get("/{job_id}/results")
def read_results(session: SessionDep, principal: PrincipalDep, job_id: str) -> dict[str, Any]:
    """Every evaluated design point, the Pareto front and the search summary."""
    return _result(session, principal, job_id)


@router.get("/{job_id}/front")
def read_front(session: SessionDep, principal: PrincipalDep, job_id: str) -> dict[str, Any]:
    """The Pareto-optimal points and the objectives they trade off."""
    result = _result(session, principal, job_id)
    return {
        "objectives": result.get("objectives"),
        "front": result.get("front", []),
        "count": len(result.get("front") or []),
    }


@router.get("/{job_id}/report", response_model=None)
def read_report(
    session: SessionDep, settings: SettingsDep, principal: PrincipalDep, job_id: str
) -> Response:
    """The exploration report (HTML or Markdown), served as a sandboxed document."""
    job = load_job(session, principal, job_id, KIND)
    streamed = stored_response(settings, job, "report", {"Content-Security-Policy": REPORT_CSP})
    if streamed is not None:
        return streamed
    text = session.scalar(select(JobRow.report).where(JobRow.id == job.id))
    if not text:
        raise ProblemError(
            409, "job-not-finished", f"exploration {job_id} has no report (status {job.status})"
        )
    if text.lstrip().lower().startswith(("<!doctype", "<html")):
        return HTMLResponse(text, headers={"Content-Security-Policy": REPORT_CSP})
    return PlainTextResponse(
        text, media_type="text/markdown", headers={"Content-Security-Policy": REPORT_CSP}
    )


@router.get("/{job_id}/artifact", response_model=None)
def read_artifact(
    session: SessionDep, settings: SettingsDep, principal: PrincipalDep, job_id: str
) -> Response:
    """The report folder as a tarball."""
    return artifact_response(session, settings, load_job(session, principal, job_id, KIND))


@router.get(
    "/{job_id}/files/{name}",
    response_model=None,
    responses={
        200: {
            "description": "the file, as an attachment",
            "content": {t.split(";")[0]: {} for t in REPORT_FILES.values()},
        }
    },
)
def read_report_file(
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    job_id: str,
    name: ReportFile,
) -> Response:
    """One file of the report folder (points.csv, points.parquet, front.csv, summary.json or
    report.html) as a download; 404 when the report has no such file (no pyarrow: no Parquet)."""
    job = load_job(session, principal, job_id, KIND)
    refuse_pruned(job, "report")
    if job.status != "succeeded" or not job.artifact_name:
        raise ProblemError(
            409, "job-not-finished", f"exploration {job_id} has no report (status {job.status})"
        )
    content = _member(artifact_bytes(session, settings, job), name)
    if content is None:
        raise ProblemError(
            404,
            "not-found",
            f"name: the report of exploration {job_id} has no {name}"
            + (" (the worker has no pyarrow)" if name.endswith(".parquet") else ""),
        )
    headers = {"Content-Disposition": f'attachment; filename="{job_id[:8]}-{name}"'}
    if name.endswith(".html"):
        headers["Content-Security-Policy"] = REPORT_CSP
    return Response(content, media_type=REPORT_FILES[name], headers=headers)


def _member(tarball: bytes, name: str) -> bytes | None:
    """The file called ``name`` (at any depth) in a gzipped tarball, else ``None``."""
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.rsplit("/", 1)[-1] == name:
                extracted = tar.extractfile(member)
                return None if extracted is None else extracted.read()
    return None
