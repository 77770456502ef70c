"""``codesign serve``: the API, an in-process job worker and the dashboard, with no other server.

The embedded default: SQLite and uploaded data in ``--data-dir``, migrations applied at start,
an in-process cache and rate limits. ``DATABASE_URL`` and ``REDIS_URL`` are ignored here; to
run against PostgreSQL and Redis use ``uvicorn codesign_playground.server:app`` and
``python -m codesign_playground.worker`` (see docs/service.md).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["serve_command"]


def serve_command(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="Folder for the SQLite database and models.")
    ] = Path(".codesign"),
) -> None:
    """Serve the API, the job worker and the dashboard at http://HOST:PORT/ (embedded mode)."""
    import uvicorn

    from codesign_playground.config import Settings, get_settings
    from codesign_playground.service.main import create_app

    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    get_settings.cache_clear()
    base = get_settings()
    hosts = list(dict.fromkeys([*base.allowed_hosts, "localhost", "127.0.0.1", host]))
    if host in ("0.0.0.0", "::"):
        hosts = ["*"]
    settings = Settings(
        **(
            base.model_dump(exclude={"database_url", "redis_url", "database_auto_migrate"})
            | {
                "codesign_data_dir": data_dir,
                "database_url": "",
                "redis_url": "",
                "database_auto_migrate": True,
                "allowed_hosts": hosts,
                "api_host": host,
                "api_port": port,
            }
        )
    )
    typer.echo(f"codesign-playground on http://{host}:{port}/  (data in {data_dir})")
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None, access_log=False)


if __name__ == "__main__":  # python -m codesign_playground.cli.serve (before it is registered)
    typer.run(serve_command)
