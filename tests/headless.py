"""Headless Chromium for the tests that look at pages (the workbench, the API docs, the job
reports) and for scripts/screenshots.py and benchmarks/bench_web.py: Debian's Chromium
(``apt-get install chromium``), never a browser build downloaded by Playwright; and
``codesign serve`` on a free port for it to look at.

Tests get it through the fixtures of tests/conftest.py: ``chromium`` (its path), ``dump_dom``
(``chromium --headless --dump-dom``: the DOM after the page's scripts ran) and ``browser`` (a
Playwright browser). Where Chromium is missing they skip with "Chromium is not installed",
which tests/allowed_skips.txt does not list: in CI that skip fails the run."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

CHROMIUM: str | None = (
    shutil.which("chromium")
    or shutil.which("chromium-browser")
    or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
)
SKIP_REASON = "Chromium is not installed"

# in a container: no sandbox (no user namespaces), no GPU, and a /dev/shm too small for it
LAUNCH_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage")
# a command-line run talks to nobody but the page: no QUIC, first-run UI, updates or sync
QUIET_ARGS = (
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
# offline: every host but this machine fails to resolve
OFFLINE_ARG = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"


def dump_dom(
    url: str, profile: Path, *, offline: bool = False, budget_ms: int = 15_000, timeout: float = 180
) -> str:
    """The DOM of ``url`` after ``budget_ms`` of virtual time (Chromium's own clock, which
    waits for the page's requests), with a fresh user profile in ``profile``."""
    if CHROMIUM is None:
        raise RuntimeError(SKIP_REASON)
    args = [CHROMIUM, "--headless", *LAUNCH_ARGS, *QUIET_ARGS, f"--user-data-dir={profile}"]
    if offline:
        args.append(OFFLINE_ARG)
    args += [f"--virtual-time-budget={budget_ms}", "--dump-dom", url]
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=True).stdout


def launch(playwright: Any) -> Any:
    """A headless Chromium driven by Playwright (``playwright.sync_api``)."""
    if CHROMIUM is None:
        raise RuntimeError(SKIP_REASON)
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A running ``codesign serve``: its base URL, the API's and its data folder."""

    def __init__(self, base: str, data_dir: Path) -> None:
        self.base = base
        self.data_dir = data_dir
        self.api = f"{base}/api/v1"


def start_server(data_dir: Path, **env_extra: str) -> tuple[subprocess.Popen[bytes], Server]:
    """``codesign serve`` (embedded SQLite, in-process worker) on a free port of 127.0.0.1,
    with ``env_extra`` over this process's environment (less DATABASE_URL and REDIS_URL),
    once it answers /health; ``stop`` ends it (its whole process group)."""
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


@contextmanager
def serve(data_dir: Path, **env_extra: str) -> Iterator[Server]:
    """``start_server`` as a context: stopped on the way out."""
    proc, server = start_server(data_dir, **env_extra)
    try:
        yield server
    finally:
        stop(proc)
