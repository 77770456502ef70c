"""Thin calls into the library: resolve model and hardware references, profile, estimate.

Uploaded models live in the database; to hand one to the library it is written once to
``<data dir>/models/<sha256>.onnx`` (content-addressed, so any process can recreate it).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import re
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from codesign_playground.errors import InputError, ModelFormatError, ModelNotFoundError
from codesign_playground.hardware import (
    HardwareSpec,
    get_chip,
    gpu,
    hardware_from_dict,
    spatial,
    systolic,
    vector,
)
from codesign_playground.service import crud
from codesign_playground.service.core.problems import ProblemError
from codesign_playground.service.schemas import EstimateRequest, HardwareRef, ModelRef
from codesign_playground.service.tables import HardwareRow, ModelRow
from codesign_playground.workload import Network, load_workload, parse_precision

__all__ = [
    "TEMPLATES",
    "ModelSource",
    "check_onnx_upload",
    "estimate_key",
    "hardware_spec",
    "instantiate_template",
    "load_network",
    "model_file",
    "resolve_model",
    "template_parameters",
]

TEMPLATES: dict[str, Callable[..., HardwareSpec]] = {
    "systolic": systolic,
    "vector": vector,
    "spatial": spatial,
    "gpu": gpu,
}


class ModelSource:
    """What a model reference resolved to: a file (uploaded model) or a zoo name."""

    def __init__(self, *, ref: str, identity: str, label: str) -> None:
        self.ref = ref  # what load_workload takes
        self.identity = identity  # stable cache identity (sha256 or zoo name)
        self.label = label


def model_file(data_dir: Path, sha256: str, content: bytes, name: str = "model") -> Path:
    """The uploaded model's file under ``data_dir``, written atomically if missing.

    The file is ``models/<sha256>/<name>.onnx``: the library names the network after the stem.
    """
    folder = data_dir / "models" / sha256
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "model"
    path = folder / f"{stem}.onnx"
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.replace(tmp, path)
    return path


def resolve_model(
    session: Session, ref: ModelRef, data_dir: Path, *, owner: str | None
) -> ModelSource:
    """An uploaded model of ``owner`` (``None``: any owner) or a zoo model."""
    if ref.model_id is not None:
        found = crud.get_model_content(session, model_id=ref.model_id, owner=owner)
        if found is None:
            raise ModelNotFoundError(f"model.model_id: no stored model with id {ref.model_id}")
        row, content = found
        path = model_file(data_dir, row.sha256, content, row.name)
        return ModelSource(ref=str(path), identity=f"sha256:{row.sha256}", label=row.name)
    assert ref.zoo is not None  # guaranteed by ModelRef's validator
    from codesign_playground.workload.zoo import zoo_entry

    entry = zoo_entry(ref.zoo)
    return ModelSource(ref=entry.name, identity=f"zoo:{entry.name}", label=entry.name)


_NETWORKS: OrderedDict[tuple[str, int, str | None], Network] = OrderedDict()
_NETWORKS_LOCK = threading.Lock()


def load_network(source: ModelSource, *, batch: int, precision: str | None) -> Network:
    """``load_workload`` with a small per-process LRU (networks are immutable)."""
    key = (source.ref, batch, precision)
    with _NETWORKS_LOCK:
        net = _NETWORKS.get(key)
        if net is not None:
            _NETWORKS.move_to_end(key)
            return net
    prec = parse_precision(precision) if precision else None
    net = load_workload(source.ref, batch=batch, precision=prec)
    with _NETWORKS_LOCK:
        _NETWORKS[key] = net
        while len(_NETWORKS) > 16:
            _NETWORKS.popitem(last=False)
    return net


def hardware_spec(session: Session, ref: HardwareRef, *, owner: str | None) -> HardwareSpec:
    if ref.hardware_id is not None:
        row = crud.get_hardware(session, hardware_id=ref.hardware_id, owner=owner)
        if row is None:
            raise ProblemError(
                404,
                "not-found",
                f"hardware.hardware_id: no stored description with id {ref.hardware_id}",
            )
        return hardware_from_dict(row.spec)
    if ref.chip is not None:
        return get_chip(ref.chip)
    assert ref.spec is not None  # guaranteed by HardwareRef's validator
    return hardware_from_dict(ref.spec)


def estimate_key(session: Session, request: EstimateRequest, *, owner: str | None) -> str:
    """A digest of everything the estimate depends on, computed without building anything.

    Stored models count by content (sha256), stored hardware by its description, catalog chips
    by name, inline descriptions by their JSON; the library version is part of the key. A hit
    therefore costs one primary-key query at most (no ONNX parse, no spec validation).
    """
    from codesign_playground._version import __version__

    model: str
    if request.model.model_id is not None:
        stmt = select(ModelRow.sha256).where(ModelRow.id == request.model.model_id)
        if owner is not None:
            stmt = stmt.where(ModelRow.owner == owner)
        sha = session.scalar(stmt)
        if sha is None:
            raise ModelNotFoundError(
                f"model.model_id: no stored model with id {request.model.model_id}"
            )
        model = f"sha256:{sha}"
    else:
        model = f"zoo:{request.model.zoo}"
    hw = request.hardware
    hardware: Any
    if hw.hardware_id is not None:
        hw_stmt = select(HardwareRow.spec).where(HardwareRow.id == hw.hardware_id)
        if owner is not None:
            hw_stmt = hw_stmt.where(HardwareRow.owner == owner)
        stored = session.scalar(hw_stmt)
        if stored is None:
            raise ProblemError(
                404,
                "not-found",
                f"hardware.hardware_id: no stored description with id {hw.hardware_id}",
            )
        hardware = stored
    else:
        hardware = {"chip": hw.chip} if hw.chip is not None else hw.spec
    payload = json.dumps(
        {
            "v": __version__,
            "model": model,
            "hardware": hardware,
            "batch": request.batch,
            "precision": request.precision,
            "mode": request.mode,
            "launch": request.launch,
            "tf32": request.tf32,
            "layers": request.include_layers,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def template_parameters() -> list[dict[str, Any]]:
    """Each template's parameters with their defaults (``None`` where required)."""
    out = []
    for kind, fn in TEMPLATES.items():
        params = {}
        for name, p in inspect.signature(fn).parameters.items():
            default = None if p.default is inspect.Parameter.empty else p.default
            params[name] = {"default": default, "required": p.default is inspect.Parameter.empty}
        out.append(
            {"kind": kind, "doc": (fn.__doc__ or "").strip().splitlines()[0], "parameters": params}
        )
    return out


