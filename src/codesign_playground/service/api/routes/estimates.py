"""Estimates: latency, energy and area of a model on hardware, cached."""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

from fastapi import APIRouter, Response

from codesign_playground.perf.estimate import estimate
from codesign_playground.service.analysis import (
    check_dims,
    estimate_key,
    hardware_spec,
    load_network,
    resolve_model,
)
from codesign_playground.service.api.deps import CacheDep, SessionDep, SettingsDep
from codesign_playground.service.core.metrics import CACHE_REQUESTS, ESTIMATE_SECONDS
from codesign_playground.service.core.security import PrincipalDep
from codesign_playground.service.schemas import EstimateRequest
from codesign_playground.workload.profile import unresolved_summary

router = APIRouter(prefix="/estimates", tags=["estimates"])


@router.post("")
def create_estimate(
    session: SessionDep,
    settings: SettingsDep,
    cache: CacheDep,
    principal: PrincipalDep,
    body: EstimateRequest,
) -> Response:
    """Estimate a model on hardware (cached for CACHE_TTL_SECONDS; ``X-Cache`` says HIT/MISS)."""
    owner = principal.owner_filter
    key = estimate_key(session, body, owner=owner)
    try:
        hit = cache.get(key)
    except Exception:
        hit = None  # a cache outage must not fail the request
    if hit is not None:
        CACHE_REQUESTS.labels("hit").inc()
        return _response(hit, key, cached=True)
    CACHE_REQUESTS.labels("miss").inc()
    started = time.perf_counter()
    source = resolve_model(session, body.model, settings.codesign_data_dir, owner=owner)
    spec = hardware_spec(session, body.hardware, owner=owner)
    sources = {
        "precision": spec.precision_source(body.precision),
        "batch": "asked" if "batch" in body.model_fields_set else "default: 1",
    }
    precision = spec.run_precision(body.precision)  # as the CLI: int8 on a TPU v1
    if body.dims:
        check_dims(body.dims, "dims", settings.model_max_dim)
    net = load_network(
        source,
        batch=body.batch,
        precision=precision,
        dims=body.dims,
        allow_unresolved=body.allow_unresolved,
    )
    launch = body.launch if "launch" in body.model_fields_set else None
    est = estimate(net, spec, mode=body.mode, launch=launch, tf32=body.tf32, sources=sources)
    data: dict[str, Any] = est.to_dict()
    if not body.include_layers:
        data.pop("layers", None)
    if source.dims or body.dims:
        data["settings"]["dims"] = {
            "value": {**source.dims, **(body.dims or {})},
            "source": _dims_source(source.dims, body.dims),
        }
    if net.unresolved:  # the estimate leaves these ops out: say how much, as the CLI does
        data["unresolved"] = unresolved_summary(net)
    ESTIMATE_SECONDS.observe(time.perf_counter() - started)
    payload = json.dumps(data, separators=(",", ":")).encode()
    with contextlib.suppress(Exception):
        cache.set(key, payload)
    return _response(payload, key, cached=False)


def _dims_source(stored: dict[str, int], asked: dict[str, int] | None) -> str:
    if not asked:
        return "bound at upload"
    if set(asked) >= set(stored):
        return "asked"
    return "asked, the rest bound at upload"


def _response(payload: bytes, key: str, *, cached: bool) -> Response:
    body = b'{"cached":%s,"key":"%s","estimate":%s}' % (
        b"true" if cached else b"false",
        key.encode(),
        payload,
    )
    return Response(
        body, media_type="application/json", headers={"X-Cache": "HIT" if cached else "MISS"}
    )
