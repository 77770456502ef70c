"""``codesign jobs prune``: delete the report and artifact of jobs finished long ago.

The database and artifact store are the server's (``DATABASE_URL``, ``ARTIFACT_STORE``,
``AWS_S3_*``; or the SQLite file and local store in ``--data-dir``). The job rows stay with
their results; their downloads answer 410. The workers do the same every hour when
``CODESIGN_ARTIFACT_RETENTION_DAYS`` is set; this command prunes on demand (a CronJob, or
once by hand with another age).
"""

from __future__ import annotations

from typing import Annotated

import typer

from codesign_playground.cli.console import err_console, print_json
from codesign_playground.cli.keys import DataDir, _database
from codesign_playground.errors import InputError

app = typer.Typer(help="Jobs of the service: retention of their files.")

__all__ = ["app"]


@app.command("prune")
def prune(
    older_than_days: Annotated[
        int | None,
        typer.Option(
            "--older-than-days",
            min=1,
            help="Age in days since the job finished; default CODESIGN_ARTIFACT_RETENTION_DAYS.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count the jobs that would be pruned; delete none.")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Delete the stored report and artifact of every job finished more than N days ago."""
    from codesign_playground.service.retention import prune_artifacts
    from codesign_playground.service.storage import StoreUnavailableError

    with _database(data_dir) as db:
        days = older_than_days or db.settings.codesign_artifact_retention_days
        if days <= 0:
            raise InputError(
                "--older-than-days: give an age, or set CODESIGN_ARTIFACT_RETENTION_DAYS "
                "(0 keeps every file)"
            )
        try:
            report = prune_artifacts(db, db.settings, older_than_days=days, dry_run=dry_run)
        except StoreUnavailableError as exc:
            raise InputError(f"artifact store: {exc}; nothing more was deleted") from None
    what = "would prune" if dry_run else "pruned"
    err_console.print(
        f"{what} {len(report.jobs)} jobs finished before {report.cutoff:%Y-%m-%d %H:%M}"
    )
    print_json(report.to_dict() | {"dry_run": dry_run})
