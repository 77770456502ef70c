"""Chunked explorations: one grid or random search spread over any number of workers.

The job's own task is the *planner*: it cuts the search into chunks
(:func:`codesign_playground.explore.chunks.plan_chunks`), stores one ``explore_chunks`` row per
chunk (unique ``(job_id, idx)``: planning twice inserts nothing), sends one Celery message per
unfinished chunk to the explore queue, then evaluates chunks itself like any other worker and,
when every chunk is done, assembles the result. Any worker's *chunk task* claims its chunk,
evaluates it and commits its rows.

Exactly-once effect over at-least-once delivery:

* a chunk is claimed with one atomic ``UPDATE ... WHERE status = 'pending' OR (status =
  'running' AND heartbeat_at < stale)``; the claimant renews ``heartbeat_at`` (its lease) while
  it evaluates, so a chunk whose worker died (SIGKILL, lost node) is claimable again after
  ``JOB_STALE_AFTER_SECONDS`` and redelivered: the planner claims stale chunks, and every
  worker's reconciler re-sends them;
* results are committed with ``UPDATE ... SET status = 'done' WHERE status IN ('pending',
  'running')``: the first completion stores the rows, a late duplicate (the presumed-dead
  worker was only slow) matches no row and stores nothing. Evaluation is deterministic, so the
  two copies were equal anyway; counts come only from done rows, so no point counts twice;
* the planner is an ordinary job: if its worker dies, the job's heartbeat goes stale and the
  reconciler re-sends it; the new planner finds the chunk rows and carries on. A job therefore
  resumes after the whole worker pool restarts;
* cancelling sets the job's flag: the planner marks every unfinished chunk cancelled (a chunk
  being evaluated elsewhere then finds its commit refused), chunk tasks of a cancelled job do
  nothing; the result holds the chunks done before the cancel.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, column, func, select, text, update
from sqlalchemy import table as table_clause
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.expression import ColumnClause

from codesign_playground.config import Settings
from codesign_playground.service.core.db import Database
from codesign_playground.service.tables import ChunkRow, ExploreRunRow, JobRow, utcnow

__all__ = [
    "Dispatch",
    "commit_chunk",
    "delete_shared_study",
    "ensure_chunks",
    "reopen_cancelled",
    "route_for",
    "run_chunk",
    "run_planned",
    "shared_studies",
    "stale_chunks",
]

_log = logging.getLogger("codesign_playground.jobs")

Dispatch = Callable[[str, list[int]], None]
"""Sends chunk messages: ``dispatch(job_id, chunk_indices)`` (absent in the embedded mode)."""

FRONT_SHOWN = 200
"""Points of the running Pareto front kept in a job's progress."""


def _stale_after_s(settings: Settings) -> float:
    from codesign_playground.service.jobs.runner import stale_after_s

    return stale_after_s(settings)


# ------------------------------------------------------------------------------- routing
def route_for(settings: Settings, kind: str | None, params: dict[str, Any] | None) -> str:
    """The Celery queue of a job: interactive unless it is a long search."""
    if kind != "exploration" or not params:
        return settings.job_queue
    try:
        from codesign_playground.explore.chunks import planned_points
        from codesign_playground.explore.space import space_from_dict
        from codesign_playground.service.space_policy import server_space

        space = space_from_dict(server_space(params["space"], model_id=params.get("model_id")))
        if space.accuracy is not None and space.accuracy.measure is not None:
            return settings.explore_queue  # trains networks first
        n = planned_points(space, params.get("strategy"), params.get("budget"))
    except Exception:
        return settings.explore_queue
    return (
        settings.job_queue
        if n <= settings.codesign_interactive_max_points
        else (settings.explore_queue)
    )


