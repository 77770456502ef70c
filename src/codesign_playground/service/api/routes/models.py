"""Models: upload ONNX graphs, list the zoo and the stored models, profile a model."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile, status
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool

from codesign_playground.errors import ModelNotFoundError
from codesign_playground.service import crud
from codesign_playground.service.analysis import (
    ModelSource,
    OnnxLimits,
    check_dims,
    check_onnx_upload,
    load_network,
    resolve_model,
)
from codesign_playground.service.api.deps import OffsetQuery, SessionDep, SettingsDep
from codesign_playground.service.core.problems import ProblemError
from codesign_playground.service.core.security import PrincipalDep
from codesign_playground.service.schemas import (
    PUBLIC_ID_PATTERN,
    ModelList,
    ModelPublic,
    ModelRef,
    ZooKnobs,
)
from codesign_playground.units import Precision
from codesign_playground.workload import profile
from codesign_playground.workload.load import parse_dims

router = APIRouter(prefix="/models", tags=["models"])

_CHUNK = 1 << 20
_DIMS_HELP = (
    "NAME=SIZE: the size of a named symbolic input dimension (the CLI's --dim), one field "
    "each, e.g. sequence=128"
)
_ALLOW_HELP = (
    "count a graph whose arithmetic ops have shapes no inference resolves: they are left "
    "out and the totals say how many ('unresolved' and its fractions); else a 422 naming "
    "the node"
)
ModelId = Annotated[str, PathParam(pattern=PUBLIC_ID_PATTERN, description="a model's id")]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ModelPublic)
async def upload_model(
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    file: Annotated[UploadFile, File(description="an ONNX file")],
    name: Annotated[str | None, Form(max_length=200)] = None,
    dims: Annotated[list[str] | None, Form(description=_DIMS_HELP)] = None,
    allow_unresolved: Annotated[bool, Form(description=_ALLOW_HELP)] = False,
) -> Any:
    """Upload an ONNX graph (size and node-count limits apply); nothing is stored if it fails.

    Symbolic input dimensions other than a leading batch axis need a size (``dims``:
    ``NAME=SIZE``, one form field each); they are stored with the model and used by its
    profile and estimates, which may give other sizes. A graph whose arithmetic cannot be
    sized is refused (422 naming the node) unless ``allow_unresolved``; then the summary
    says how much was left out."""
    filename = Path(file.filename or "model.onnx").name
    if not filename.lower().endswith(".onnx"):
        raise ProblemError(415, "unsupported-media-type", f"file: {filename} is not an .onnx file")
    bound = parse_dims(dims, field="dims")
    check_dims(bound, "dims", settings.model_max_dim)
    limit = settings.model_max_upload_bytes
    digest = hashlib.sha256()
    chunks: list[bytes] = []
    size = 0
    while chunk := await file.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise ProblemError(
                413,
                "upload-too-large",
                f"file: {filename} is larger than the {settings.model_max_upload_mb:g} MB limit "
                "(MODEL_MAX_UPLOAD_MB)",
            )
        digest.update(chunk)
        chunks.append(chunk)
    content = b"".join(chunks)
    if not content:
        raise ProblemError(422, "invalid-input", f"file: {filename} is empty")
    limits = OnnxLimits(
        max_nodes=settings.model_max_nodes,
        max_rank=settings.model_max_rank,
        max_dim=settings.model_max_dim,
        max_elements=settings.model_max_tensor_elements,
    )
    nodes, summary = await run_in_threadpool(
        _check_upload,
        content,
        limits=limits,
        filename=filename,
        dims=bound,
        allow_unresolved=allow_unresolved,
    )
    row = await run_in_threadpool(
        crud.create_model,
        session,
        owner=principal.owner,
        name=name or Path(filename).stem,
        filename=filename,
        sha256=digest.hexdigest(),
        content=content,
        node_count=nodes,
        summary=summary,
    )
    return row


def _check_upload(
    content: bytes,
    *,
    limits: OnnxLimits,
    filename: str,
    dims: dict[str, int],
    allow_unresolved: bool,
) -> tuple[int, dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload.onnx"
        path.write_bytes(content)
        return check_onnx_upload(
            path,
            max_nodes=limits.max_nodes,
            filename=filename,
            limits=limits,
            dims=dims,
            allow_unresolved=allow_unresolved,
        )


@router.get("", response_model=ModelList)
def read_models(
    session: SessionDep,
    principal: PrincipalDep,
    offset: OffsetQuery = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    """List the stored models."""
    rows = crud.list_models(session, owner=principal.owner_filter, offset=offset, limit=limit)
    return {"items": rows, "count": len(rows)}


@router.get("/zoo")
def read_zoo() -> list[dict[str, Any]]:
    """List the built-in zoo models with their knobs."""
    from codesign_playground.workload.zoo import list_zoo

    return [
        {
            "name": e.name,
            "family": e.family,
            "description": e.description,
            "knobs": dict(e.knobs),
            "aliases": list(e.aliases),
        }
        for e in list_zoo()
    ]


@router.get("/zoo/{name}/profile")
def profile_zoo_model(
    session: SessionDep,
    settings: SettingsDep,
    name: str,
    batch: Annotated[int, Query(ge=1, le=65536)] = 1,
    precision: Precision | None = None,
    resolution: Annotated[int | None, Query(ge=1, le=8192)] = None,
    seq_len: Annotated[int | None, Query(ge=1, le=1_048_576)] = None,
    kv_len: Annotated[int | None, Query(ge=1, le=1_048_576)] = None,
    width: Annotated[float | None, Query(gt=0, le=16)] = None,
) -> dict[str, Any]:
    """Per-layer and total work of a zoo model with its knobs (left out: the model's default)."""
    knobs = ZooKnobs(resolution=resolution, seq_len=seq_len, kv_len=kv_len, width=width)
    ref = ModelRef(zoo=name, knobs=knobs)
    source = resolve_model(session, ref, settings.codesign_data_dir, owner=None)
    return _profile(source, batch, precision)


@router.get("/{model_id}", response_model=ModelPublic)
def read_model(session: SessionDep, principal: PrincipalDep, model_id: ModelId) -> Any:
    """One stored model."""
    row = crud.get_model(session, model_id=model_id, owner=principal.owner_filter)
    if row is None:
        raise ModelNotFoundError(f"model_id: no stored model with id {model_id}")
    return row


@router.get("/{model_id}/profile")
def profile_model(
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    model_id: ModelId,
    batch: Annotated[int, Query(ge=1, le=65536)] = 1,
    precision: Precision | None = None,
    dims: Annotated[list[str] | None, Query(description=_DIMS_HELP, max_length=64)] = None,
    allow_unresolved: Annotated[bool | None, Query(description=_ALLOW_HELP)] = None,
) -> dict[str, Any]:
    """Per-layer and total work of a stored model (``dims`` and ``allow_unresolved``
    default to what the model was uploaded with)."""
    bound = parse_dims(dims, field="dims")
    check_dims(bound, "dims", settings.model_max_dim)
    source = resolve_model(
        session,
        ModelRef(model_id=model_id),
        settings.codesign_data_dir,
        owner=principal.owner_filter,
    )
    return _profile(source, batch, precision, dims=bound, allow_unresolved=allow_unresolved)


def _profile(
    source: ModelSource,
    batch: int,
    precision: str | None,
    *,
    dims: dict[str, int] | None = None,
    allow_unresolved: bool | None = None,
) -> dict[str, Any]:
    net = load_network(
        source, batch=batch, precision=precision, dims=dims, allow_unresolved=allow_unresolved
    )
    return profile(net)
