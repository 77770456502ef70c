"""The REST estimate request carries the GPU model's launch mode and TF32 switch."""

from __future__ import annotations

from typing import Any, cast

import pytest
from pydantic import ValidationError

from codesign_playground.service.analysis import estimate_key
from codesign_playground.service.schemas import EstimateRequest


def _req(**kw: Any) -> EstimateRequest:
    return EstimateRequest.model_validate(
        {"model": {"zoo": "resnet18"}, "hardware": {"chip": "h200-sxm"}, "mode": "gpu", **kw}
    )


def test_defaults_are_graph_and_pytorch_tf32() -> None:
    r = _req()
    assert r.launch == "graph"
    assert r.tf32 is None


def test_bad_values_are_rejected_by_field() -> None:
    with pytest.raises(ValidationError, match="launch"):
        _req(launch="jit")
    with pytest.raises(ValidationError, match="tf32"):
        _req(tf32="maybe")


def test_cache_key_depends_on_launch_and_tf32() -> None:
    session = cast(Any, None)  # zoo model and catalog chip: the key needs no database
    keys = {
        estimate_key(session, _req(), owner="local"),
        estimate_key(session, _req(launch="eager"), owner="local"),
        estimate_key(session, _req(tf32="off"), owner="local"),
    }
    assert len(keys) == 3
