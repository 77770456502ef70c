"""Hardware: the chip catalog, the templates, validation and stored descriptions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status

from codesign_playground.errors import InputError
from codesign_playground.hardware import (
    get_chip,
    hardware_from_dict,
    hardware_to_dict,
    list_catalog,
)
from codesign_playground.service import crud
from codesign_playground.service.analysis import instantiate_template, template_parameters
from codesign_playground.service.api.deps import OffsetQuery, SessionDep
from codesign_playground.service.core.problems import ProblemError
from codesign_playground.service.core.security import PrincipalDep
from codesign_playground.service.schemas import (
    PUBLIC_ID_PATTERN,
    HardwareCreate,
    HardwarePublic,
    TemplateCreate,
)

router = APIRouter(prefix="/hardware", tags=["hardware"])


def _summary(chip_id: str) -> dict[str, Any]:
    spec = get_chip(chip_id)
    return {
        "id": chip_id,
        "name": spec.name,
        "kind": spec.kind,
        "description": spec.description,
        "tech_node_nm": spec.tech_node_nm,
        "power_w": spec.power_w,
        "clock_hz": spec.compute.clock_hz,
    }


@router.get("/catalog")
def read_catalog() -> list[dict[str, Any]]:
    """The chips of the sourced catalog."""
    return [_summary(chip_id) for chip_id in list_catalog()]


@router.get("/catalog/{chip}")
def read_chip(chip: str) -> dict[str, Any]:
    """One catalog chip's full description (id, alias or display name)."""
    return hardware_to_dict(get_chip(chip))


@router.get("/templates")
def read_templates() -> list[dict[str, Any]]:
    """The hardware templates and their parameters with defaults."""
    return template_parameters()


@router.post("/templates/{kind}")
def instantiate(kind: str, body: TemplateCreate) -> dict[str, Any]:
    """A full description built from a template and its parameters."""
    return hardware_to_dict(instantiate_template(kind, body.params))


@router.post("/validate")
def validate_hardware(body: HardwareCreate) -> dict[str, Any]:
    """Check a description; 200 with the canonical form, or a 422 problem naming the field."""
    spec = hardware_from_dict(body.spec)
    return {"valid": True, "name": spec.name, "kind": spec.kind, "spec": hardware_to_dict(spec)}


@router.post("", status_code=status.HTTP_201_CREATED, response_model=HardwarePublic)
def create_hardware(session: SessionDep, principal: PrincipalDep, body: HardwareCreate) -> Any:
    """Validate and store a description."""
    spec = hardware_from_dict(body.spec)
    return crud.create_hardware(
        session,
        owner=principal.owner,
        name=spec.name,
        kind=spec.kind,
        spec=hardware_to_dict(spec),
    )


@router.get("", response_model=list[HardwarePublic])
def read_hardware_list(
    session: SessionDep,
    principal: PrincipalDep,
    offset: OffsetQuery = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    """The stored descriptions."""
    return crud.list_hardware(session, owner=principal.owner_filter, offset=offset, limit=limit)


@router.get("/{hardware_id}", response_model=HardwarePublic)
def read_hardware(
    session: SessionDep,
    principal: PrincipalDep,
    hardware_id: Annotated[str, Path(pattern=PUBLIC_ID_PATTERN)],
) -> Any:
    """One stored description."""
    row = crud.get_hardware(session, hardware_id=hardware_id, owner=principal.owner_filter)
    if row is None:
        raise ProblemError(
            404, "not-found", f"hardware_id: no stored description with id {hardware_id}"
        )
    return row


__all__ = ["InputError", "router"]
