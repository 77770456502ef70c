"""``codesign keys``: create, list and revoke the service's API keys in its database.

The database is the one the server uses: SQLite in ``--data-dir`` (as ``codesign serve
--data-dir``), else ``DATABASE_URL`` or the SQLite file in ``CODESIGN_DATA_DIR``. A new key is
printed once on stdout (``KEY=$(codesign keys create ...)``); only its SHA-256 is stored.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from codesign_playground.cli.console import err_console, out_console
from codesign_playground.errors import InputError

if TYPE_CHECKING:
    from codesign_playground.service.core.db import Database

app = typer.Typer(help="API keys of the service (AUTH_MODE=api-key).")

__all__ = ["app"]

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="The server's data folder (SQLite); default: DATABASE_URL or CODESIGN_DATA_DIR.",
    ),
]


@contextmanager
def _database(data_dir: Path | None) -> Iterator[Database]:
    from sqlalchemy.exc import SQLAlchemyError

    from codesign_playground.config import Settings, get_settings
    from codesign_playground.service.core.db import (
        Database,
        DatabaseNotMigratedError,
        check_migrated,
        migrate,
    )

    get_settings.cache_clear()
    with warnings.catch_warnings():  # keys need no SECRET_KEY: no placeholder warning here
        warnings.simplefilter("ignore", UserWarning)
        settings = get_settings()
        if data_dir is not None:
            data_dir = data_dir.expanduser().resolve()
            data_dir.mkdir(parents=True, exist_ok=True)
            settings = Settings(
                **settings.model_dump(
                    exclude={"database_url", "redis_url", "database_auto_migrate", "auth_mode"}
                )
                | {"codesign_data_dir": data_dir, "database_url": "", "redis_url": ""}
            )
    db = Database(settings)
    try:
        if settings.database_auto_migrate:
            migrate(settings.database_url)
        check_migrated(db.engine)
        yield db
    except DatabaseNotMigratedError as exc:
        raise InputError(f"database: {exc}") from None
    except SQLAlchemyError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"database: cannot use {db.engine.url!r}: {first}") from None
    finally:
        db.dispose()


@app.command("create")
def create(
    owner: Annotated[str, typer.Option("--owner", help="Whose objects the key reaches.")],
    scope: Annotated[
        str, typer.Option("--scope", help="read, write (read + create/cancel) or admin.")
    ] = "write",
    data_dir: DataDir = None,
) -> None:
    """Create a key and print it (once: only its hash is stored)."""
    from codesign_playground.service.core.security import create_key

    with _database(data_dir) as db, db.session() as session:
        row, key = create_key(session, owner=owner, scope=scope)
        key_id, row_owner, row_scope = row.id, row.owner, row.scope
    err_console.print(f"created {key_id} for owner {row_owner!r} with scope {row_scope}")
    typer.echo(key)


@app.command("list")
def list_command(data_dir: DataDir = None) -> None:
    """Every key: id, owner, scope, first characters, created, revoked."""
    from rich.table import Table

    from codesign_playground.service.core.security import list_keys

    table = Table("id", "owner", "scope", "prefix", "created", "revoked")
    with _database(data_dir) as db, db.session() as session:
        for row in list_keys(session):
            table.add_row(
                row.id,
                row.owner,
                row.scope,
                row.prefix + "…",
                f"{row.created_at:%Y-%m-%d %H:%M}",
                f"{row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "",
            )
    out_console.print(table)


@app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (codesign keys list).")],
    data_dir: DataDir = None,
) -> None:
    """Revoke a key (servers stop accepting it within 5 s)."""
    from codesign_playground.service.core.security import revoke_key

    with _database(data_dir) as db, db.session() as session:
        row = revoke_key(session, key_id=key_id)
        if row is None:
            raise InputError(f"ID: no key with id {key_id!r}; see 'codesign keys list'")
    err_console.print(f"revoked {key_id}")
