"""Helpers for the workbench's browser tests and benchmarks/bench_web.py: ``codesign serve``
(embedded SQLite, in-process worker) on a free port, and a data folder holding N stored jobs."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from tests import headless
from tests.headless import Server, stop

__all__ = ["REPO", "ConsoleErrors", "Server", "seed_jobs", "start_server", "stop"]

REPO = Path(__file__).resolve().parents[2]


def start_server(data_dir: Path, **env_extra: str) -> tuple[subprocess.Popen[bytes], Server]:
    """``codesign serve`` for the workbench's tests (tests/headless.py). A test clicks through
    pages far faster than a person: the per-minute limit (60 by default) is raised so the run
    exercises the workbench, not the limiter (tests/service and tests/web/test_rate_limit.py
    cover that)."""
    return headless.start_server(data_dir, **{"RATE_LIMIT_PER_MINUTE": "1000", **env_extra})


class ConsoleErrors(list[str]):
    """Console errors and uncaught exceptions of a page (asserted empty at the end).

    ``allow`` names (url substring, status) pairs a test provokes on purpose (a bad document
    answered with a 422 problem is logged by Chromium as a failed resource load)."""

    def __init__(self, allow: tuple[tuple[str, int], ...] = ()) -> None:
        super().__init__()
        self.allow = allow

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        url = str((message.location or {}).get("url", ""))
        for part, status in self.allow:
            if part in url and f"status of {status}" in message.text:
                return
        self.append(f"console: {message.text} ({url})")

    def attach(self, page: Any) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.append(f"pageerror: {e}"))


def seed_jobs(data_dir: Path, count: int) -> None:
    """Store ``count`` exploration and RTL jobs in ``data_dir``'s SQLite database, as clients
    that queued them and cancelled them before a worker claimed them leave them (so the
    server's worker has nothing to run)."""
    from codesign_playground.config import Settings
    from codesign_playground.service import crud
    from codesign_playground.service.core.db import Database, migrate

    settings = Settings(codesign_data_dir=data_dir, codesign_log_level="WARNING")
    data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.database_url)
    db = Database(settings)
    try:
        with db.session() as s:
            for i in range(count):
                kind, params = (
                    "exploration",
                    {
                        "space": {
                            "name": f"seeded-{i}",
                            "model": {"name": "resnet18"},
                            "hardware": {"rows": [8, 16], "cols": [8, 16]},
                            "objectives": ["latency", "energy"],
                        },
                        "model_id": None,
                        "strategy": None,
                        "budget": None,
                        "seed": None,
                    },
                )
                if i % 4 == 3:
                    kind, params = (
                        "rtl",
                        {
                            "rows": 4,
                            "cols": 4,
                            "dataflow": "ws",
                            "data_width": 8,
                            "acc_width": None,
                            "buffer_depth": 512,
                            "name": "systolic_top",
                        },
                    )
                job = crud.create_job(s, owner="local", kind=kind, params=params)
                crud.request_cancel(s, job=job)
    finally:
        db.dispose()
