"""Retention of job files: delete the report and artifact of jobs finished long ago.

``CODESIGN_ARTIFACT_RETENTION_DAYS`` (0, the default: keep them) names the age. A pruned job
keeps its row and result document (status, front, summary points); its stored report and
artifact (S3 objects, files of the local store, or the row's own columns) are deleted, and
its downloads answer 410 from then on. The workers prune once an hour (one of them: a Redis
lock), and ``codesign jobs prune`` prunes on demand (a CronJob, or by hand with another age).
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from codesign_playground.config import Settings
from codesign_playground.service import crud
from codesign_playground.service.core.db import Database
from codesign_playground.service.storage import PRUNED_KEY, STORAGE_KEY, discard_outcome
from codesign_playground.service.tables import JobRow, utcnow

__all__ = ["PRUNE_EVERY_S", "PruneReport", "prune_artifacts"]

_log = logging.getLogger("codesign_playground.service")

PRUNE_EVERY_S = 3600
"""How often the workers prune: an hour, a twenty-fourth of the shortest retention (1 day)."""


@dataclass
class PruneReport:
    """What one pass did: the jobs pruned (or, dry, that would be) and the files deleted."""

    cutoff: datetime
    jobs: list[str] = field(default_factory=list)
    files_deleted: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "cutoff": self.cutoff.isoformat(),
            "jobs": len(self.jobs),
            "files_deleted": self.files_deleted,
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
    if report.jobs and not dry_run:
        _log.info("pruned job files", extra=report.to_dict())
    return report
