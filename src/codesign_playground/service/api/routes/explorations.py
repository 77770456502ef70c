"""Explorations: design-space searches run as jobs, with progress, results and a report."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import HTMLResponse, PlainTextResponse
from sqlalchemy import select

from codesign_playground.errors import ModelNotFoundError
from codesign_playground.service import crud
from codesign_playground.service.analysis import stored_binding
from codesign_playground.service.api.deps import OffsetQuery, QueueDep, SessionDep, SettingsDep
from codesign_playground.service.api.routes.jobs import (
    artifact_response,
    cancel_job,
    load_job,
    stored_response,
    submit_job,
)
from codesign_playground.service.core.headers import REPORT_CSP
from codesign_playground.service.core.problems import ProblemError
from codesign_playground.service.core.security import Principal, PrincipalDep
from codesign_playground.service.schemas import ExplorationCreate, JobList, JobPublic
from codesign_playground.service.space_policy import server_space
from codesign_playground.service.storage import public_result
from codesign_playground.service.tables import JobRow

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


@router.post("/{job_id}/cancel", status_code=status.HTTP_202_ACCEPTED, response_model=JobPublic)
def cancel_exploration(
    session: SessionDep, queue: QueueDep, principal: PrincipalDep, job_id: str
) -> Any:
    """Cancel an exploration; the points evaluated so far are kept."""
    return cancel_job(session, queue, load_job(session, principal, job_id, KIND))


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
