"""Shared fixtures: paths to the real model graphs shipped in ../shared/data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_ONNX = REPO.parent / "shared" / "data" / "onnx"


@pytest.fixture(scope="session")
def onnx_dir() -> Path:
    if not (SHARED_ONNX / "resnet18.onnx").exists():
        pytest.skip(f"shared ONNX graphs not found at {SHARED_ONNX}")
    return SHARED_ONNX


@pytest.fixture(scope="session")
def onnx_reference(onnx_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((onnx_dir / "reference.json").read_text())
    return data
