"""The API additions the workbench reads: zoo knobs on estimates and profiles, checking a space
document (JSON or YAML), report files one by one, resuming a cancelled exploration, a job's
server-sent event stream, and RTL simulation/synthesis results."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from codesign_playground.config import Settings
from codesign_playground.service.main import create_app

SPACE = {
    "name": "api-grid",
    "model": {"name": "resnet18"},
    "hardware": {"template": "systolic", "rows": [4, 8], "cols": [4, 8]},
    "objectives": ["latency", "energy"],
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(
        codesign_data_dir=tmp_path_factory.mktemp("wb") / "data",
        allowed_hosts=["testserver"],
        secret_key="test-secret",
        codesign_log_level="WARNING",
        rate_limit_enabled=False,
    )
    with TestClient(create_app(settings)) as c:
        yield c


def _wait(c: TestClient, job_id: str, timeout_s: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job: dict[str, Any] = c.get(f"/api/v1/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish")


def _problem(r: Any, status: int, starts: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["detail"].startswith(starts), r.json()["detail"]


def test_zoo_knobs_reach_profile_and_estimate(client: TestClient) -> None:
    full = client.get("/api/v1/models/zoo/resnet18/profile").json()["totals"]["macs"]
    small = client.get("/api/v1/models/zoo/resnet18/profile?resolution=112").json()
    assert small["totals"]["macs"] < full / 3.5  # a quarter of the pixels, minus the head
    body = {
        "model": {"zoo": "resnet18", "knobs": {"resolution": 112}},
        "hardware": {"chip": "h100-sxm5"},
        "include_layers": False,
    }
    est = client.post("/api/v1/estimates", json=body).json()["estimate"]
    assert est["totals"]["macs"] == small["totals"]["macs"]
    plain = client.post(
        "/api/v1/estimates", json=body | {"model": {"zoo": "resnet18"}}
    ).json()  # a different cache key: the knobs are part of it
    assert plain["estimate"]["totals"]["macs"] == full and plain["cached"] is False
    wrong = {"model": {"zoo": "resnet18", "knobs": {"seq_len": 9}}}
    _problem(
        client.post("/api/v1/estimates", json=body | wrong),
        422,
        "seq_len: resnet18 does not take seq_len",
    )
    bad = client.post(
        "/api/v1/estimates", json=body | {"model": {"model_id": "abc", "knobs": {"width": 0.5}}}
    )
    assert bad.status_code == 422 and "knobs apply to zoo models only" in bad.text


def test_validate_space_json_and_yaml(client: TestClient) -> None:
    r = client.post("/api/v1/explorations/validate", json={"space": SPACE}).json()
    assert r["grid_points"] == 4 and r["space"] == SPACE
    assert {"name": "rows", "section": "hardware", "values": [4, 8]} in r["knobs"]
    assert r["objectives"] == ["latency", "energy"]
    yaml_text = (
        "name: y\nmodel: {name: resnet18}\nhardware: {rows: [8, 16, 32]}\nobjectives: [latency]\n"
    )
    assert (
        client.post("/api/v1/explorations/validate", json={"yaml": yaml_text}).json()["grid_points"]
        == 3
    )
    _problem(
        client.post("/api/v1/explorations/validate", json={"yaml": "name: [a"}),
        422,
        "yaml: not valid YAML at line 1",
    )
    _problem(
        client.post("/api/v1/explorations/validate", json={"yaml": "- 1\n- 2\n"}),
        422,
        "yaml: the document must be a mapping",
    )
    _problem(
        client.post(
            "/api/v1/explorations/validate",
            json={"space": SPACE | {"model": {"name": "/etc/passwd"}}},
        ),
        422,
        "space.model.name: '/etc/passwd' is not a zoo model",
    )
    both = client.post("/api/v1/explorations/validate", json={"space": SPACE, "yaml": "a: 1"})
    assert both.status_code == 422 and "exactly one of space or yaml" in both.text


def test_report_files_and_event_stream(client: TestClient) -> None:
    job = client.post("/api/v1/explorations", json={"space": SPACE}).json()
    with client.stream("GET", f"/api/v1/jobs/{job['id']}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = [json.loads(line[6:]) for line in stream.iter_lines() if line.startswith("data: ")]
    assert events[-1]["status"] == "succeeded" and events[-1]["progress"]["evaluated"] == 4
    assert all(e["id"] == job["id"] for e in events)
    assert len({json.dumps(e, sort_keys=True) for e in events}) == len(events)  # changes only
    base = f"/api/v1/explorations/{job['id']}/files"
    csv = client.get(f"{base}/points.csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    assert len(csv.text.strip().splitlines()) == 5
    table = pq.read_table(io.BytesIO(client.get(f"{base}/points.parquet").content))
    assert table.num_rows == 4 and "latency_s" in table.column_names
    html = client.get(f"{base}/report.html")
    assert html.headers["content-security-policy"].startswith("sandbox allow-scripts;")
    assert client.get(f"{base}/front.csv").status_code == 200
    assert client.get(f"{base}/secrets.txt").status_code == 422
    _problem(client.get(f"/api/v1/jobs/{'0' * 36}/events"), 404, "job_id: no job with id")


def test_cancel_then_resume_continues_from_the_checkpoint(client: TestClient) -> None:
    # random search in batches of 5 on a 225-point grid: a cancel is seen between batches
    # (a grid job evaluates its whole grid in one vectorized chunk), long before 1,000 points
    space = SPACE | {
        "name": "resumable",
        "hardware": {
            "template": "systolic",
            "rows": [4, 8, 16, 32, 64],
            "cols": [4, 8, 16, 32, 64],
            "dataflow": ["ws", "os", "is"],
            "ifmap_sram_kb": [32, 64, 128],
        },
        "search": {"strategy": "random", "budget": 1000, "batch_size": 5, "seed": 0},
    }
    job = client.post("/api/v1/explorations", json={"space": space}).json()
    done = client.post(f"/api/v1/explorations/{job['id']}/resume")
    _problem(done, 409, f"job_id: exploration {job['id']} is ")  # queued or running
    deadline = time.monotonic() + 120
    while client.get(f"/api/v1/jobs/{job['id']}").json()["progress"].get("evaluated", 0) < 10:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    client.post(f"/api/v1/explorations/{job['id']}/cancel")
    stopped = _wait(client, job["id"])
    assert stopped["status"] == "cancelled"
    first = stopped["progress"]["evaluated"]
    assert 10 <= first < 1000
    resumed = client.post(f"/api/v1/explorations/{job['id']}/resume")
    assert resumed.status_code == 202 and resumed.json()["status"] == "queued"
    assert resumed.json()["cancel_requested"] is False
    # batches of 5 each pay the systolic ring replay's fold loop (systolic._RING_FOLDS)
    final = _wait(client, job["id"], timeout_s=600)
    assert final["status"] == "succeeded" and final["error"] is None
    result = client.get(f"/api/v1/explorations/{job['id']}/results").json()
    # the resumed run added only the missing evaluations
    assert result["evaluations"] == 1000 and result["points_total"] == 1000
    _problem(
        client.post(f"/api/v1/explorations/{job['id']}/resume"),
        409,
        f"job_id: exploration {job['id']} is succeeded",
    )


def test_rtl_result_with_simulation_and_synthesis(client: TestClient, tmp_path: Path) -> None:
    job = client.post(
        "/api/v1/rtl", json={"rows": 2, "cols": 2, "simulate": True, "synthesize": True}
    ).json()
    assert job["params"]["simulate"] is True
    final = _wait(client, job["id"])
    assert final["status"] == "succeeded", final["error"]
    res = client.get(f"/api/v1/rtl/{job['id']}/result").json()
    assert res["label"] == "2x2-ws-int8" and "systolic_top.v" in res["files"]
    sim = res["simulation"]
    assert sim["ok"] is True and len(sim["cases"]) == 8 and "waves" not in sim
    assert all(c["mismatches"] == 0 for c in sim["cases"])
    syn = res["synthesis"]
    assert syn["target"] == "generic" and syn["summary"]["cells"] > 0 and "netlist" not in syn
    plain = client.post("/api/v1/rtl", json={"rows": 2, "cols": 2}).json()
    assert (
        "simulation"
        not in client.get(f"/api/v1/rtl/{_wait(client, plain['id'])['id']}/result").json()
    )
