"""Deployments for the service tests: real servers, real PostgreSQL and Redis on 127.0.0.1.

``deployment`` is parametrized over the two modes and started once per session:

* ``distributed``: a fresh PostgreSQL database, a Redis DB number, key prefix and queue of its
  own, ``scripts/init_db.py``, uvicorn on a free port, and a Celery worker subprocess;
* ``embedded``: uvicorn on a free port with no DATABASE_URL/REDIS_URL (SQLite in a temporary
  data folder, in-process worker).

Both run with ``AUTH_MODE=api-key``: an admin key is made with ``codesign keys create``, the
others (``alice`` write, the default of :meth:`Deployment.client`; ``bob`` write; ``alice`` read)
through the admin endpoint.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
DATA_ONNX = REPO / "tests" / "data" / "onnx"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_HOST = "127.0.0.1:6379"
PY = sys.executable

TINY_SPACE: dict[str, Any] = {
    "name": "tiny",
    "model": {"name": "resnet18"},  # replaced by the uploaded model when model_id is given
    "hardware": {"rows": [8, 16], "cols": [8, 16]},
    "objectives": ["latency", "energy"],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def create_pg_database() -> str:
    name = f"codesign_test_{uuid.uuid4().hex[:12]}"
    _pg(f'CREATE DATABASE "{name}"')
    return name


def drop_pg_database(name: str) -> None:
    _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def services_up() -> None:
    """PostgreSQL and Redis must answer; docs/service.md says how to start them."""
    import psycopg
    import redis

    try:
        psycopg.connect(PG_ADMIN, connect_timeout=3).close()
        redis.Redis.from_url(f"redis://{REDIS_HOST}/0", socket_connect_timeout=3).ping()
    except Exception as exc:  # pragma: no cover - environment problem
        pytest.fail(
            f"PostgreSQL on 127.0.0.1:5432 and Redis on {REDIS_HOST} are needed: {exc} "
            "(see docs/service.md, 'Running the tests')"
        )


@pytest.fixture(scope="session")
def resnet18() -> Path:
    return DATA_ONNX / "resnet18.onnx"


class Deployment:
    """One running service: its environment, the API process and (distributed) the worker."""

    def __init__(self, mode: str, root: Path) -> None:
        self.mode = mode
        self.root = root
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.api: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.database: str | None = None
        self.api_log = root / "api.log"
        self.worker_log = root / "worker.log"
        tag = uuid.uuid4().hex[:8]
        self.env = {
            **os.environ,
            "CODESIGN_ENV": "test",
            "CODESIGN_LOG_LEVEL": "INFO",
            "SECRET_KEY": f"test-{uuid.uuid4().hex}",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "CODESIGN_DATA_DIR": str(root / "data"),
            "RATE_LIMIT_PER_MINUTE": "100000",
            "RATE_LIMIT_PER_HOUR": "1000000",
            "MODEL_MAX_UPLOAD_MB": "1",
            "MODEL_MAX_NODES": "150",
            "WORKER_CONCURRENCY": "1",
            "WORKER_HEARTBEAT_SECONDS": "1",
            "JOB_TIME_LIMIT_SECONDS": "120",
            "PYTHONUNBUFFERED": "1",
            "AUTH_MODE": "api-key",
            "FORWARDED_ALLOW_IPS": "",  # uvicorn and the app: no proxy is trusted
        }
        self.keys: dict[str, str] = {}
        for key in ("DATABASE_URL", "REDIS_URL", "CODESIGN_ENV_FILE", "PROMETHEUS_MULTIPROC_DIR"):
            self.env.pop(key, None)
        if mode == "distributed":
            self.database = create_pg_database()
            redis_db = 1 + (os.getpid() + int(tag, 16)) % 15
            self.env |= {
                "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{self.database}",
                "DATABASE_POOL_SIZE": "5",
                "DATABASE_POOL_TIMEOUT": "10",
                "REDIS_URL": f"redis://{REDIS_HOST}/{redis_db}",
                "REDIS_KEY_PREFIX": f"codesign-test-{tag}",
                "JOB_QUEUE": f"codesign-test-{tag}",
            }
            subprocess.run(
                [PY, str(REPO / "scripts" / "init_db.py")],
                env=self.env,
                check=True,
                capture_output=True,
                timeout=60,
            )

    # -- processes ---------------------------------------------------------------------------
    def start_api(self) -> None:
        log = self.api_log.open("ab")
        self.api = subprocess.Popen(
            [
                PY,
                "-m",
                "uvicorn",
                "codesign_playground.server:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            env=self.env,
            stdout=log,
            stderr=log,
            cwd=self.root,
        )
        wait_http(f"{self.base_url}/health", self.api)

    def stop_api(self) -> None:
        stop_process(self.api)
        self.api = None

    def start_worker(self, data_dir: Path | None = None) -> None:
        """The Celery worker (distributed), with a data folder of its own when ``data_dir`` is
        given (as on another machine) instead of the API's."""
        if self.mode != "distributed":
            return
        log = self.worker_log.open("ab")
        env = self.env if data_dir is None else self.env | {"CODESIGN_DATA_DIR": str(data_dir)}
        self.worker = subprocess.Popen(
            [PY, "-m", "codesign_playground.worker"],
            env=env,
            stdout=log,
            stderr=log,
            cwd=self.root,
        )

    def stop_worker(self) -> None:
        stop_process(self.worker, timeout=30)
        self.worker = None

    def wait_ready(self, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        body: dict[str, Any] = {}
        while time.monotonic() < deadline:
            r = httpx.get(f"{self.base_url}/health/ready", timeout=5)
            body = r.json()
            if r.status_code == 200:
                return body
            time.sleep(0.3)
        raise AssertionError(f"not ready after {timeout} s: {body}")

    # -- keys --------------------------------------------------------------------------------
    def cli_key(self, owner: str, scope: str) -> str:
        """A key made with ``codesign keys create`` in this deployment's database."""
        args = ["keys", "create", "--owner", owner, "--scope", scope]
        if self.mode == "embedded":
            args += ["--data-dir", str(self.root / "data")]
        r = subprocess.run(
            [PY, "-m", "codesign_playground.cli.main", *args],
            env=self.env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        key = r.stdout.strip()
        assert key.startswith("csk_") and "\n" not in key, r.stdout
        return key

    def make_keys(self) -> None:
        self.keys["admin"] = admin = self.cli_key("root", "admin")
        with httpx.Client(base_url=self.base_url, timeout=30) as c:
            for name, owner, scope in (
                ("alice", "alice", "write"),
                ("bob", "bob", "write"),
                ("alice-read", "alice", "read"),
            ):
                r = c.post(
                    "/api/v1/keys",
                    json={"owner": owner, "scope": scope},
                    headers={"Authorization": f"Bearer {admin}"},
                )
                assert r.status_code == 201, r.text
                self.keys[name] = r.json()["key"]

    @property
    def api_key(self) -> str:
        """alice's write key: what the flow tests use."""
        return self.keys["alice"]

    def client(self, key: str | None = "alice") -> httpx.Client:
        """A client sending the named key (``None``: no key)."""
        headers = {"Authorization": f"Bearer {self.keys[key]}"} if key else {}
        return httpx.Client(base_url=self.base_url, timeout=60, headers=headers)

    def wait_job(self, job_id: str, timeout: float = 90) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        job: dict[str, Any] = {}
        with self.client() as c:
            while time.monotonic() < deadline:
                job = c.get(f"/api/v1/jobs/{job_id}").json()
                if job["status"] in ("succeeded", "failed", "cancelled"):
                    return job
                time.sleep(0.25)
        raise AssertionError(f"job {job_id} did not finish: {job}")

    def close(self) -> None:
        self.stop_worker()
        self.stop_api()
        if self.database:
            drop_pg_database(self.database)


def wait_http(url: str, proc: subprocess.Popen[bytes] | None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode} before answering {url}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def stop_process(proc: subprocess.Popen[bytes] | None, timeout: float = 20) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


@pytest.fixture(scope="session", params=["distributed", "embedded"])
def deployment(
    request: pytest.FixtureRequest, services_up: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    dep = Deployment(request.param, tmp_path_factory.mktemp(request.param))
    try:
        dep.start_worker()
        dep.start_api()
        dep.wait_ready()
        dep.make_keys()
        yield dep
    finally:
        dep.close()


@pytest.fixture(scope="session")
def stored_model(deployment: Deployment, resnet18: Path) -> dict[str, Any]:
    """resnet18 uploaded once per deployment."""
    with deployment.client() as c, resnet18.open("rb") as f:
        r = c.post("/api/v1/models", files={"file": ("resnet18.onnx", f)})
    assert r.status_code == 201, r.text
    model: dict[str, Any] = r.json()
    return model
