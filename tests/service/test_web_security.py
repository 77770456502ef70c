"""Browser-facing safety: escaped and sandboxed reports, CSP, Origin checks, CORS, hosts, and
the start-up rules of AUTH_MODE.

Before: an exploration named ``<script>...</script>`` was served raw in the report with no CSP,
cross-origin multipart uploads were accepted, ``codesign serve --host 0.0.0.0`` allowed any
Host (DNS rebinding) and served everything without a key.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from codesign_playground.config import Settings
from codesign_playground.service.main import create_app

from .conftest import DATA_ONNX, PY, free_port, stop_process

XSS = "<script>alert('xss')</script><img src=x onerror=alert(1)>"


def _settings(tmp_path: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "codesign_data_dir": tmp_path / "data",
        "allowed_hosts": ["testserver"],
        "secret_key": "test-secret",
        "codesign_log_level": "WARNING",
    }
    return Settings(**(values | extra))


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(_settings(tmp_path))) as c:
        yield c


def test_report_escapes_names_and_is_sandboxed(client: TestClient) -> None:
    space = {
        "name": XSS,
        "model": {"name": "resnet18"},
        "hardware": {"rows": [8], "cols": [8]},
        "objectives": ["latency", "energy"],
    }
    job = client.post("/api/v1/explorations", json={"space": space})
    assert job.status_code == 202, job.text
    job_id = job.json()["id"]
    deadline = time.monotonic() + 120
    status = ""
    while time.monotonic() < deadline:
        status = client.get(f"/api/v1/jobs/{job_id}").json()["status"]
        if status in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(0.3)
    assert status == "succeeded", client.get(f"/api/v1/jobs/{job_id}").json()
    report = client.get(f"/api/v1/explorations/{job_id}/report")
    assert report.status_code == 200
    assert report.headers["content-type"].startswith("text/html")
    html = report.text
    assert "<script>alert(" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(" in html
    csp = report.headers["content-security-policy"]
    assert csp.startswith("sandbox allow-scripts;") and "allow-same-origin" not in csp
    assert "connect-src 'none'" in csp and "frame-ancestors 'none'" in csp


def test_every_answer_has_a_content_security_policy(client: TestClient) -> None:
    dashboard = client.get("/")
    csp = dashboard.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp.split("style-src")[0]
    assert "frame-ancestors 'none'" in csp
    page = dashboard.text
    assert "<script>" not in page and " on" not in page.split("<body>")[1].split("<script")[0]
    docs = client.get("/docs")
    docs_csp = docs.headers["content-security-policy"]
    assert "script-src 'self' 'sha256-" in docs_csp and "https:" not in docs_csp
    assert "'unsafe-inline'" not in docs_csp.split("style-src")[0]  # scripts: hashes only
    assert client.get("/redoc").status_code == 200
    for path in ("/api/v1/models", "/health", "/api/v1/no-such-route"):
        assert client.get(path).headers["content-security-policy"].startswith("default-src 'none'")


def test_dashboard_script_never_writes_html(client: TestClient) -> None:
    """No module of the workbench writes markup or evaluates strings (the vendored Plotly is
    the strict bundle, built without function constructors)."""
    from importlib import resources

    static = resources.files("codesign_playground.web") / "static"
    names = (
        ["app.js"]
        + [f"js/{p.name}" for p in (static / "js").iterdir() if p.name.endswith(".js")]
        + [
            f"js/views/{p.name}"
            for p in (static / "js" / "views").iterdir()
            if p.name.endswith(".js")
        ]
    )
    assert len(names) >= 10
    code = ""
    for name in names:
        served = client.get(f"/static/{name}")
        assert served.status_code == 200, name
        lines = served.text.splitlines()
        code += "\n".join(line for line in lines if not line.lstrip().startswith("//"))
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                 "new Function", "setTimeout(\"", "setAttribute(\"on"):  # fmt: skip
        assert sink not in code, sink
    assert "authorization" in code  # the key is sent when the server asks for one
    assert client.get("/static/vendor/plotly.min.js").status_code == 200  # vendored, no CDN
    assert "cdn" not in client.get("/").text.lower()


def test_cross_origin_state_changes_are_refused(client: TestClient) -> None:
    data = (DATA_ONNX / "resnet18.onnx").read_bytes()
    before = client.get("/api/v1/models").json()["count"]
    for origin in ("https://evil.example", "null", "http://testserver.evil.example"):
        r = client.post(
            "/api/v1/models", files={"file": ("r.onnx", data)}, headers={"Origin": origin}
        )
        assert r.status_code == 403, (origin, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["detail"].startswith("Origin:")
        rtl = client.post("/api/v1/rtl", json={"rows": 4, "cols": 4}, headers={"Origin": origin})
        assert rtl.status_code == 403
    assert client.get("/api/v1/models").json()["count"] == before
    assert client.get("/api/v1/jobs").json()["count"] == 0
    # the dashboard's own origin, and clients that send no Origin, pass
    same = client.post(
        "/api/v1/models",
        files={"file": ("r.onnx", data)},
        headers={"Origin": "http://testserver"},
    )
    assert same.status_code == 201, same.text
    assert client.post("/api/v1/models", files={"file": ("r.onnx", data)}).status_code == 201
    # reading is not a state change: a GET with a foreign Origin is answered (no CORS header)
    got = client.get("/api/v1/models", headers={"Origin": "https://evil.example"})
    assert got.status_code == 200 and "access-control-allow-origin" not in got.headers


def test_cors_origins_are_the_only_cross_origin_writers(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path, cors_origins=["https://ui.example.org"]))
    with TestClient(app) as c:
        pre = c.options(
            "/api/v1/rtl",
            headers={
                "Origin": "https://ui.example.org",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        assert pre.status_code == 200
        assert pre.headers["access-control-allow-origin"] == "https://ui.example.org"
        assert "authorization" in pre.headers["access-control-allow-headers"].lower()
        ok = c.post(
            "/api/v1/rtl", json={"rows": 4, "cols": 4}, headers={"Origin": "https://ui.example.org"}
        )
        assert ok.status_code == 202
        assert ok.headers["access-control-allow-origin"] == "https://ui.example.org"
        bad = c.options(
            "/api/v1/rtl",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in bad.headers
        refused = c.post(
            "/api/v1/rtl", json={"rows": 4, "cols": 4}, headers={"Origin": "https://evil.example"}
        )
        assert refused.status_code == 403
        # deleting is a write too: the listed origin may (preflight), a foreign one may not
        job_id = ok.json()["id"]
        pre_delete = c.options(
            f"/api/v1/jobs/{job_id}",
            headers={"Origin": "https://ui.example.org", "Access-Control-Request-Method": "DELETE"},
        )
        assert pre_delete.status_code == 200
        assert "DELETE" in pre_delete.headers["access-control-allow-methods"]
        foreign = c.delete(f"/api/v1/jobs/{job_id}", headers={"Origin": "https://evil.example"})
        assert foreign.status_code == 403
        assert c.get(f"/api/v1/jobs/{job_id}").status_code == 200


def test_auth_mode_none_only_for_the_local_embedded_server(tmp_path: Path) -> None:
    base = {"codesign_data_dir": tmp_path, "secret_key": "s3cret-value"}
    assert Settings(**base).auth_mode == "none"  # the README quick start: no key on loopback
    assert Settings(**base, api_host="0.0.0.0").auth_mode == "api-key"
    assert Settings(**base, redis_url="redis://127.0.0.1:6379/0").auth_mode == "api-key"
    assert Settings(**base, codesign_env="production").auth_mode == "api-key"
    for bad in (
        {"redis_url": "redis://127.0.0.1:6379/0"},
        {"codesign_env": "staging"},
        {"codesign_env": "production"},
        {"api_host": "0.0.0.0"},
        {"api_host": "192.168.1.10"},
    ):
        with pytest.raises(ValidationError, match="AUTH_MODE: none is allowed only"):
            Settings(**base, auth_mode="none", **bad)
    with pytest.raises(ValidationError, match="ALLOWED_HOSTS"):
        Settings(**base, codesign_env="production", allowed_hosts=["*"])


def test_auth_mode_none_refuses_requests_on_a_public_address(tmp_path: Path) -> None:
    settings = _settings(tmp_path, allowed_hosts=["testserver", "10.1.2.3"])
    assert settings.auth_mode == "none"
    with TestClient(create_app(settings), base_url="http://10.1.2.3") as c:
        r = c.get("/api/v1/models")
        assert r.status_code == 401 and "loopback" in r.json()["detail"]


def _serve(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [PY, "-m", "codesign_playground.cli.main", "serve", *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


def test_serve_on_all_interfaces_needs_keys_and_known_hosts(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {"CODESIGN_LOG_LEVEL": "WARNING", "AUTH_MODE": "none"}
    port = free_port()
    data = tmp_path / "data"
    refused = subprocess.run(
        [PY, "-m", "codesign_playground.cli.main", "serve", "--host", "0.0.0.0",
         "--port", str(port), "--data-dir", str(data)],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "AUTH_MODE: none is allowed only on loopback" in refused.stderr
    env.pop("AUTH_MODE")
    proc = _serve(["--host", "0.0.0.0", "--port", str(port), "--data-dir", str(data)], env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("codesign serve --host 0.0.0.0 did not answer")
        for host in ("evil.example", "attacker.rebind.example"):
            r = httpx.get(f"{base}/api/v1/models", headers={"Host": host})
            assert r.status_code == 400 and "ALLOWED_HOSTS" in r.json()["detail"]
        assert httpx.get(f"{base}/api/v1/models").status_code == 401
        made = subprocess.run(
            [PY, "-m", "codesign_playground.cli.main", "keys", "create", "--owner", "me",
             "--scope", "admin", "--data-dir", str(data)],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        key = made.stdout.strip()
        r = httpx.get(f"{base}/api/v1/models", headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 200
    finally:
        stop_process(proc)
    assert proc.stdout is not None
    banner = proc.stdout.read().decode()
    assert "AUTH_MODE=api-key" in banner and "accepted host names" in banner
    assert "*" not in banner.split("accepted host names (ALLOWED_HOSTS):")[1].splitlines()[0]
