"""Thin calls into the library: resolve model and hardware references, profile, estimate.

Uploaded models live in the database; to hand one to the library it is written once to
``<data dir>/models/<sha256>.onnx`` (content-addressed, so any process can recreate it).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import os
import re
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from codesign_playground.errors import (
    CodesignError,
    InputError,
    ModelFormatError,
    ModelNotFoundError,
)
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
    "OnnxLimits",
    "check_dims",
    "check_onnx_limits",
    "check_onnx_upload",
    "estimate_key",
    "hardware_spec",
    "instantiate_template",
    "load_network",
    "model_binding",
    "model_file",
    "resolve_model",
    "stored_binding",
    "template_parameters",
]

TEMPLATES: dict[str, Callable[..., HardwareSpec]] = {
    "systolic": systolic,
    "vector": vector,
    "spatial": spatial,
    "gpu": gpu,
}


_log = logging.getLogger("codesign_playground.service")


class ModelSource:
    """What a model reference resolved to: a file (uploaded model) or a zoo name.

    An uploaded model carries what was bound at upload: ``dims`` (sizes of its symbolic
    input dimensions) and ``allow_unresolved``; a request may override both
    (:func:`model_binding`); a zoo model carries its knobs (resolution, seq_len, kv_len,
    width)."""

    def __init__(
        self,
        *,
        ref: str,
        identity: str,
        label: str,
        dims: Mapping[str, int] | None = None,
        allow_unresolved: bool = False,
        knobs: dict[str, Any] | None = None,
    ) -> None:
        self.ref = ref  # what load_workload takes
        self.identity = identity  # stable cache identity (sha256 or zoo name)
        self.label = label
        self.dims = dict(dims or {})
        self.allow_unresolved = allow_unresolved
        self.knobs = dict(knobs or {})  # zoo knobs (resolution, seq_len, kv_len, width)


def stored_binding(summary: Mapping[str, Any] | None) -> tuple[dict[str, int], bool]:
    """The dims and ``allow_unresolved`` an uploaded model was stored with (none before
    these were recorded)."""
    summary = summary or {}
    raw = summary.get("dims") or {}
    dims = {str(k): int(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    return dims, bool(summary.get("allow_unresolved", False))


def model_binding(
    stored: tuple[Mapping[str, int], bool],
    dims: Mapping[str, int] | None,
    allow_unresolved: bool | None,
) -> tuple[dict[str, int], bool]:
    """A request's dims over the stored ones (a name given in the request wins), and its
    ``allow_unresolved`` where given, else the stored one."""
    merged = {**stored[0], **(dims or {})}
    return merged, stored[1] if allow_unresolved is None else bool(allow_unresolved)


def check_dims(dims: Mapping[str, int], field: str, max_dim: int) -> None:
    """Each bound size within ``MODEL_MAX_DIM`` (a dimension's size is an ONNX dim)."""
    for name, size in dims.items():
        if size < 1 or size > max_dim:
            raise InputError(
                f"{field}: size of {name!r} must be in 1..{max_dim} (MODEL_MAX_DIM); got {size}"
            )


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
        dims, allow = stored_binding(row.summary)
        return ModelSource(
            ref=str(path),
            identity=f"sha256:{row.sha256}",
            label=row.name,
            dims=dims,
            allow_unresolved=allow,
        )
    assert ref.zoo is not None  # guaranteed by ModelRef's validator
    from codesign_playground.workload.zoo import zoo_entry

    entry = zoo_entry(ref.zoo)
    knobs = ref.knobs.given() if ref.knobs is not None else {}
    return ModelSource(ref=entry.name, identity=f"zoo:{entry.name}", label=entry.name, knobs=knobs)


_NetworkKey = tuple[str, int, str | None, tuple[tuple[str, int], ...], bool, str]
_NETWORKS: OrderedDict[_NetworkKey, Network] = OrderedDict()
_NETWORKS_LOCK = threading.Lock()


def load_network(
    source: ModelSource,
    *,
    batch: int,
    precision: str | None,
    dims: Mapping[str, int] | None = None,
    allow_unresolved: bool | None = None,
) -> Network:
    """``load_workload`` with a small per-process LRU (networks are immutable).

    ``dims`` and ``allow_unresolved`` apply over what the model was uploaded with."""
    bound, allow = model_binding((source.dims, source.allow_unresolved), dims, allow_unresolved)
    knobs = json.dumps(source.knobs, sort_keys=True)
    key = (source.ref, batch, precision, tuple(sorted(bound.items())), allow, knobs)
    with _NETWORKS_LOCK:
        net = _NETWORKS.get(key)
        if net is not None:
            _NETWORKS.move_to_end(key)
            return net
    prec = parse_precision(precision) if precision else None
    net = load_workload(
        source.ref,
        batch=batch,
        precision=prec,
        dims=bound or None,
        allow_unresolved=allow,
        **source.knobs,
    )
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
    binding: tuple[Mapping[str, int], bool] = ({}, False)
    if request.model.model_id is not None:
        stmt = select(ModelRow.sha256, ModelRow.summary).where(
            ModelRow.id == request.model.model_id
        )
        if owner is not None:
            stmt = stmt.where(ModelRow.owner == owner)
        found = session.execute(stmt).first()
        if found is None:
            raise ModelNotFoundError(
                f"model.model_id: no stored model with id {request.model.model_id}"
            )
        model = f"sha256:{found[0]}"
        binding = stored_binding(found[1])
    else:
        model = f"zoo:{request.model.zoo}"
        if request.model.knobs is not None and request.model.knobs.given():
            model += json.dumps(request.model.knobs.given(), sort_keys=True)
    dims, allow = model_binding(binding, request.dims, request.allow_unresolved)
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
            "dims": dims,
            "allow_unresolved": allow,
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


@dataclass(frozen=True)
class OnnxLimits:
    """What an uploaded graph may hold (``MODEL_MAX_*`` settings)."""

    max_nodes: int = 20000
    max_rank: int = 8
    max_dim: int = 2**24
    max_elements: int = 2**31 - 1


# bytes per element of the ONNX tensor types whose size is fixed (TensorProto.DataType)
_ITEMSIZE = {1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2}
_TYPED_FIELDS = (
    "float_data",
    "int32_data",
    "int64_data",
    "double_data",
    "uint64_data",
    "string_data",
)


def _graphs(graph: Any) -> Iterator[Any]:
    """``graph`` and every subgraph held in node attributes (If, Loop, Scan bodies)."""
    yield graph
    for node in graph.node:
        for attr in node.attribute:
            if attr.HasField("g"):
                yield from _graphs(attr.g)
            for sub in attr.graphs:
                yield from _graphs(sub)


def _check_dims(dims: list[int], where: str, filename: str, limits: OnnxLimits) -> int:
    if len(dims) > limits.max_rank:
        raise InputError(
            f"file: {filename}: {where} has rank {len(dims)}; the limit is {limits.max_rank} "
            "(MODEL_MAX_RANK)"
        )
    elements = 1
    for d in dims:
        if d < 0 or d > limits.max_dim:
            raise InputError(
                f"file: {filename}: {where} has dimension {d}; dimensions must be in "
                f"0..{limits.max_dim} (MODEL_MAX_DIM)"
            )
        elements *= d
    if elements > limits.max_elements:
        raise InputError(
            f"file: {filename}: {where} has {elements} elements; the limit is "
            f"{limits.max_elements} (MODEL_MAX_TENSOR_ELEMENTS)"
        )
    return elements


def _check_tensor(
    t: Any, where: str, filename: str, limits: OnnxLimits, *, external_ok: bool = False
) -> None:
    where = f"{where} {t.name!r}" if t.name else where
    external = t.data_location == 1 or len(t.external_data) > 0  # TensorProto.EXTERNAL
    if external and not external_ok:
        # a node attribute's values are read by the importer: they must be in the file
        raise InputError(
            f"file: {filename}: {where} refers to external data; node attributes must hold "
            "their values (onnx.save(model, path, save_as_external_data=False))"
        )
    elements = _check_dims(list(t.dims), where, filename, limits)
    if external:
        return  # weights left out of the upload: never read, only their shapes count
    if t.raw_data:
        size = _ITEMSIZE.get(t.data_type)
        if size is not None and len(t.raw_data) != elements * size:
            raise InputError(
                f"file: {filename}: {where} declares dims {list(t.dims)} ({elements} elements) "
                f"but holds {len(t.raw_data)} bytes of data; fix the tensor"
            )
        return
    for name in _TYPED_FIELDS:
        n = len(getattr(t, name))
        if n:
            if t.data_type in (14, 15):  # complex numbers take two values each
                n //= 2
            if n != elements and not (name == "int32_data" and t.data_type in (2, 3, 4, 5, 9)):
                raise InputError(
                    f"file: {filename}: {where} declares dims {list(t.dims)} ({elements} "
                    f"elements) but holds {n} values; fix the tensor"
                )
            return


def check_onnx_limits(model: Any, filename: str, limits: OnnxLimits) -> int:
    """Refuse graphs beyond ``limits`` before any import work; returns the node count.

    Checks every graph and subgraph: node count, the rank and dimensions of every declared
    shape and stored tensor, and that each stored tensor's data matches its dims (a Constant
    whose data disagree with its shape is refused here, not in the importer)."""
    graphs = list(_graphs(model.graph))
    nodes = sum(len(g.node) for g in graphs)
    if nodes > limits.max_nodes:
        raise InputError(
            f"file: {filename} has {nodes} nodes; the limit is {limits.max_nodes} (MODEL_MAX_NODES)"
        )
    for g in graphs:
        for t in g.initializer:
            _check_tensor(t, "initializer", filename, limits, external_ok=True)
        for info in [*g.input, *g.output, *g.value_info]:
            tt = info.type.tensor_type
            if tt.HasField("shape"):
                dims = [d.dim_value for d in tt.shape.dim if d.HasField("dim_value")]
                if len(tt.shape.dim) > limits.max_rank:
                    dims = [1] * len(tt.shape.dim)
                _check_dims(dims, f"value {info.name!r}", filename, limits)
        for node in g.node:
            for attr in node.attribute:
                if attr.HasField("t"):
                    _check_tensor(attr.t, f"{node.op_type} node", filename, limits)
                for t in attr.tensors:
                    _check_tensor(t, f"{node.op_type} node", filename, limits)
                if len(attr.ints) > limits.max_elements or len(attr.floats) > limits.max_elements:
                    raise InputError(f"file: {filename}: attribute {attr.name!r} is too long")
    return nodes


def check_onnx_upload(
    path: Path,
    *,
    max_nodes: int,
    filename: str,
    limits: OnnxLimits | None = None,
    dims: Mapping[str, int] | None = None,
    allow_unresolved: bool = False,
) -> tuple[int, dict[str, Any]]:
    """Node count and profile totals of an uploaded file, or an ``InputError`` naming the file.

    ``dims`` binds the graph's symbolic input dimensions (every one but a leading batch axis
    needs a size); an arithmetic op whose shape stays unknown is an ``UnresolvedShapeError``
    naming the node unless ``allow_unresolved``. The summary records both, and how much of
    the graph was left out (``unresolved``, its fractions and ``unresolved_nodes``)."""
    from codesign_playground.workload.importers.onnx_graph import load_onnx, network_from_onnx
    from codesign_playground.workload.profile import totals

    try:
        model = load_onnx(path)
    except ModelFormatError as exc:
        raise ModelFormatError(str(exc).replace(path.name, filename)) from None
    limits = limits or OnnxLimits(max_nodes=max_nodes)
    nodes = check_onnx_limits(model, filename, limits)
    del model
    try:
        net = network_from_onnx(
            path, name=Path(filename).stem, dims=dims, allow_unresolved=allow_unresolved
        )
    except CodesignError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, ArithmeticError, MemoryError) as exc:
        # a hostile or broken graph the importer does not name: refuse it, keep the detail
        _log.warning("upload %s refused by the importer", filename, exc_info=exc)
        raise ModelFormatError(
            f"file: {filename} could not be imported ({type(exc).__name__}); check the graph "
            "with onnx.checker.check_model"
        ) from None
    summary = totals(net) | {
        "model": net.name,
        "inputs": [{"name": t.name, "shape": list(t.shape), "dtype": t.dtype} for t in net.inputs],
        "unmodeled": len(net.unmodeled),
        "unresolved_nodes": [u.name for u in net.unresolved],
        "dims": dict(dims or {}),
        "allow_unresolved": allow_unresolved,
    }
    return nodes, summary
