"""The workbench in a real browser: ``codesign serve`` (embedded SQLite, in-process worker) on
a free port, driven by Playwright for Python through Debian's Chromium (/usr/bin/chromium;
Playwright's own browser builds are never downloaded)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, base: str, data_dir: Path) -> None:
        self.base = base
        self.data_dir = data_dir
        self.api = f"{base}/api/v1"


def start_server(data_dir: Path, **env_extra: str) -> tuple[subprocess.Popen[bytes], Server]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {"CODESIGN_LOG_LEVEL": "WARNING", **env_extra}
    proc = subprocess.Popen(
        [sys.executable, "-m", "codesign_playground.cli.main", "serve", "--port", str(port),
         "--data-dir", str(data_dir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"codesign serve exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return proc, Server(base, data_dir)
        except httpx.HTTPError:
            time.sleep(0.3)
    stop(proc)
    raise RuntimeError("codesign serve did not answer /health within 90 s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    proc, srv = start_server(tmp_path_factory.mktemp("workbench") / "data")
    try:
        yield srv
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            yield b
        finally:
            b.close()


class ConsoleErrors(list[str]):
    """Console errors and uncaught exceptions of a page (asserted empty at the end)."""

    def attach(self, page: Any) -> None:
        page.on("console", lambda m: self.append(f"console: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.append(f"pageerror: {e}"))
