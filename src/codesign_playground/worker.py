"""The job worker: ``python -m codesign_playground.worker`` starts a Celery worker.

It reads the same settings as the API (``REDIS_URL``, ``DATABASE_URL``, ``JOB_QUEUE``,
``WORKER_CONCURRENCY``, ``JOB_TIME_LIMIT_SECONDS`` ...) and consumes the interactive queue
(``JOB_QUEUE``) and the long-search queue (``CODESIGN_EXPLORE_QUEUE``, default
``JOB_QUEUE-explore``), or only the ones ``CODESIGN_WORKER_QUEUES`` names. It refuses to
start without Redis or against an unmigrated database, keeps a heartbeat key in Redis (what
``/health/ready`` counts) and re-sends jobs whose message was lost (and chunks whose worker
went silent) when it starts and every minute after.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import Any

from codesign_playground.config import get_settings

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Start the worker; extra arguments are passed to ``celery worker``."""
    from celery import signals  # type: ignore[import-untyped]

    from codesign_playground.service.core import tracing
    from codesign_playground.service.core.db import (
        Database,
        DatabaseNotMigratedError,
        check_migrated,
    )
    from codesign_playground.service.core.logging import setup_logging
    from codesign_playground.service.jobs.celery_app import (
        WorkerHeartbeat,
        _database,
        make_celery,
        reconcile,
    )

    settings = get_settings()
    setup_logging(
        settings.codesign_log_level,
        static={"service": "worker", "env": settings.codesign_env, "pod": settings.pod_name},
    )
    if not settings.redis_url:
        print(
            "error: REDIS_URL is not set; the worker needs Redis (without it, "
            "'codesign serve' runs jobs in-process)",
            file=sys.stderr,
        )
        return 2
    db = Database(settings)
    try:
        check_migrated(db.engine)
    except DatabaseNotMigratedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    finally:
        db.dispose()
    app = make_celery(settings)
    name = f"codesign-{os.getpid()}@{socket.gethostname()}"
    heartbeat = WorkerHeartbeat(app, settings, name)

    @signals.worker_ready.connect(weak=False)  # type: ignore[untyped-decorator]
    def _ready(**_: Any) -> None:
        reconcile(app, _database(settings), settings, queued_older_than_s=60)
        heartbeat.start()

    @signals.worker_shutting_down.connect(weak=False)  # type: ignore[untyped-decorator]
    def _stopping(**_: Any) -> None:
        heartbeat.stop()

    @signals.worker_process_init.connect(weak=False)  # type: ignore[untyped-decorator]
    def _child(**_: Any) -> None:
        from codesign_playground.service.jobs import celery_app

        celery_app._DATABASES.clear()  # never reuse the parent's connections after fork
        # after the fork: the span exporter's thread does not survive one
        tracing.setup_tracing(settings, "worker")

    @signals.worker_process_shutdown.connect(weak=False)  # type: ignore[untyped-decorator]
    def _child_exit(**_: Any) -> None:
        tracing.flush()

    args = [
        "--quiet",  # no banner: the output carries JSON log lines only
        "worker",
        f"--loglevel={settings.codesign_log_level}",
        "--queues",
        ",".join(settings.worker_queue_names),
        "--concurrency",
        str(settings.worker_concurrency),
        "--hostname",
        name,
        "--without-gossip",
        "--without-mingle",
        *(argv if argv is not None else sys.argv[1:]),
    ]
    app.worker_main(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