def instantiate_template(kind: str, params: dict[str, Any]) -> HardwareSpec:
    fn = TEMPLATES.get(kind)
    if fn is None:
        raise InputError(f"kind: unknown template {kind!r}; use one of {', '.join(TEMPLATES)}")
    known = set(inspect.signature(fn).parameters)
    unknown = sorted(set(params) - known)
    if unknown:
        raise InputError(
            f"params: unknown parameter(s) {', '.join(unknown)} for the {kind} template; "
            f"known: {', '.join(sorted(known))}"
        )
    try:
        spec: HardwareSpec = fn(**params)
    except TypeError as exc:
        raise InputError(f"params: {exc}") from None
    return spec


def check_onnx_upload(path: Path, *, max_nodes: int, filename: str) -> tuple[int, dict[str, Any]]:
    """Node count and profile totals of an uploaded file, or an ``InputError`` naming the file."""
    from codesign_playground.workload.importers.onnx_graph import load_onnx, network_from_onnx
    from codesign_playground.workload.profile import totals

    try:
        model = load_onnx(path)
    except ModelFormatError as exc:
        raise ModelFormatError(str(exc).replace(path.name, filename)) from None
    nodes = len(model.graph.node)
    if nodes > max_nodes:
        raise InputError(
            f"file: {filename} has {nodes} nodes; the limit is {max_nodes} (MODEL_MAX_NODES)"
        )
    net = network_from_onnx(path, name=Path(filename).stem)
    summary = totals(net) | {
        "model": net.name,
        "inputs": [{"name": t.name, "shape": list(t.shape), "dtype": t.dtype} for t in net.inputs],
        "unmodeled": len(net.unmodeled),
    }
    return nodes, summary
