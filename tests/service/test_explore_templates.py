"""Exploration jobs over any hardware template and mixed spaces, through the HTTP API."""

from __future__ import annotations

from typing import Any

from codesign_playground.client import CodesignClient

from .conftest import Deployment

MIXED_SPACE: dict[str, Any] = {
    "name": "mixed-api",
    "model": {"name": "resnet18", "resolution": 64},
    "hardware": [  # each alternative at its own precision (GPUs: floating point)
        {"template": "systolic", "rows": [16, 32], "cols": 32, "precision": "int8"},
        {"template": "spatial", "label": "eyeriss", "precision": "int8"},
        {"template": "catalog", "label": "gpu", "chip": "a100", "precision": "fp16"},
    ],
    "objectives": ["latency", "energy"],
}


def test_mixed_space_job_prices_every_template(deployment: Deployment) -> None:
    with CodesignClient(deployment.base_url, api_key=deployment.api_key) as api:
        job = api.start_exploration(MIXED_SPACE)
        done = api.wait(job["id"], timeout=180)
        assert done["status"] == "succeeded", done
        assert done["progress"]["evaluated"] == 4
        results = api.exploration_results(job["id"])
        designs = {p["design"] for p in results["points"]}
        assert designs == {"systolic", "eyeriss", "gpu"}
        assert all(p["latency_s"] > 0 and p["energy_j"] > 0 for p in results["points"])
        report = api.exploration_report(job["id"])
        assert "gpu: feasible" in report or "gpu: Pareto front" in report  # its own colour
