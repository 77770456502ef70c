"""``codesign serve``: the API, an in-process job worker and the dashboard, with no other server.

The embedded default: SQLite and uploaded data in ``--data-dir``, migrations applied at start,
an in-process cache and rate limits. ``DATABASE_URL`` and ``REDIS_URL`` are ignored here; to
run against PostgreSQL and Redis use ``uvicorn codesign_playground.server:app`` and
``python -m codesign_playground.worker`` (see docs/service.md).

On loopback (the default ``127.0.0.1``) no key is needed (``AUTH_MODE=none``). On any other
address the server requires API keys (``codesign keys create --data-dir DIR``) and accepts
only the host names it knows (``ALLOWED_HOSTS``, this machine's names, ``--allow-host``),
never any host: a ``*`` would let DNS rebinding reach it.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Annotated

import typer

from codesign_playground.errors import InputError

__all__ = ["serve_command"]


def _machine_names() -> list[str]:
    """This machine's host names and addresses (for ``ALLOWED_HOSTS`` on a public bind)."""
    names = [socket.gethostname(), socket.getfqdn()]
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None):
            names.append(str(info[4][0]))
    except OSError:
        pass
    return [n for n in dict.fromkeys(names) if n]


def serve_command(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="Folder for the SQLite database and models.")
    ] = Path(".codesign"),
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-host", help="Another host name clients use (repeatable; ALLOWED_HOSTS)."
        ),
    ] = None,
) -> None:
    """Serve the API, the job worker and the dashboard at http://HOST:PORT/ (embedded mode)."""
    import uvicorn
    from pydantic import ValidationError

    from codesign_playground.config import Settings, get_settings, is_loopback
    from codesign_playground.service.main import create_app

    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    get_settings.cache_clear()
    base = get_settings()
    local = is_loopback(host)
    if not local and os.environ.get("AUTH_MODE", "").lower() == "none":
        raise InputError(
            f"AUTH_MODE: none is allowed only on loopback (--host {host}); unset it, and "
            f"create a key with: codesign keys create --owner NAME --scope admin "
            f"--data-dir {data_dir}"
        )
    hosts = [*base.allowed_hosts, "localhost", "127.0.0.1", *(allow_host or [])]
    if host in ("0.0.0.0", "::"):
        hosts += _machine_names()
    elif not local:
        hosts.append(host)
    hosts = [h for h in dict.fromkeys(hosts) if h != "*"]
    overrides = {
        "codesign_data_dir": data_dir,
        "database_url": "",
        "redis_url": "",
        "database_auto_migrate": True,
        "allowed_hosts": hosts,
        "api_host": host,
        "api_port": port,
    }
    exclude = {"database_url", "redis_url", "database_auto_migrate"}
    if base.auth_mode != "api-key":
        exclude.add("auth_mode")  # derived again for this host
    try:
        settings = Settings(**(base.model_dump(exclude=exclude) | overrides))
    except ValidationError as exc:
        raise InputError(" ".join(str(exc.errors()[0]["msg"]).split())) from None
    typer.echo(f"codesign-playground on http://{host}:{port}/  (data in {data_dir})")
    if settings.auth_mode == "api-key":
        typer.echo(
            "AUTH_MODE=api-key: clients send 'Authorization: Bearer <key>'; create one with "
            f"codesign keys create --owner NAME --scope admin --data-dir {data_dir}"
        )
    if not local:
        typer.echo(f"accepted host names (ALLOWED_HOSTS): {', '.join(hosts)}")
    # the app resolves X-Forwarded-For itself, only from FORWARDED_ALLOW_IPS (none by default);
    # uvicorn's own handling would trust 127.0.0.1 whatever the settings say
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
    )


if __name__ == "__main__":  # python -m codesign_playground.cli.serve (before it is registered)
    typer.run(serve_command)
