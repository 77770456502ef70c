"""Retention of job files: delete the report and artifact of jobs finished long ago.

``CODESIGN_ARTIFACT_RETENTION_DAYS`` (0, the default: keep them) names the age. A pruned job
keeps its row and result document (status, front, summary points); its stored report and
artifact (S3 objects, files of the local store, or the row's own columns) are deleted, and
its downloads answer 410 from then on. The shared optuna studies (``CODESIGN_SHARED_STUDIES``)
of jobs finished before the same age, or of jobs deleted, go too. The workers prune once an
hour (one of them: a Redis lock), and ``codesign jobs prune`` prunes on demand (a CronJob, or
by hand with another age).

Work folders (``CODESIGN_DATA_DIR/jobs/<id>``) are each worker's own: every distributed worker
sweeps its folder (:func:`sweep_work_folders`) as often as it reconciles.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from codesign_playground.config import Settings
from codesign_playground.service import crud
from codesign_playground.service.core.db import Database
from codesign_playground.service.storage import PRUNED_KEY, STORAGE_KEY, discard_outcome
from codesign_playground.service.tables import JobRow, utcnow

__all__ = ["PRUNE_EVERY_S", "PruneReport", "prune_artifacts", "sweep_work_folders"]

_log = logging.getLogger("codesign_playground.service")

PRUNE_EVERY_S = 3600
"""How often the workers prune: an hour, a twenty-fourth of the shortest retention (1 day)."""


@dataclass
class PruneReport:
    """What one pass did: the jobs pruned (or, dry, that would be) and the files deleted."""

    cutoff: datetime
    jobs: list[str] = field(default_factory=list)
    files_deleted: int = 0
    studies: list[str] = field(default_factory=list)
    """Jobs whose shared optuna study was (dry: would be) deleted."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "cutoff": self.cutoff.isoformat(),
            "jobs": len(self.jobs),
            "files_deleted": self.files_deleted,
            "studies_deleted": len(self.studies),
        }


def prune_artifacts(
    db: Database,
    settings: Settings,
    *,
    older_than_days: float,
    now: datetime | None = None,
    dry_run: bool = False,
) -> PruneReport:
    """Delete the report and artifact of every job that finished more than
    ``older_than_days`` ago; the rows stay, marked pruned.

    Each job is its own transaction with the row locked: the files go first, then the row
    forgets them, so a store that does not answer (``StoreUnavailableError``, raised) leaves
    the job unchanged for the next pass. Every job with files has an artifact
    (``artifact_name``): an exploration's report folder, an RTL job's Verilog.
    """
    if older_than_days <= 0:
        raise ValueError("older_than_days must be positive (0 keeps every file)")
    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    report = PruneReport(cutoff=cutoff)
    with db.session() as s:
        candidates = s.scalars(
            select(JobRow.id)
            .where(
                JobRow.status.in_(crud.TERMINAL),
                JobRow.finished_at < cutoff,
                JobRow.artifact_name.is_not(None),
            )
            .order_by(JobRow.finished_at)
        ).all()
    for job_id in candidates:
        if dry_run:
            report.jobs.append(job_id)
            continue
        with db.session() as s:
            job = crud.lock_job(s, job_id=job_id)
            if job is None or job.artifact_name is None:
                continue  # deleted or pruned meanwhile
            report.files_deleted += discard_outcome(settings, job.result)
            result = {k: v for k, v in (job.result or {}).items() if k != STORAGE_KEY}
            result[STORAGE_KEY] = {PRUNED_KEY: utcnow().isoformat()}
            s.execute(
                update(JobRow)
                .where(JobRow.id == job_id)
                .values(artifact_name=None, artifact=None, report=None, result=result)
                .execution_options(synchronize_session=False)
            )
        shutil.rmtree(settings.codesign_data_dir / "jobs" / job_id, ignore_errors=True)
        report.jobs.append(job_id)
    report.studies = _prune_studies(db, settings, cutoff, dry_run=dry_run)
    if (report.jobs or report.studies) and not dry_run:
        _log.info("pruned job files", extra=report.to_dict())
    return report


def _prune_studies(
    db: Database, settings: Settings, cutoff: datetime, *, dry_run: bool
) -> list[str]:
    """Delete the shared optuna studies of jobs finished before ``cutoff`` and of jobs that
    no longer exist (deleted while a late chunk re-created their study); the ids."""
    from codesign_playground.service.jobs.chunked import delete_shared_study, shared_studies

    with_study = shared_studies(db.engine)
    if not with_study:
        return []
    with db.session() as s:
        alive = set(
            s.scalars(
                select(JobRow.id).where(
                    JobRow.id.in_(with_study),
                    or_(
                        JobRow.status.not_in(crud.TERMINAL),
                        JobRow.finished_at.is_(None),
                        JobRow.finished_at >= cutoff,
                    ),
                )
            ).all()
        )
    due = [job_id for job_id in with_study if job_id not in alive]
    if dry_run:
        return due
    return [job_id for job_id in due if delete_shared_study(db.engine, settings, job_id)]


def _is_job_id(name: str) -> bool:
    """Whether ``name`` is a job id as the service makes them (``crud``: a UUID's string)."""
    try:
        return str(uuid.UUID(name)) == name
    except ValueError:
        return False


def sweep_work_folders(
    db: Database, settings: Settings, *, now: datetime | None = None
) -> list[str]:
    """Remove the work folders in this process's ``CODESIGN_DATA_DIR/jobs`` that no job needs
    any more; the job ids.

    A distributed worker keeps a folder per job it planned or evaluated chunks of, and neither
    a DELETE (in an API process) nor a job that ended on another worker reaches it. Kept: the
    folders of queued and running jobs, and the checkpoint of a cancelled or failed exploration
    (``POST .../resume`` continues from it) unless it finished more than
    ``CODESIGN_ARTIFACT_RETENTION_DAYS`` ago, and every folder whose name is not a job id
    (not ours). Removed: every other one (deleted jobs, succeeded ones, RTL jobs).
    """
    from codesign_playground.service.jobs.runner import RESUMABLE_KINDS

    root = settings.codesign_data_dir / "jobs"
    try:
        names = sorted(
            e.name
            for e in os.scandir(root)
            if e.is_dir(follow_symlinks=False) and _is_job_id(e.name)
        )
    except FileNotFoundError:
        return []
    days = settings.codesign_artifact_retention_days
    cutoff = (now or utcnow()) - timedelta(days=days) if days > 0 else None
    keep: set[str] = set()
    for i in range(0, len(names), 500):
        with db.session() as s:
            rows = s.execute(
                select(JobRow.id, JobRow.kind, JobRow.status, JobRow.finished_at).where(
                    JobRow.id.in_(names[i : i + 500])
                )
            ).all()
        for job_id, kind, status, finished_at in rows:
            if finished_at is not None and finished_at.tzinfo is None:  # SQLite
                finished_at = finished_at.replace(tzinfo=UTC)
            resumable = status in ("cancelled", "failed") and kind in RESUMABLE_KINDS
            if status not in crud.TERMINAL or (
                resumable and (cutoff is None or finished_at is None or finished_at >= cutoff)
            ):
                keep.add(job_id)
    removed = [name for name in names if name not in keep]
    for name in removed:
        shutil.rmtree(root / name, ignore_errors=True)
    if removed:
        _log.info("removed work folders", extra={"jobs": len(removed)})
    return removed
