"""RTL: Verilog generation for the systolic template, run as a job; the artifact is a tarball."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from fastapi.exceptions import RequestValidationError

from codesign_playground.service import crud
from codesign_playground.service.api.deps import OffsetQuery, QueueDep, SessionDep, SettingsDep
from codesign_playground.service.api.routes.jobs import (
    artifact_response,
    cancel_job,
    delete_job,
    load_job,
    submit_job,
)
from codesign_playground.service.core.problems import ProblemError
from codesign_playground.service.core.security import PrincipalDep
from codesign_playground.service.schemas import (
    JobList,
    JobPublic,
    RtlCreate,
    synthesis_size_error,
)

router = APIRouter(prefix="/rtl", tags=["rtl"])
KIND = "rtl"


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=JobPublic)
def create_rtl(
    session: SessionDep,
    settings: SettingsDep,
    queue: QueueDep,
    principal: PrincipalDep,
    body: RtlCreate,
) -> Any:
    """Start generating Verilog for a systolic array (checked before it is queued); with
    ``simulate`` and ``synthesize`` the job's result carries the test bench's and Yosys's
    reports too. Synthesis takes arrays of at most ``CODESIGN_SYNTH_MAX_PES`` PEs (422 naming
    ``rows`` and the limit)."""
    from codesign_playground.rtl import SystolicDesign

    too_large = body.synthesize and synthesis_size_error(
        body.rows, body.cols, settings.codesign_synth_max_pes
    )
    if too_large:
        raise RequestValidationError(
            [{"loc": ("body", "rows"), "msg": too_large, "type": "synthesis_too_large"}]
        )
    params = body.model_dump()
    design = {k: v for k, v in params.items() if k not in ("simulate", "synthesize")}
    SystolicDesign(**(design | {"acc_width": design["acc_width"] or 32}))
    return submit_job(session, queue, owner=principal.owner, kind=KIND, params=params)


@router.get("", response_model=JobList)
def read_rtl_jobs(
    session: SessionDep,
    principal: PrincipalDep,
    offset: OffsetQuery = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    """RTL jobs, newest first."""
    rows = crud.list_jobs(
        session, owner=principal.owner_filter, kind=KIND, offset=offset, limit=limit
    )
    return {"items": rows, "count": len(rows)}


@router.get("/{job_id}", response_model=JobPublic)
def read_rtl_job(session: SessionDep, principal: PrincipalDep, job_id: str) -> Any:
    """One RTL job."""
    return load_job(session, principal, job_id, KIND)


@router.delete("/{job_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def delete_rtl_job(
    session: SessionDep, settings: SettingsDep, principal: PrincipalDep, job_id: str
) -> Response:
    """Delete a finished RTL job with its Verilog tarball; a queued or running one is refused
    (409: cancel it first)."""
    return delete_job(session, settings, load_job(session, principal, job_id, KIND))


@router.post("/{job_id}/cancel", status_code=status.HTTP_202_ACCEPTED, response_model=JobPublic)
def cancel_rtl_job(
    session: SessionDep, queue: QueueDep, principal: PrincipalDep, job_id: str
) -> Any:
    """Cancel an RTL job that has not finished."""
    return cancel_job(session, queue, load_job(session, principal, job_id, KIND))


@router.get("/{job_id}/result")
def read_rtl_result(session: SessionDep, principal: PrincipalDep, job_id: str) -> dict[str, Any]:
    """What the job produced: the design, its files and, when asked, the simulation and
    synthesis reports (409 while the job has not finished)."""
    job = load_job(session, principal, job_id, KIND)
    if job.result is None:
        raise ProblemError(
            409, "job-not-finished", f"rtl job {job_id} has no result yet (status {job.status})"
        )
    return dict(job.result)


@router.get("/{job_id}/artifact", response_model=None)
def read_rtl_artifact(
    session: SessionDep, settings: SettingsDep, principal: PrincipalDep, job_id: str
) -> Response:
    """The generated Verilog folder as a ``.tar.gz``."""
    return artifact_response(session, settings, load_job(session, principal, job_id, KIND))
