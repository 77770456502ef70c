"""Job faults at the runner: an early cancel, and errors that must not leak internals."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from codesign_playground.config import Settings
from codesign_playground.service import crud
from codesign_playground.service.core.db import Database, migrate
from codesign_playground.service.jobs import kinds
from codesign_playground.service.jobs.runner import JobContext, JobOutcome, execute
from codesign_playground.service.tables import JobRow

SPACE = {
    "name": "early-cancel",
    "model": {"name": "resnet18"},
    "hardware": {"rows": [8, 16], "cols": [8, 16]},
    "objectives": ["latency", "energy"],
}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[Database, Settings]]:
    settings = Settings(
        codesign_data_dir=tmp_path, secret_key="test-secret", worker_heartbeat_seconds=0.2
    )
    migrate(settings.database_url)
    database = Database(settings)
    yield database, settings
    database.dispose()


def _row(database: Database, job_id: str) -> JobRow:
    with database.session() as s:
        row = s.get(JobRow, job_id)
        assert row is not None
        return row


@pytest.mark.parametrize("strategy", ["grid", "random"])
def test_cancel_before_the_first_batch_ends_cancelled(
    db: tuple[Database, Settings], monkeypatch: pytest.MonkeyPatch, strategy: str
) -> None:
    # before: "failed: KeyError: 'latency_s'" (an empty result had no metric columns)
    database, settings = db
    with database.session() as s:
        job_id = crud.create_job(
            s, owner="local", kind="exploration", params={"space": SPACE, "strategy": strategy}
        ).id

    def cancelled_on_start(ctx: JobContext) -> JobOutcome:
        with database.session() as s:  # the client's cancel lands after the claim
            row = s.get(JobRow, ctx.job_id)
            assert row is not None
            crud.request_cancel(s, job=row)
        return kinds.run_exploration_job(ctx)

    monkeypatch.setitem(kinds.KINDS, "exploration", cancelled_on_start)
    assert execute(database, settings, job_id, worker="w") == "cancelled"
    row = _row(database, job_id)
    assert row.status == "cancelled" and row.error is None
    assert row.result is not None and row.result["evaluations"] == 0


def test_crash_shows_an_error_id_not_the_exception(
    db: tuple[Database, Settings],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    database, settings = db
    secret = "postgresql://admin:hunter2@db.internal:5432/prod"

    def crash(ctx: JobContext) -> JobOutcome:
        raise RuntimeError(f"could not open {secret}")

    monkeypatch.setitem(kinds.KINDS, "test", crash)
    with database.session() as s:
        job_id = crud.create_job(s, owner="local", kind="test", params={}).id
    with caplog.at_level(logging.ERROR, logger="codesign_playground.jobs"):
        assert execute(database, settings, job_id, worker="w") == "failed"
    error = _row(database, job_id).error or ""
    assert secret not in error and "RuntimeError" not in error
    assert "error id" in error
    error_id = error.split("error id ")[1].split(")")[0]
    logged = [r for r in caplog.records if getattr(r, "error_id", None) == error_id]
    assert logged and secret in str(logged[0].exc_info[1] if logged[0].exc_info else "")
