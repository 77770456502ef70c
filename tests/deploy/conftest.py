"""Real processes for the deployment tests: uvicorn and the worker on PostgreSQL and Redis.

PostgreSQL (trust auth, user postgres) and Redis must run on 127.0.0.1:5432 and :6379
(docs/operations.md says how to start them). Every database created here has a unique name and
is dropped afterwards; Redis keys and the job queue get a unique prefix.
"""

from __future__ import annotations

import os
import shutil
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
PY = sys.executable
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS = "127.0.0.1:6379"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def new_database(prefix: str = "codesign_deploy") -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    pg(f'CREATE DATABASE "{name}"')
    return name


def drop_database(name: str) -> None:
    pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_url(database: str) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{database}"


def stop(proc: subprocess.Popen[bytes] | None, timeout: float = 30) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


class Service:
    """The API (``uvicorn codesign_playground.server:app``) and optionally the worker."""

    def __init__(self, root: Path, database: str, *, redis: bool, extra: dict[str, str]) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        tag = uuid.uuid4().hex[:8]
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k
            not in ("DATABASE_URL", "REDIS_URL", "CODESIGN_ENV_FILE", "PROMETHEUS_MULTIPROC_DIR")
        }
        self.env |= {
            "CODESIGN_ENV": "test",
            "SECRET_KEY": f"deploy-test-{uuid.uuid4().hex}",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "CODESIGN_DATA_DIR": str(root / "data"),
            "DATABASE_URL": pg_url(database),
            "DATABASE_POOL_SIZE": "5",
            "DATABASE_POOL_TIMEOUT": "10",
            "WORKER_CONCURRENCY": "1",
            "WORKER_HEARTBEAT_SECONDS": "1",
            "JOB_TIME_LIMIT_SECONDS": "120",
            "PYTHONUNBUFFERED": "1",
            **extra,
        }
        if redis:
            self.env |= {
                "REDIS_URL": f"redis://{REDIS}/{1 + int(tag, 16) % 15}",
                "REDIS_KEY_PREFIX": f"codesign-deploy-{tag}",
                "JOB_QUEUE": f"codesign-deploy-{tag}",
            }
        self.api: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.api_key: str | None = None

    def create_key(self, owner: str = "deploy", scope: str = "admin") -> str:
        """An API key made with ``codesign keys create`` in this service's database."""
        r = subprocess.run(
            [PY, "-m", "codesign_playground.cli.main", "keys", "create", "--owner", owner,
             "--scope", scope],
            env=self.env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert r.returncode == 0, f"codesign keys create failed:\n{r.stdout}\n{r.stderr}"
        return r.stdout.strip().splitlines()[-1]

    def migrate(self) -> None:
        r = subprocess.run(
            [PY, str(REPO / "scripts" / "init_db.py")],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert r.returncode == 0, f"scripts/init_db.py failed:\n{r.stdout}\n{r.stderr}"

    def _spawn(self, args: list[str], log: str) -> subprocess.Popen[bytes]:
        out = (self.root / log).open("ab")
        return subprocess.Popen(args, env=self.env, stdout=out, stderr=out, cwd=self.root)

    def start_api(self) -> None:
        self.api = self._spawn(
            [
                PY,
                "-m",
                "uvicorn",
                "codesign_playground.server:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            "api.log",
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.api.poll() is not None:
                code = self.api.returncode
                raise AssertionError(f"API exited with {code}: {self.log('api.log')}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"/health did not answer: {self.log('api.log')}")

    def start_worker(self) -> None:
        self.worker = self._spawn([PY, "-m", "codesign_playground.worker"], "worker.log")

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        body: Any = None
        while time.monotonic() < deadline:
            if self.worker is not None and self.worker.poll() is not None:
                raise AssertionError(f"worker exited: {self.log('worker.log')}")
            r = httpx.get(f"{self.base_url}/health/ready", timeout=5)
            body = r.text
            if r.status_code == 200:
                return
            time.sleep(0.3)
        raise AssertionError(f"not ready: {body}\n{self.log('worker.log')}")

    def log(self, name: str) -> str:
        p = self.root / name
        return p.read_text(errors="replace")[-3000:] if p.exists() else ""

    def client(self) -> httpx.Client:
        """A client with an admin key (needed when AUTH_MODE is api-key: with Redis)."""
        if self.api_key is None:
            self.api_key = self.create_key()
        headers = {"Authorization": f"Bearer {self.api_key}"}
        return httpx.Client(base_url=self.base_url, timeout=120, headers=headers)

    def stop(self) -> None:
        stop(self.worker)
        stop(self.api)
        self.worker = self.api = None


@pytest.fixture(scope="session")
def datastores() -> None:
    """PostgreSQL and Redis answer on 127.0.0.1 (docs/operations.md, 'Tests')."""
    import psycopg
    import redis

    try:
        psycopg.connect(PG_ADMIN, connect_timeout=3).close()
        redis.Redis.from_url(f"redis://{REDIS}/0", socket_connect_timeout=3).ping()
    except Exception as exc:  # pragma: no cover - environment problem
        pytest.fail(f"PostgreSQL on 127.0.0.1:5432 and Redis on {REDIS} are needed: {exc}")


@pytest.fixture
def database(datastores: None) -> Iterator[str]:
    name = new_database()
    try:
        yield name
    finally:
        drop_database(name)


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is needed (Debian: postgresql-client)")
    return path
