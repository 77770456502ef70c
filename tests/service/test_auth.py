"""Authentication and owner isolation against the real servers (AUTH_MODE=api-key, both modes).

Before owners and keys existed, any client listed, read, used, downloaded and cancelled every
object, and model ids were sequential; each test below failed then.
"""

from __future__ import annotations

import io
import re
import subprocess
import time
from typing import Any

import httpx
import pytest

from .conftest import DATA_ONNX, PY, TINY_SPACE, Deployment

PROBLEM = "application/problem+json"


def _problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = r.json()
    assert body["status"] == status and "\n" not in body["detail"]
    return body


@pytest.fixture(scope="session")
def alice_objects(deployment: Deployment, stored_model: dict[str, Any]) -> dict[str, Any]:
    """alice's model (stored_model), hardware description and finished RTL job."""
    with deployment.client("alice") as c:
        spec = c.post("/api/v1/hardware/templates/systolic", json={"params": {"rows": 8}}).json()
        hw = c.post("/api/v1/hardware", json={"spec": spec})
        assert hw.status_code == 201, hw.text
        job = c.post("/api/v1/rtl", json={"rows": 4, "cols": 4})
        assert job.status_code == 202, job.text
    done = deployment.wait_job(job.json()["id"])
    assert done["status"] == "succeeded", done
    return {"model": stored_model, "hardware": hw.json(), "job": done}


def test_no_key_or_a_wrong_key_is_401(deployment: Deployment) -> None:
    with deployment.client(None) as c:
        for method, path in (
            ("GET", "/api/v1/models"),
            ("GET", "/api/v1/jobs"),
            ("GET", "/api/v1/hardware/catalog"),
            ("POST", "/api/v1/rtl"),
            ("GET", "/api/v1/keys"),
        ):
            r = c.request(method, path, json={"rows": 4, "cols": 4})
            body = _problem(r, 401)
            assert r.headers["www-authenticate"] == "Bearer"
            assert "Authorization" in body["detail"]
        for token in ("csk_not-a-key", "not-even-the-prefix", "a.b.c"):
            r = c.get("/api/v1/models", headers={"Authorization": f"Bearer {token}"})
            _problem(r, 401)
        # probes and the dashboard stay open
        assert c.get("/health").status_code == 200
        assert c.get("/health/ready").status_code == 200
        assert c.get("/").status_code == 200


def test_public_ids_are_random_not_sequential(deployment: Deployment) -> None:
    with deployment.client("alice") as c:
        spec = c.post("/api/v1/hardware/templates/systolic", json={"params": {"rows": 4}}).json()
        ids = [c.post("/api/v1/hardware", json={"spec": spec}).json()["id"] for _ in range(3)]
    for value in ids:
        assert isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_-]{16}", value), value
        assert not value.isdigit()
    assert len(set(ids)) == 3


def test_other_owner_gets_404_and_empty_lists(
    deployment: Deployment, alice_objects: dict[str, Any]
) -> None:
    model_id = alice_objects["model"]["id"]
    hw_id = alice_objects["hardware"]["id"]
    job_id = alice_objects["job"]["id"]
    assert alice_objects["model"]["owner"] == "alice"
    with deployment.client("bob") as c:
        for path in (
            f"/api/v1/models/{model_id}",
            f"/api/v1/models/{model_id}/profile",
            f"/api/v1/hardware/{hw_id}",
            f"/api/v1/jobs/{job_id}",
            f"/api/v1/rtl/{job_id}",
            f"/api/v1/rtl/{job_id}/artifact",
        ):
            body = _problem(c.get(path), 404)
            assert "alice" not in body["detail"]
        _problem(c.post(f"/api/v1/jobs/{job_id}/cancel"), 404)
        _problem(c.post(f"/api/v1/rtl/{job_id}/cancel"), 404)
        estimate = {"model": {"model_id": model_id}, "hardware": {"chip": "a100"}}
        _problem(c.post("/api/v1/estimates", json=estimate), 404)
        by_hw = {"model": {"zoo": "resnet18"}, "hardware": {"hardware_id": hw_id}}
        _problem(c.post("/api/v1/estimates", json=by_hw), 404)
        exploration = {"space": TINY_SPACE, "model_id": model_id}
        _problem(c.post("/api/v1/explorations", json=exploration), 404)
        # lists hold none of alice's objects
        assert model_id not in [m["id"] for m in c.get("/api/v1/models").json()["items"]]
        assert hw_id not in [h["id"] for h in c.get("/api/v1/hardware").json()]
        for path in ("/api/v1/jobs", "/api/v1/rtl", "/api/v1/jobs?kind=rtl"):
            assert job_id not in [j["id"] for j in c.get(path).json()["items"]]
    with deployment.client("alice") as c:  # the owner still sees everything of hers
        assert c.get(f"/api/v1/jobs/{job_id}").json()["status"] == "succeeded"
        assert c.get(f"/api/v1/rtl/{job_id}/artifact").status_code == 200
        assert model_id in [m["id"] for m in c.get("/api/v1/models").json()["items"]]
    with deployment.client("admin") as c:  # admins see every owner's objects
        assert c.get(f"/api/v1/models/{model_id}").json()["owner"] == "alice"
        assert job_id in [j["id"] for j in c.get("/api/v1/jobs").json()["items"]]
        assert hw_id in [h["id"] for h in c.get("/api/v1/hardware").json()]


