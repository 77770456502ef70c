"""Bounded input: every oversized or out-of-range request is a 4xx problem naming the field,
answered before any work (in-process app, embedded mode)."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from codesign_playground.config import Settings
from codesign_playground.service.main import create_app

from .hostile import CORPUS

PROBLEM = "application/problem+json"
SPACE: dict[str, Any] = {
    "name": "bounds",
    "model": {"name": "resnet18"},
    "hardware": {"rows": [8, 16], "cols": [8, 16]},
    "objectives": ["latency", "energy"],
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(
        codesign_env="test",
        secret_key="test-limits",
        codesign_data_dir=tmp_path_factory.mktemp("limits"),
        rate_limit_enabled=False,
        model_max_upload_mb=8,
        model_max_nodes=20000,
        api_max_body_kb=64,
        worker_concurrency=1,
        allowed_hosts=["testserver"],
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        yield c


def problem(r: Any, status: int, field: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = r.json()
    assert field in body["detail"], body["detail"]
    return body


def explore(client: TestClient, **changes: Any) -> Any:
    body: dict[str, Any] = {"space": dict(SPACE)}
    for key, value in changes.items():
        if key == "hardware":
            body["space"] = body["space"] | {"hardware": value}
        elif key == "search":
            body["space"] = body["space"] | {"search": value}
        elif key == "accuracy":
            body["space"] = body["space"] | {"accuracy": value, "objectives": ["accuracy"]}
        else:
            body[key] = value
    return client.post("/api/v1/explorations", json=body)


def test_huge_range_num_is_refused_without_expanding(client: TestClient) -> None:
    # once expanded into a Python list at submission (memory exhausted, no answer)
    r = explore(client, hardware={"rows": {"min": 1, "max": 64, "num": 1_000_000_000}})
    problem(r, 422, "hardware.rows")


def test_space_size_is_computed_not_enumerated(client: TestClient) -> None:
    # 100k x 100k step ranges: 90 s of request CPU before (quadratic de-duplication)
    t0 = time.process_time()
    r = explore(
        client,
        hardware={
            "rows": {"min": 1, "max": 100_000, "step": 1},
            "cols": {"min": 1, "max": 100_000, "step": 1},
        },
    )
    problem(r, 422, "EXPLORE_MAX_POINTS")
    assert time.process_time() - t0 < 5  # generous: the check is O(knobs)


@pytest.mark.parametrize(
    "hardware",
    [
        {"rows": {"min": 1, "max": 1e308, "step": 1e-300}},
        {"clock_hz": {"min": 1, "max": 1e300, "factor": 1.0000000001}},
    ],
)
def test_range_step_and_factor_bounds(client: TestClient, hardware: dict[str, Any]) -> None:
    problem(explore(client, hardware=hardware), 422, f"hardware.{next(iter(hardware))}")


def test_large_but_allowed_range_deduplicates_fast(tmp_path: Path) -> None:
    from codesign_playground.explore.space import space_from_dict, space_knobs

    space = space_from_dict(SPACE | {"hardware": {"rows": {"min": 1, "max": 100_000, "step": 1}}})
    t0 = time.process_time()
    knobs = space_knobs(space)
    assert len(knobs[0].values) == 100_000
    assert time.process_time() - t0 < 10  # was quadratic: minutes


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"seed": -1}, "seed"),
        ({"seed": 2**32}, "seed"),
        ({"search": {"seed": -1}}, "search.seed"),
        ({"budget": 0}, "budget"),
        ({"budget": 10**9}, "budget"),
        ({"search": {"budget": 10**12}}, "search.budget"),
        ({"search": {"batch_size": 10**9}}, "search.batch_size"),
        ({"accuracy": {"measure": "digits", "epochs": 10**6}}, "accuracy.epochs"),
        ({"model_id": 2**63}, "model_id"),
        ({"model_id": 2**70}, "model_id"),
    ],
)
def test_search_numbers_in_range(client: TestClient, changes: dict[str, Any], field: str) -> None:
    problem(explore(client, **changes), 422, field)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/models?offset=9223372036854775808",
        "/api/v1/jobs?offset=99999999999999999999",
        "/api/v1/explorations?offset=4294967296",
        "/api/v1/hardware?offset=-1",
    ],
)
def test_integers_beyond_the_database_are_422(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith(PROBLEM)


@pytest.mark.parametrize(
    "path",
    [  # ids are random strings now: a number is just an id nobody has (before: 500s)
        "/api/v1/models/0/profile",
        "/api/v1/models/9223372036854775808",
        "/api/v1/models/99999999999999999999999/profile",
        "/api/v1/hardware/18446744073709551616",
        "/api/v1/models/2147483647",
    ],
)
def test_numeric_ids_are_404_problems(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404, r.text
    assert r.headers["content-type"].startswith(PROBLEM)


def test_an_id_of_the_wrong_type_is_a_422_naming_the_field(client: TestClient) -> None:
    r = client.post(
        "/api/v1/estimates",
        json={"model": {"model_id": 2147483647}, "hardware": {"chip": "tpu-v1"}},
    )
    problem(r, 422, "model.model_id")


def test_json_body_size_limit(client: TestClient) -> None:
    big = {"space": SPACE | {"hardware": {"rows": list(range(1, 40_000))}}}
    r = client.post("/api/v1/explorations", json=big)
    problem(r, 413, "body")
    # the same without a Content-Length (chunked): counted as it arrives

    def chunks() -> Iterator[bytes]:
        data = json.dumps(big).encode()
        for i in range(0, len(data), 4096):
            yield data[i : i + 4096]

    r = client.post(
        "/api/v1/explorations", content=chunks(), headers={"content-type": "application/json"}
    )
    problem(r, 413, "body")


def test_deeply_nested_json_is_a_client_error(client: TestClient) -> None:
    body = b'{"space": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"
    r = client.post(
        "/api/v1/explorations", content=body, headers={"content-type": "application/json"}
    )
    assert 400 <= r.status_code < 500, r.text


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_hostile_onnx_corpus(client: TestClient, name: str) -> None:
    data = CORPUS[name]()
    r = client.post("/api/v1/models", files={"file": (f"{name}.onnx", data)})
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith(PROBLEM)
        detail = r.json()["detail"]
        assert detail.startswith(("file:", "model:")), detail
        assert "\n" not in detail


def test_constant_with_external_data_is_refused(client: TestClient) -> None:
    r = client.post(
        "/api/v1/models", files={"file": ("e.onnx", CORPUS["external_data_constant"]())}
    )
    problem(r, 422, "file")
    assert "root:" not in r.text


def test_constant_dims_disagreeing_with_data_is_422(client: TestClient) -> None:
    r = client.post(
        "/api/v1/models", files={"file": ("c.onnx", CORPUS["constant_dims_disagree"]())}
    )
    problem(r, 422, "file")
    assert "dims" in r.json()["detail"]


def _rtl_client(tmp_path: Path, **limits: Any) -> TestClient:
    settings = Settings(
        codesign_env="test",
        secret_key="test-limits",
        codesign_data_dir=tmp_path,
        rate_limit_enabled=False,
        worker_concurrency=1,
        allowed_hosts=["testserver"],
        **limits,
    )
    return TestClient(create_app(settings), raise_server_exceptions=False)


def _finished(client: TestClient, job_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


def test_rtl_synthesis_above_the_pe_limit_is_422(client: TestClient) -> None:
    """CODESIGN_SYNTH_MAX_PES (default 256) bounds rows x cols of a synthesis request only."""
    body = {"rows": 16, "cols": 17, "synthesize": True}
    r = client.post("/api/v1/rtl", json=body)
    detail = problem(r, 422, "rows")["detail"]
    assert detail.startswith("rows: ") and "\n" not in detail
    assert "CODESIGN_SYNTH_MAX_PES = 256" in detail and "16 x 17 = 272" in detail
    assert r.json()["errors"][0]["field"] == "rows"
    # the schema's own bound is unchanged: 65 is refused, synthesis or not
    problem(client.post("/api/v1/rtl", json={"rows": 65, "cols": 2}), 422, "rows")


@pytest.mark.skipif(shutil.which("yosys") is None, reason="yosys is not installed")
def test_rtl_synthesis_limits_reach_the_worker(tmp_path: Path) -> None:
    """CODESIGN_SYNTH_MAX_PES at its bound, CODESIGN_SYNTH_MEMORY_MB and
    CODESIGN_SYNTH_TIMEOUT_SECONDS as the in-process worker's Yosys runs under them (real
    Yosys: a 4x4 array needs more than 64 MB of address space, and more than 1 s)."""
    with _rtl_client(tmp_path / "small", codesign_synth_max_pes=16) as c:
        problem(c.post("/api/v1/rtl", json={"rows": 4, "cols": 5, "synthesize": True}), 422, "16")
        # without synthesis the old bound stands: a 64 x 64 array is generated
        big = c.post("/api/v1/rtl", json={"rows": 64, "cols": 64})
        assert big.status_code == 202, big.text
        assert _finished(c, big.json()["id"])["status"] == "succeeded"
        at_limit = c.post("/api/v1/rtl", json={"rows": 4, "cols": 4, "synthesize": True})
        assert at_limit.status_code == 202, at_limit.text
        job = _finished(c, at_limit.json()["id"])
        assert job["status"] == "succeeded", job
        result = c.get(f"/api/v1/rtl/{job['id']}/result").json()
        assert result["synthesis"]["summary"]["cells"] > 0
    for limits, says in (
        ({"codesign_synth_memory_mb": 64}, "CODESIGN_SYNTH_MEMORY_MB = 64"),
        ({"codesign_synth_timeout_seconds": 1}, "no result within 1 s"),
    ):
        with _rtl_client(tmp_path / next(iter(limits)), **limits) as c:
            r = c.post("/api/v1/rtl", json={"rows": 4, "cols": 4, "synthesize": True})
            job = _finished(c, r.json()["id"])
            assert job["status"] == "failed", job
            assert says in job["error"] and "\n" not in job["error"], job["error"]
            assert "CODESIGN_SYNTH_TIMEOUT_SECONDS" in job["error"]