# ------------------------------------------------------------------------------- the store
def ensure_chunks(db: Database, job_id: str, ranges: tuple[tuple[int, int], ...]) -> int:
    """Insert the chunk rows a job does not have yet; returns how many it has."""
    with db.session() as s:
        have = set(s.scalars(select(ChunkRow.idx).where(ChunkRow.job_id == job_id)).all())
    if len(have) < len(ranges):
        try:
            with db.session() as s:
                s.add_all(
                    ChunkRow(
                        job_id=job_id,
                        idx=i,
                        start=a,
                        stop=b,
                        status="pending",
                        attempts=0,
                        points=0,
                    )
                    for i, (a, b) in enumerate(ranges)
                    if i not in have
                )
        except IntegrityError:  # another planner inserted them first: theirs stand
            pass
    if not _has_run(db, job_id):
        try:
            with db.session() as s:
                s.add(
                    ExploreRunRow(
                        job_id=job_id,
                        chunks=len(ranges),
                        points=sum(b - a for a, b in ranges),
                        chunks_done=0,
                        points_done=0,
                        front=None,
                    )
                )
        except IntegrityError:
            pass
    with db.session() as s:
        return int(s.scalar(select(func.count()).where(ChunkRow.job_id == job_id)) or 0)


def _has_run(db: Database, job_id: str) -> bool:
    with db.session() as s:
        return s.get(ExploreRunRow, job_id) is not None


def stored_ranges(db: Database, job_id: str) -> tuple[tuple[int, int], ...]:
    """The chunks a job was planned with (a resumed planner keeps the stored plan)."""
    with db.session() as s:
        rows = s.execute(
            select(ChunkRow.start, ChunkRow.stop)
            .where(ChunkRow.job_id == job_id)
            .order_by(ChunkRow.idx)
        ).all()
    return tuple((int(a), int(b)) for a, b in rows)


def _claimable(stale: Any) -> Any:
    return (ChunkRow.status == "pending") | (
        (ChunkRow.status == "running") & (ChunkRow.heartbeat_at < stale)
    )