def test_read_key_cannot_create_or_cancel(
    deployment: Deployment, alice_objects: dict[str, Any]
) -> None:
    job_id = alice_objects["job"]["id"]
    with deployment.client("alice-read") as c:
        before = c.get("/api/v1/jobs").json()["count"]
        spec = c.post("/api/v1/hardware/templates/systolic", json={"params": {"rows": 8}})
        assert spec.status_code == 200  # computing is reading
        attempts = [
            c.post("/api/v1/hardware", json={"spec": spec.json()}),
            c.post("/api/v1/rtl", json={"rows": 4, "cols": 4}),
            c.post("/api/v1/explorations", json={"space": TINY_SPACE}),
            c.post(f"/api/v1/jobs/{job_id}/cancel"),
            c.post("/api/v1/keys", json={"owner": "mallory", "scope": "admin"}),
        ]
        with (DATA_ONNX / "resnet18.onnx").open("rb") as f:
            attempts.append(c.post("/api/v1/models", files={"file": ("r.onnx", f)}))
        for r in attempts:
            body = _problem(r, 403)
            assert "scope" in body["detail"]
        # reads and pure computations work with the read key, on alice's own objects
        assert c.get(f"/api/v1/jobs/{job_id}").status_code == 200
        estimate = {
            "model": {"model_id": alice_objects["model"]["id"]},
            "hardware": {"hardware_id": alice_objects["hardware"]["id"]},
            "include_layers": False,
        }
        assert c.post("/api/v1/estimates", json=estimate).status_code == 200
        assert c.get("/api/v1/jobs").json()["count"] == before
        assert c.get("/api/v1/me").json() == {
            "owner": "alice",
            "scope": "read",
            "via": "api-key",
            "auth_mode": "api-key",
        }


def test_keys_are_admin_only_and_revocation_is_immediate(deployment: Deployment) -> None:
    with deployment.client("alice") as c:
        _problem(c.get("/api/v1/keys"), 403)
        _problem(c.post("/api/v1/keys", json={"owner": "x", "scope": "read"}), 403)
    with deployment.client("admin") as c:
        made = c.post("/api/v1/keys", json={"owner": "carol", "scope": "write"}).json()
        key = made["key"]
        assert key.startswith("csk_") and len(key) >= 40
        listed = c.get("/api/v1/keys").json()
        mine = next(k for k in listed if k["id"] == made["id"])
        assert "key" not in mine and mine["prefix"] == key[: len(mine["prefix"])]
        assert all(key not in str(k) for k in listed)  # never shown again
        carol = {"Authorization": f"Bearer {key}"}
        assert c.get("/api/v1/models", headers=carol).status_code == 200
        revoked = c.post(f"/api/v1/keys/{made['id']}/revoke").json()
        assert revoked["revoked_at"] is not None
        _problem(c.get("/api/v1/models", headers=carol), 401)
        _problem(c.post("/api/v1/keys/key_missing/revoke"), 404)


def test_keys_cli_lists_and_revokes(deployment: Deployment) -> None:
    key = deployment.cli_key("dave", "read")
    where = ["--data-dir", str(deployment.root / "data")] if deployment.mode == "embedded" else []
    listing = subprocess.run(
        [PY, "-m", "codesign_playground.cli.main", "keys", "list", *where],
        env=deployment.env | {"COLUMNS": "200"}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert listing.returncode == 0, listing.stderr
    assert "dave" in listing.stdout and key not in listing.stdout
    key_id = next(line.split()[1] for line in listing.stdout.splitlines() if "dave" in line)
    headers = {"Authorization": f"Bearer {key}"}
    assert httpx.get(f"{deployment.base_url}/api/v1/models", headers=headers).status_code == 200
    revoke = subprocess.run(
        [PY, "-m", "codesign_playground.cli.main", "keys", "revoke", key_id, *where],
        env=deployment.env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert revoke.returncode == 0, revoke.stderr
    deadline = time.monotonic() + 15  # another process: within the 5 s lookup cache
    status = 200
    while time.monotonic() < deadline and status != 401:
        status = httpx.get(f"{deployment.base_url}/api/v1/models", headers=headers).status_code
        time.sleep(0.5)
    assert status == 401
    bad = subprocess.run(
        [PY, "-m", "codesign_playground.cli.main", "keys", "create", "--owner", "x",
         "--scope", "root", *where],
        env=deployment.env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2 and "scope" in bad.stderr and "Traceback" not in bad.stderr


def test_uploads_keep_their_owner(deployment: Deployment) -> None:
    with deployment.client("bob") as c:
        data = (DATA_ONNX / "resnet18.onnx").read_bytes()
        r = c.post("/api/v1/models", files={"file": ("bob.onnx", io.BytesIO(data))})
        assert r.status_code == 201, r.text
        assert r.json()["owner"] == "bob"
        bob_model = r.json()["id"]
    with deployment.client("alice") as c:
        _problem(c.get(f"/api/v1/models/{bob_model}"), 404)
