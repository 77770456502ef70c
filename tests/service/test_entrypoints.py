"""The other ways to start the service: gunicorn with uvicorn workers, and ``codesign serve``."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from .conftest import PY, Deployment, free_port, stop_process, wait_http


def test_gunicorn_with_uvicorn_workers(deployment: Deployment, tmp_path: Path) -> None:
    if deployment.mode != "distributed":
        pytest.skip("one gunicorn run, against the distributed deployment's database")
    port = free_port()
    env = deployment.env | {"API_WORKERS": "2", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [
            PY,
            "-m",
            "gunicorn",
            "codesign_playground.server:app",
            "-k",
            env.get("API_WORKER_CLASS", "uvicorn.workers.UvicornWorker"),
            "-w",
            env["API_WORKERS"],
            "-b",
            f"127.0.0.1:{port}",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=deployment.root,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/health", proc)
        key = {"Authorization": f"Bearer {deployment.api_key}"}
        for _ in range(6):
            r = httpx.get(f"http://127.0.0.1:{port}/api/v1/models", headers=key)
            assert r.status_code == 200
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        assert (
            'codesign_http_requests_total{method="GET",route="/api/v1/models",status="200"} 6.0'
            in metrics
        )
    finally:
        stop_process(proc)


def test_codesign_serve_embedded(services_up: None, tmp_path: Path) -> None:
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "CODESIGN_LOG_LEVEL": "WARNING",
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        "REDIS_URL": "redis://127.0.0.1:1/0",
    }
    proc = subprocess.Popen(
        [
            PY,
            "-m",
            "codesign_playground.cli.serve",
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/health", proc)
        base = f"http://127.0.0.1:{port}"
        assert "codesign-playground" in httpx.get(f"{base}/").text
        ready = httpx.get(f"{base}/health/ready").json()
        assert ready["status"] == "ready" and ready["mode"] == "embedded"
        assert (tmp_path / "data" / "codesign.db").is_file()
    finally:
        stop_process(proc)