def claim_chunk(
    db: Database,
    settings: Settings,
    *,
    job_id: str,
    owner: str,
    worker: str,
    idx: int | None = None,
) -> tuple[int, int, int] | None:
    """Claim chunk ``idx`` (any claimable one when ``None``): ``(idx, start, stop)`` or None.

    Per-job and per-owner limits (``CODESIGN_JOB_MAX_WORKERS``, ``CODESIGN_OWNER_MAX_WORKERS``)
    count chunks under a live lease; on PostgreSQL an advisory lock per owner makes the
    count and the claim one step."""
    now = utcnow()
    stale = now - timedelta(seconds=_stale_after_s(settings))
    live = (ChunkRow.status == "running") & (ChunkRow.heartbeat_at >= stale)
    with db.session() as s:
        if db.engine.dialect.name == "postgresql":
            s.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"chunks:{owner}"})
        job_max, owner_max = settings.codesign_job_max_workers, settings.codesign_owner_max_workers
        if job_max:
            n = s.scalar(select(func.count()).where(ChunkRow.job_id == job_id, live))
            if int(n or 0) >= job_max:
                return None
        if owner_max:
            n = s.scalar(
                select(func.count())
                .select_from(ChunkRow)
                .join(JobRow, JobRow.id == ChunkRow.job_id)
                .where(JobRow.owner == owner, live)
            )
            if int(n or 0) >= owner_max:
                return None
        query = select(ChunkRow.id, ChunkRow.idx, ChunkRow.start, ChunkRow.stop).where(
            ChunkRow.job_id == job_id, _claimable(stale)
        )
        if idx is not None:
            query = query.where(ChunkRow.idx == idx)
        for pk, i, a, b in s.execute(query.order_by(ChunkRow.idx).limit(8)).all():
            claimed = s.execute(
                update(ChunkRow)
                .where(ChunkRow.id == pk, _claimable(stale))
                .values(
                    status="running",
                    worker=worker,
                    heartbeat_at=now,
                    attempts=ChunkRow.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount:  # type: ignore[attr-defined]
                return int(i), int(a), int(b)
    return None


class _Lease:
    """Renews a claimed chunk's ``heartbeat_at`` every ``WORKER_HEARTBEAT_SECONDS``."""

    def __init__(self, db: Database, settings: Settings, job_id: str, idx: int, worker: str):
        self.db, self.job_id, self.idx, self.worker = db, job_id, idx, worker
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(settings.worker_heartbeat_seconds,), daemon=True
        )
        self._thread.start()

    def _run(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            try:
                with self.db.session() as s:
                    s.execute(
                        update(ChunkRow)
                        .where(
                            ChunkRow.job_id == self.job_id,
                            ChunkRow.idx == self.idx,
                            ChunkRow.status == "running",
                            ChunkRow.worker == self.worker,
                        )
                        .values(heartbeat_at=utcnow())
                    )
            except Exception:
                _log.warning("chunk lease renewal failed", extra={"job_id": self.job_id})

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)


def commit_chunk(
    db: Database,
    *,
    job_id: str,
    idx: int,
    worker: str,
    rows: dict[str, Any],
    front: dict[str, Any],
    points: int,
    elapsed_s: float,
    merge: Callable[[dict[str, Any] | None, dict[str, Any]], dict[str, Any]],
) -> bool:
    """Store a chunk's rows once: False when it was done (or cancelled) already.

    In the same transaction the job's running totals and front (``explore_runs``, locked)
    take the chunk in: ``merge(front so far, chunk front)``. The totals move only when the
    chunk's row did, so they count each chunk once."""
    now = utcnow()
    with db.session() as s:
        stored = s.execute(
            update(ChunkRow)
            .where(
                ChunkRow.job_id == job_id,
                ChunkRow.idx == idx,
                ChunkRow.status.in_(("pending", "running")),
            )
            .values(
                status="done",
                worker=worker,
                rows=rows,
                front=front,
                points=points,
                elapsed_s=elapsed_s,
                heartbeat_at=now,
                finished_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if not stored.rowcount:  # type: ignore[attr-defined]
            return False
        run = s.execute(
            select(ExploreRunRow).where(ExploreRunRow.job_id == job_id).with_for_update()
        ).scalar_one_or_none()
        if run is not None:
            run.chunks_done += 1
            run.points_done += points
            run.front = merge(run.front, front)
            run.updated_at = now
        return True


def release_chunk(db: Database, job_id: str, idx: int, worker: str) -> None:
    """Give a claimed chunk back (its worker is stopping or failed on it)."""
    with db.session() as s:
        s.execute(
            update(ChunkRow)
            .where(
                ChunkRow.job_id == job_id,
                ChunkRow.idx == idx,
                ChunkRow.status == "running",
                ChunkRow.worker == worker,
            )
            .values(status="pending", worker=None, heartbeat_at=None)
        )


def cancel_unfinished(db: Database, job_id: str) -> None:
    """Cancel every chunk not done: none is claimed again, a late commit stores nothing."""
    with db.session() as s:
        s.execute(
            update(ChunkRow)
            .where(ChunkRow.job_id == job_id, ChunkRow.status.in_(("pending", "running")))
            .values(status="cancelled", finished_at=utcnow())
        )


def reopen_cancelled(db: Database, job_id: str) -> int:
    """Make a resumed job's cancelled chunks claimable again (its done chunks stand); returns
    how many were reopened. Only a planner calls it, and a planner runs only for a job that is
    not cancelled (a resume queued it again)."""
    with db.session() as s:
        reopened = s.execute(
            update(ChunkRow)
            .where(ChunkRow.job_id == job_id, ChunkRow.status == "cancelled")
            .values(status="pending", worker=None, heartbeat_at=None, finished_at=None)
            .execution_options(synchronize_session=False)
        )
        return int(reopened.rowcount or 0)  # type: ignore[attr-defined]


def chunk_counts(db: Database, job_id: str) -> dict[str, int]:
    """Chunks by status, and ``points``: the points of done chunks."""
    with db.session() as s:
        rows = s.execute(
            select(ChunkRow.status, func.count(), func.coalesce(func.sum(ChunkRow.points), 0))
            .where(ChunkRow.job_id == job_id)
            .group_by(ChunkRow.status)
        ).all()
    counts = {st: 0 for st in ("pending", "running", "done", "cancelled")}
    points = 0
    for status, n, p in rows:
        counts[str(status)] = int(n)
        if status == "done":
            points = int(p)
    counts["total"] = sum(counts[k] for k in ("pending", "running", "done", "cancelled"))
    counts["points"] = points
    return counts


def stale_chunks(db: Database, settings: Settings) -> list[tuple[str, int]]:
    """Chunks of running jobs whose worker went silent: the reconciler re-sends them."""
    stale = utcnow() - timedelta(seconds=_stale_after_s(settings))
    with db.session() as s:
        rows = s.execute(
            select(ChunkRow.job_id, ChunkRow.idx)
            .join(JobRow, JobRow.id == ChunkRow.job_id)
            .where(
                JobRow.status == "running",
                ChunkRow.status == "running",
                ChunkRow.heartbeat_at < stale,
            )
            .limit(500)
        ).all()
    return [(str(j), int(i)) for j, i in rows]


def load_frames(db: Database, job_id: str) -> list[pd.DataFrame]:
    """The rows of every done chunk, in chunk order."""
    from codesign_playground.explore.chunks import frame_from_json

    with db.session() as s:
        docs = s.scalars(
            select(ChunkRow.rows)
            .where(ChunkRow.job_id == job_id, ChunkRow.status == "done")
            .order_by(ChunkRow.idx)
        ).all()
    return [frame_from_json(d) for d in docs if d is not None]


# ------------------------------------------------------------------------------- progress
def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    import json

    out: list[dict[str, Any]] = json.loads(df.to_json(orient="records"))
    return out


def publish_progress(db: Database, ev: Any, job_id: str) -> dict[str, Any] | None:
    """Write the job's progress from its running totals: counts, rate, ETA, running front."""
    from codesign_playground.explore.chunks import frame_from_json

    with db.session() as s:
        run = s.get(ExploreRunRow, job_id)
        if run is None:
            return None
        running = s.scalar(
            select(func.count()).where(ChunkRow.job_id == job_id, ChunkRow.status == "running")
        )
        started = s.scalar(select(JobRow.started_at).where(JobRow.id == job_id))
        chunks, done, total, evaluated = run.chunks, run.chunks_done, run.points, run.points_done
        front_doc = run.front
    front = frame_from_json(front_doc) if front_doc else None
    best: dict[str, float] = {}
    for o in ev.objectives:
        if front is not None and len(front):
            vals = front[o.column].to_numpy(dtype=float)
            vals = vals[np.isfinite(vals)]
            if vals.size:
                best[o.metric] = float(vals.max() if o.direction == "max" else vals.min())
    now = utcnow()
    if started is not None and started.tzinfo is None:  # SQLite returns naive datetimes
        started = started.replace(tzinfo=now.tzinfo)
    elapsed = max((now - started).total_seconds(), 1e-9) if started is not None else None
    rate = evaluated / elapsed if elapsed else None
    eta = (total - evaluated) / rate if rate else None
    n_running = int(running or 0)
    counts = {
        "total": chunks,
        "done": done,
        "running": n_running,
        "pending": max(chunks - done - n_running, 0),
        "points": evaluated,
    }
    shown: list[dict[str, Any]] = []
    if front is not None:
        head = front.head(FRONT_SHOWN)
        shown = _records(head[[c for c in head.columns if c in _front_columns(ev)]])
    progress = {
        "evaluated": evaluated,
        "total": total,
        "best_so_far": best,
        "eta_s": eta if eta is not None and math.isfinite(eta) else None,
        "points_per_second": rate,
        "message": f"{done} of {chunks} chunks done, {n_running} running",
        "chunks": counts,
        "front": shown,
        "front_size": 0 if front is None else len(front),
    }
    with db.session() as s:
        s.execute(
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.status == "running")
            .values(progress=progress, points_evaluated=evaluated)
        )
    return progress


def _front_columns(ev: Any) -> list[str]:
    varying = [k.name for k in ev.knobs if len(k.values) > 1]
    return [*varying, *[o.column for o in ev.objectives], "feasible"]


# ------------------------------------------------------------------------------- evaluation
_CACHE: dict[str, tuple[Any, Any]] = {}
_CACHE_LOCK = threading.Lock()


def _job_evaluator(db: Database, settings: Settings, job: JobRow) -> tuple[Any, Any]:
    """The evaluator and plan header of a job, kept per process for its next chunks."""
    from codesign_playground.explore.chunks import plan_header
    from codesign_playground.explore.evaluator import Evaluator
    from codesign_playground.service.jobs.kinds import job_model_path, prepare_space

    with _CACHE_LOCK:
        if job.id in _CACHE:
            return _CACHE[job.id]
    params = dict(job.params)
    space = prepare_space(params, job_model_path(db, settings.codesign_data_dir, params))
    out_dir = settings.codesign_data_dir / "jobs" / job.id / "run"
    out_dir.mkdir(parents=True, exist_ok=True)
    ev = Evaluator(space, out_dir=out_dir)
    plan = plan_header(
        ev, strategy=params.get("strategy"), budget=params.get("budget"), seed=params.get("seed")
    )
    with _CACHE_LOCK:
        while len(_CACHE) >= 4:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[job.id] = (ev, plan)
    return ev, plan


def _evaluate(
    db: Database,
    settings: Settings,
    ev: Any,
    plan: Any,
    job_id: str,
    worker: str,
    chunk: tuple[int, int, int],
) -> bool:
    """Evaluate a claimed chunk under its lease and commit it; False: stored already."""
    from codesign_playground.explore.chunks import (
        STUDY_STRATEGIES,
        evaluate_chunk,
        frame_to_json,
        merge_front,
    )

    idx, start, stop = chunk
    storage = optuna_storage(db.engine, settings) if plan.strategy in STUDY_STRATEGIES else None
    lease = _Lease(db, settings, job_id, idx, worker)
    t0 = time.perf_counter()
    try:
        df = evaluate_chunk(ev, plan, start, stop, storage=storage, study_name=study_name(job_id))
    except BaseException:
        lease.close()
        release_chunk(db, job_id, idx, worker)
        raise
    lease.close()
    stored = commit_chunk(
        db,
        job_id=job_id,
        idx=idx,
        worker=worker,
        rows=frame_to_json(df),
        front=frame_to_json(merge_front(ev, [df])),
        points=len(df),
        elapsed_s=time.perf_counter() - t0,
        merge=lambda so_far, chunk: _merge_docs(ev, so_far, chunk),
    )
    if stored:
        publish_progress(db, ev, job_id)
    else:
        _log.info("chunk was stored already", extra={"job_id": job_id, "chunk": idx})
    return stored


OPTUNA_SCHEMA = "optuna_studies"
"""PostgreSQL schema of the shared optuna studies (optuna's tables and its own Alembic version
table, apart from the service's)."""

_STORAGES: dict[tuple[int, str], Any] = {}


def study_name(job_id: str) -> str:
    return f"codesign-{job_id}"


def optuna_storage(engine: Engine, settings: Settings) -> Any:
    """Optuna's ``RDBStorage`` on the service's PostgreSQL, in schema ``optuna_studies``."""
    key = (os.getpid(), settings.database_url)
    if key in _STORAGES:
        return _STORAGES[key]
    import optuna
    from sqlalchemy.exc import DBAPIError

    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE SCHEMA IF NOT EXISTS optuna_studies"))
    except DBAPIError:
        pass  # another worker created it at the same moment
    kwargs = {
        "connect_args": {"options": f"-c search_path={OPTUNA_SCHEMA}"},
        "pool_pre_ping": True,
        "pool_size": 2,
    }
    for attempt in range(3):
        try:
            storage = optuna.storages.RDBStorage(settings.database_url, engine_kwargs=kwargs)
            break
        except Exception:
            if attempt == 2:
                raise
            time.sleep(0.5 + attempt)  # optuna's tables being created by another worker
    _STORAGES[key] = storage
    return storage


def shared_studies(engine: Engine, job_ids: Iterable[str] | None = None) -> list[str]:
    """The jobs (of ``job_ids``; default: any) that have a shared optuna study
    (``CODESIGN_SHARED_STUDIES``); none unless the database is PostgreSQL with the schema."""
    if engine.dialect.name != "postgresql":
        return []
    prefix = study_name("")
    with engine.connect() as conn:
        table = conn.execute(text("SELECT to_regclass(:t)"), {"t": f"{OPTUNA_SCHEMA}.studies"})
        if table.scalar() is None:  # no shared study was ever made here
            return []
        name: ColumnClause[str] = column("study_name")
        query = select(name).select_from(table_clause("studies", name, schema=OPTUNA_SCHEMA))
        if job_ids is None:
            names = conn.execute(query.where(name.like(prefix + "%")))
        else:
            names = conn.execute(query.where(name.in_([study_name(j) for j in job_ids])))
        found = [str(n)[len(prefix) :] for n in names.scalars()]
    return sorted(found)


def delete_shared_study(engine: Engine, settings: Settings, job_id: str) -> bool:
    """Delete job ``job_id``'s shared optuna study (its trials with it), if it has one, with
    ``optuna.delete_study`` on the storage the workers use; True when one was deleted."""
    if not shared_studies(engine, [job_id]):
        return False
    import optuna

    try:
        optuna.delete_study(study_name=study_name(job_id), storage=optuna_storage(engine, settings))
    except KeyError:  # deleted meanwhile
        return False
    _log.info("shared study deleted", extra={"job_id": job_id})
    return True


def _merge_docs(ev: Any, so_far: dict[str, Any] | None, chunk: dict[str, Any]) -> dict[str, Any]:
    """The front of the union of two stored fronts (JSON in, JSON out)."""
    from codesign_playground.explore.chunks import frame_from_json, frame_to_json, merge_front

    frames = [frame_from_json(chunk)] + ([frame_from_json(so_far)] if so_far else [])
    return frame_to_json(merge_front(ev, frames))


def _identity(worker: str) -> str:
    """A lease holder's name: the worker's name and this process (a prefork pool's children
    share the worker's name, and each holds its own leases)."""
    return f"{worker}/{os.getpid()}"


def run_chunk(db: Database, settings: Settings, job_id: str, idx: int, *, worker: str) -> str:
    """One chunk message: claim chunk ``idx`` of job ``job_id``, evaluate it, commit it."""
    worker = _identity(worker)
    with db.session() as s:
        job = s.get(JobRow, job_id)
        if job is None:
            return "missing"
        if job.status != "running" or job.cancel_requested:
            return "skipped"
        owner = job.owner
        s.expunge(job)
    with db.session() as s:
        state = s.scalar(
            select(ChunkRow.status).where(ChunkRow.job_id == job_id, ChunkRow.idx == idx)
        )
    if state not in ("pending", "running"):
        return "skipped"
    # before the claim: building the evaluator (loading the model) must not eat the lease
    ev, plan = _job_evaluator(db, settings, job)
    chunk = claim_chunk(db, settings, job_id=job_id, owner=owner, worker=worker, idx=idx)
    if chunk is None:
        return "skipped"  # done, cancelled, or evaluated under a live lease elsewhere
    return "stored" if _evaluate(db, settings, ev, plan, job_id, worker, chunk) else "duplicate"


def run_planned(
    ctx: Any,
    ev: Any,
    plan: Any,
    *,
    settings: Settings,
    worker: str,
    dispatch: Dispatch | None,
) -> tuple[list[pd.DataFrame], bool, float]:
    """The planner of a job whose chunks are stored: send them, evaluate chunks until all
    are done.

    Returns the frames of the done chunks, whether the run stopped early, and the seconds
    since the job first started."""
    db = ctx.db
    job_id = ctx.job_id
    worker = _identity(worker)
    with db.session() as s:
        owner = str(s.scalar(select(JobRow.owner).where(JobRow.id == job_id)))
    counts = chunk_counts(db, job_id)
    if dispatch is not None:
        with db.session() as s:
            todo = s.scalars(
                select(ChunkRow.idx).where(
                    ChunkRow.job_id == job_id, ChunkRow.status.in_(("pending", "running"))
                )
            ).all()
        dispatch(job_id, [int(i) for i in todo])
    _log.info(
        "exploration planned",
        extra={"job_id": job_id, "chunks": counts["total"], "done": counts["done"]},
    )
    stopped = False
    last_publish = 0.0
    while True:
        if ctx.should_stop():
            stopped = True
            if ctx.stop_reason and ctx.stop_reason[0] != "interrupted":
                cancel_unfinished(db, job_id)
            break
        chunk = claim_chunk(db, settings, job_id=job_id, owner=owner, worker=worker)
        if chunk is not None:
            _evaluate(db, settings, ev, plan, job_id, worker, chunk)
            continue
        with db.session() as s:
            run = s.get(ExploreRunRow, job_id)
            if run is None or run.chunks_done >= run.chunks:
                break
        if time.monotonic() - last_publish > 2.0:  # others are evaluating: keep progress fresh
            publish_progress(db, ev, job_id)
            last_publish = time.monotonic()
        time.sleep(0.25)
    with db.session() as s:
        started = s.scalar(select(JobRow.started_at).where(JobRow.id == job_id))
    now = utcnow()
    if started is not None and started.tzinfo is None:
        started = started.replace(tzinfo=now.tzinfo)
    elapsed = (now - started).total_seconds() if started is not None else 0.0
    counts = chunk_counts(db, job_id)
    stopped = stopped or counts["done"] < counts["total"]
    return load_frames(db, job_id), stopped, elapsed
