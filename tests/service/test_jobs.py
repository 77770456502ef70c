"""The job runner on its own: retries, cancellation of a running job, the time limit."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from codesign_playground.config import Settings
from codesign_playground.errors import InputError
from codesign_playground.service import crud
from codesign_playground.service.core.db import Database, migrate
from codesign_playground.service.jobs import kinds
from codesign_playground.service.jobs.inprocess import InProcessWorker, backoff_s
from codesign_playground.service.jobs.runner import (
    JobContext,
    JobOutcome,
    TransientJobError,
    execute,
)
from codesign_playground.service.tables import JobRow


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[Database, Settings]]:
    settings = Settings(
        codesign_data_dir=tmp_path,
        secret_key="test-secret",
        job_time_limit_seconds=1,
        job_max_retries=2,
        worker_heartbeat_seconds=0.2,
    )
    migrate(settings.database_url)
    database = Database(settings)
    yield database, settings
    database.dispose()


def _job(database: Database, kind: str = "test") -> str:
    with database.session() as s:
        return crud.create_job(s, owner="test", kind=kind, params={}).id


def _status(database: Database, job_id: str) -> JobRow:
    with database.session() as s:
        row = s.get(JobRow, job_id)
        assert row is not None
        return row


def test_transient_errors_retry_then_fail(
    db: tuple[Database, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    database, settings = db
    calls: list[int] = []

    def flaky(ctx: JobContext) -> JobOutcome:
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("SELECT 1", {}, Exception("connection reset"))
        return JobOutcome(result={"ok": True})

    monkeypatch.setitem(kinds.KINDS, "test", flaky)
    job_id = _job(database)
    with pytest.raises(TransientJobError):
        execute(database, settings, job_id, worker="w")
    row = _status(database, job_id)
    assert row.status == "queued" and row.attempts == 1 and "transient" in (row.error or "")
    assert execute(database, settings, job_id, worker="w") == "succeeded"
    assert _status(database, job_id).attempts == 2
    assert execute(database, settings, job_id, worker="w") == "succeeded"  # idempotent
    assert len(calls) == 2

    def broken(ctx: JobContext) -> JobOutcome:
        raise OperationalError("SELECT 1", {}, Exception("down"))

    monkeypatch.setitem(kinds.KINDS, "test", broken)
    job_id = _job(database)
    for _ in range(settings.job_max_retries):
        with pytest.raises(TransientJobError):
            execute(database, settings, job_id, worker="w")
    assert execute(database, settings, job_id, worker="w") == "failed"
    assert [backoff_s(n) for n in (1, 2, 3, 10)] == [1, 2, 4, 60]


def _until_stopped(ctx: JobContext) -> JobOutcome:
    n = 0
    while not ctx.should_stop():
        n += 1
        ctx.report(n, None)
        time.sleep(0.01)
    return JobOutcome(result={"evaluated": n}, points_evaluated=n)


def test_running_job_is_cancelled_and_keeps_partial_results(
    db: tuple[Database, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    database, settings = db
    monkeypatch.setitem(kinds.KINDS, "test", _until_stopped)
    job_id = _job(database)

    def cancel_soon() -> None:
        time.sleep(0.3)
        with database.session() as s:
            row = s.get(JobRow, job_id)
            assert row is not None
            crud.request_cancel(s, job=row)

    threading.Thread(target=cancel_soon).start()
    assert execute(database, settings, job_id, worker="w") == "cancelled"
    row = _status(database, job_id)
    assert row.result is not None and row.result["evaluated"] > 0


def test_time_limit_fails_the_job(
    db: tuple[Database, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    database, settings = db
    monkeypatch.setitem(kinds.KINDS, "test", _until_stopped)
    job_id = _job(database)
    assert execute(database, settings, job_id, worker="w") == "failed"
    assert "time limit of 1 s" in (_status(database, job_id).error or "")


def test_in_process_worker_stop_requeues_and_restart_resumes(
    db: tuple[Database, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    database, settings = db
    settings = settings.model_copy(update={"job_time_limit_seconds": 60})
    monkeypatch.setitem(kinds.KINDS, "test", _until_stopped)
    job_id = _job(database)
    worker = InProcessWorker(database, settings, poll_s=0.05)
    worker.start()
    deadline = time.monotonic() + 10
    while _status(database, job_id).status != "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.stop()
    assert _status(database, job_id).status == "queued"  # interrupted, not lost

    monkeypatch.setitem(kinds.KINDS, "test", lambda ctx: JobOutcome(result={"resumed": True}))
    again = InProcessWorker(database, settings, poll_s=0.05)
    again.start()
    deadline = time.monotonic() + 10
    while _status(database, job_id).status != "succeeded" and time.monotonic() < deadline:
        time.sleep(0.05)
    again.stop()
    assert _status(database, job_id).result == {"resumed": True}


def _writes_folders(outcome: str) -> Callable[[JobContext], JobOutcome]:
    """A kind that fills its work folder as an exploration does (a checkpoint in ``run``, the
    report in ``report``), then ends with ``outcome``."""

    def run(ctx: JobContext) -> JobOutcome:
        (ctx.work_dir / "run").mkdir(parents=True)
        (ctx.work_dir / "run" / "checkpoint.jsonl").write_text("{}\n")
        (ctx.work_dir / "report").mkdir()
        (ctx.work_dir / "report" / "report.html").write_text("<html></html>")
        if outcome == "input-error":
            raise InputError("space: no such knob")
        if outcome == "crash":
            raise RuntimeError("a bug")
        if outcome == "cancelled":
            ctx.stop_reason.append("cancelled")
        ctx.should_stop()  # an interrupt (shutdown) is seen here
        return JobOutcome(result={"ok": True}, artifact=("report.tar.gz", b"tarball"))

    return run


@pytest.mark.parametrize(
    ("kind", "outcome", "status", "left"),
    [
        ("exploration", "succeeded", "succeeded", None),
        ("exploration", "cancelled", "cancelled", ["run"]),
        ("exploration", "input-error", "failed", ["run"]),
        ("exploration", "crash", "failed", ["run"]),
        ("rtl", "cancelled", "cancelled", None),
        ("rtl", "input-error", "failed", None),
    ],
)
def test_work_folder_is_tidied_when_the_job_ends(
    db: tuple[Database, Settings],
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    outcome: str,
    status: str,
    left: list[str] | None,
) -> None:
    """A finished job's work folder goes, after its report and artifact went to the store; a
    cancelled or failed exploration keeps only the checkpoint its resume continues from."""
    database, settings = db
    settings = settings.model_copy(update={"job_time_limit_seconds": 60})
    monkeypatch.setitem(kinds.KINDS, kind, _writes_folders(outcome))
    job_id = _job(database, kind)
    assert execute(database, settings, job_id, worker="w") == status
    work = settings.codesign_data_dir / "jobs" / job_id
    if left is None:
        assert not work.exists()
    else:
        assert sorted(p.name for p in work.iterdir()) == left
        assert (work / "run" / "checkpoint.jsonl").read_text() == "{}\n"
    if status != "failed":  # the outcome was stored before the folder went
        assert _status(database, job_id).artifact_name == "report.tar.gz"


def test_interrupted_job_keeps_its_work_folder(
    db: tuple[Database, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    database, settings = db
    settings = settings.model_copy(update={"job_time_limit_seconds": 60})
    monkeypatch.setitem(kinds.KINDS, "exploration", _writes_folders("succeeded"))
    stop = threading.Event()
    stop.set()  # a shutdown: the job goes back to the queue and resumes from its folder
    job_id = _job(database, "exploration")
    assert execute(database, settings, job_id, worker="w", stop_event=stop) == "queued"
    work = settings.codesign_data_dir / "jobs" / job_id
    assert sorted(p.name for p in work.iterdir()) == ["report", "run"]
