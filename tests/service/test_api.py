"""End-to-end flows against a real server, in both deployment modes."""

from __future__ import annotations

import io
import json
import tarfile
import time
from pathlib import Path
from typing import Any

from codesign_playground.client import CodesignClient

from .conftest import DATA_ONNX, TINY_SPACE, Deployment

PROBLEM = "application/problem+json"


def assert_problem(r: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = r.json()
    assert {"type", "title", "status", "detail", "instance"} <= set(body)
    assert body["status"] == status
    assert "\n" not in body["detail"]
    if field is not None:
        assert field in body["detail"], body["detail"]
    return body


def test_health_ready_and_metrics(deployment: Deployment) -> None:
    with deployment.client() as c:
        assert c.get("/health").json()["status"] == "ok"
        ready = c.get("/health/ready")
        assert ready.status_code == 200
        assert ready.json()["checks"]["workers"] >= 1
        text = c.get("/metrics").text
    for name in (
        "codesign_http_requests_total",
        "codesign_http_request_duration_seconds_bucket",
        "codesign_job_queue_depth",
        "codesign_jobs_finished_total",
        "codesign_exploration_points_per_second",
        "codesign_db_up 1.0",
        "codesign_redis_up 1.0",
        "codesign_workers_alive",
    ):
        assert name in text, name
    assert 'route="/health/ready"' in text


def test_docs_and_dashboard(deployment: Deployment) -> None:
    with deployment.client() as c:
        spec = c.get("/openapi.json").json()
        assert "/api/v1/estimates" in spec["paths"]
        assert c.get("/docs").status_code == 200
        assert c.get("/redoc").status_code == 200
        page = c.get("/")
        assert page.status_code == 200 and "<html" in page.text.lower()
        assert c.get("/static/app.js").status_code == 200


def test_upload_list_profile_estimate(deployment: Deployment, stored_model: dict[str, Any]) -> None:
    assert stored_model["node_count"] == 65
    assert stored_model["summary"]["macs"] > 1e9
    with deployment.client() as c:
        ids = [m["id"] for m in c.get("/api/v1/models").json()["items"]]
        assert stored_model["id"] in ids
        assert (
            c.get(f"/api/v1/models/{stored_model['id']}").json()["sha256"] == stored_model["sha256"]
        )
        prof = c.get(f"/api/v1/models/{stored_model['id']}/profile").json()
        assert prof["totals"]["layers"] == 65
        assert any(z["name"] == "resnet18" for z in c.get("/api/v1/models/zoo").json())
        body = {
            "model": {"model_id": stored_model["id"]},
            "hardware": {
                "spec": c.post(
                    "/api/v1/hardware/templates/systolic", json={"params": {"rows": 16, "cols": 16}}
                ).json()
            },
            "precision": "int8",
        }
        first = c.post("/api/v1/estimates", json=body)
        assert first.status_code == 200, first.text
        assert first.headers["x-cache"] == "MISS"
        second = c.post("/api/v1/estimates", json=body)
        assert second.headers["x-cache"] == "HIT"
        assert second.json()["cached"] is True
        assert second.json()["estimate"] == first.json()["estimate"]
        totals = first.json()["estimate"]["totals"]
        assert totals["latency_s"] > 0 and totals["energy_j"] > 0
        assert first.json()["estimate"]["model"] == "resnet18"
        chip = c.post(
            "/api/v1/estimates",
            json={
                "model": {"zoo": "resnet18"},
                "hardware": {"chip": "a100"},
                "include_layers": False,
            },
        )
        assert chip.status_code == 200 and "layers" not in chip.json()["estimate"]
        # every answer says what it ran with and where each default came from
        settings = chip.json()["estimate"]["settings"]
        assert settings["precision"] == {
            "value": "fp32",
            "source": "default: fp32, which the hardware computes",
        }
        assert settings["batch"] == {"value": 1, "source": "default: 1"}
        assert settings["timing_model"]["value"] == "gpu"
        assert settings["launch"]["value"] == "graph"
        assert first.json()["estimate"]["settings"]["precision"]["source"] == "asked"


def test_hardware_catalog_templates_store(deployment: Deployment) -> None:
    with deployment.client() as c:
        catalog = c.get("/api/v1/hardware/catalog").json()
        assert any(chip["id"] == "tpu-v1" for chip in catalog)
        assert c.get("/api/v1/hardware/catalog/a100").json()["kind"]
        kinds = {t["kind"] for t in c.get("/api/v1/hardware/templates").json()}
        assert {"systolic", "vector", "spatial", "gpu"} <= kinds
        spec = c.post("/api/v1/hardware/templates/systolic", json={"params": {"rows": 8}}).json()
        assert c.post("/api/v1/hardware/validate", json={"spec": spec}).json()["valid"] is True
        stored = c.post("/api/v1/hardware", json={"spec": spec})
        assert stored.status_code == 201
        hw_id = stored.json()["id"]
        assert hw_id in [h["id"] for h in c.get("/api/v1/hardware").json()]
        assert c.get(f"/api/v1/hardware/{hw_id}").json()["spec"]["compute"]["rows"] == 8


def test_bad_requests_are_problems_and_lose_nothing(
    deployment: Deployment, stored_model: dict[str, Any], tmp_path: Path
) -> None:
    with deployment.client() as c:
        before_models = c.get("/api/v1/models").json()["items"]
        before_hw = c.get("/api/v1/hardware").json()
        assert_problem(
            c.post("/api/v1/models", files={"file": ("bad.onnx", b"not onnx")}), 422, "bad.onnx"
        )
        assert_problem(c.post("/api/v1/models", files={"file": ("m.txt", b"x")}), 415, "file")
        big = b"\0" * (1024 * 1024 + 10)
        assert_problem(c.post("/api/v1/models", files={"file": ("big.onnx", big)}), 413, "file")
        with (DATA_ONNX / "mobilenet_v2.onnx").open("rb") as f:
            nodes = c.post("/api/v1/models", files={"file": ("mobilenet_v2.onnx", f)})
        assert_problem(nodes, 422, "MODEL_MAX_NODES")
        assert_problem(c.post("/api/v1/models"), 422, "file")
        v = assert_problem(
            c.post(
                "/api/v1/estimates", json={"model": {"model_id": 5}, "hardware": {"chip": "a100"}}
            ),
            422,
            "model.model_id",
        )
        assert v["errors"][0]["field"] == "model.model_id"
        assert_problem(
            c.post(
                "/api/v1/estimates",
                content=b"{not json",
                headers={"content-type": "application/json"},
            ),
            422,
        )
        assert_problem(
            c.post(
                "/api/v1/estimates",
                json={"model": {"zoo": "resnet18"}, "hardware": {"chip": "no-such-chip"}},
            ),
            422,
            "no-such-chip",
        )
        assert_problem(
            c.post(
                "/api/v1/estimates",
                json={"model": {"model_id": "no-such-model"}, "hardware": {"chip": "a100"}},
            ),
            404,
            "model_id",
        )
        assert_problem(
            c.post(
                "/api/v1/estimates",
                json={
                    "model": {"model_id": stored_model["id"]},
                    "hardware": {"chip": "tpu-v1"},
                    "precision": "fp16",  # TPU v1 computes in int8 only
                },
            ),
            422,
            "precision",
        )
        assert_problem(
            c.post("/api/v1/hardware", json={"spec": {"name": "x", "kind": "systolic"}}), 422
        )
        assert_problem(
            c.post("/api/v1/hardware/validate", json={"spec": {"name": "x"}}), 422, "kind"
        )
        assert_problem(c.get("/api/v1/models/123456"), 404, "123456")
        assert_problem(c.get("/api/v1/models/" + "x" * 65), 422, "model_id")
        assert_problem(c.get("/api/v1/no-such-thing"), 404)
        assert_problem(c.delete("/api/v1/models"), 405, "DELETE")
        assert_problem(c.post("/api/v1/rtl", json={"rows": 1, "cols": 4}), 422, "rows")
        assert_problem(c.post("/api/v1/explorations", json={"space": {"model": {}}}), 422, "space")
        assert_problem(c.get("/api/v1/jobs/nope"), 404, "nope")
        assert_problem(c.get("/api/v1/models", headers={"host": "evil.example"}), 400, "host")
        # nothing was lost or added
        assert c.get("/api/v1/models").json()["items"] == before_models
        assert c.get("/api/v1/hardware").json() == before_hw
        ok = c.post(
            "/api/v1/estimates",
            json={"model": {"model_id": stored_model["id"]}, "hardware": {"chip": "a100"}},
        )
        assert ok.status_code == 200


def test_exploration_job_to_pareto_front(
    deployment: Deployment, stored_model: dict[str, Any]
) -> None:
    seen: list[dict[str, Any]] = []
    with CodesignClient(deployment.base_url, api_key=deployment.api_key) as api:
        job = api.start_exploration(TINY_SPACE, model_id=stored_model["id"])
        assert job["status"] in ("queued", "running", "succeeded")
        done = api.wait(job["id"], progress=seen.append, timeout=120)
        assert done["status"] == "succeeded", done
        assert seen and seen[-1]["status"] == "succeeded"
        assert done["progress"]["evaluated"] == 4
        assert done["progress"]["total"] == 4
        front = api.exploration_front(job["id"])
        assert front["count"] >= 1
        assert {"rows", "cols", "latency_s", "energy_j"} <= set(front["front"][0])
        results = api.exploration_results(job["id"])
        assert results["points_total"] == 4 and len(results["points"]) == 4
        assert "<html" in api.exploration_report(job["id"]).lower()
        assert job["id"] in [j["id"] for j in api.list_explorations()]
        with tarfile.open(fileobj=io.BytesIO(api.download_artifact(job["id"]))) as tar:
            assert "report/front.csv" in tar.getnames()
        # cancelling a finished job changes nothing
        assert api.cancel(job["id"])["status"] == "succeeded"
    with deployment.client() as c:
        metrics = c.get("/metrics").text
    line = next(
        x
        for x in metrics.splitlines()
        if x.startswith("codesign_exploration_points_evaluated_total")
    )
    assert float(line.split()[-1]) >= 4


def test_rtl_job_artifact(deployment: Deployment) -> None:
    with CodesignClient(deployment.base_url, api_key=deployment.api_key) as api:
        job = api.start_rtl(rows=4, cols=4, dataflow="os", data_width=8)
        done = api.wait(job["id"], timeout=60)
        assert done["status"] == "succeeded", done
        assert done["artifact_name"] == "4x4-os-int8.tar.gz"
        data = api.download_artifact(job["id"])
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        names = tar.getnames()
    assert any(n.endswith(".v") for n in names)
    assert "4x4-os-int8/design.json" in names
    with deployment.client() as c:
        assert c.get(f"/api/v1/rtl/{job['id']}").json()["kind"] == "rtl"
        missing = c.get(f"/api/v1/explorations/{job['id']}")  # wrong kind
        assert missing.status_code == 404


def test_logs_are_json_lines(deployment: Deployment) -> None:
    with deployment.client() as c:  # at least one logged estimate request, whatever ran before
        r = c.post(
            "/api/v1/estimates",
            json={"model": {"zoo": "mobilenet_v2"}, "hardware": {"chip": "tpu-v1"},
                  "include_layers": False},  # no precision: the chip's own (int8)
        )  # fmt: skip
        assert r.status_code == 200, r.text
    parsed: list[dict[str, Any]] = []
    for _ in range(50):  # the access line is written just after the answer is sent
        lines = [x for x in deployment.api_log.read_text().splitlines() if x.strip()]
        parsed = [json.loads(x) for x in lines]  # every line is one JSON object
        if any(p.get("route") == "/api/v1/estimates" for p in parsed):
            break
        time.sleep(0.1)
    assert parsed, "no JSON log lines"
    assert all({"ts", "level", "logger", "message"} <= set(p) for p in parsed)
    assert any(p.get("route") == "/api/v1/estimates" for p in parsed)
