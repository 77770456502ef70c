"""Engine, sessions and the migration check.

PostgreSQL is reached through psycopg 3 with a bounded pool (``DATABASE_POOL_SIZE``,
``DATABASE_POOL_TIMEOUT``); SQLite (the embedded default) runs in WAL mode so the API and the
in-process worker threads can read while one writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from codesign_playground.config import Settings

__all__ = [
    "ALEMBIC_DIR",
    "Database",
    "DatabaseNotMigratedError",
    "alembic_config",
    "check_migrated",
    "make_engine",
    "migrate",
]

ALEMBIC_DIR = Path(__file__).resolve().parents[1] / "alembic"


class DatabaseNotMigratedError(RuntimeError):
    """The database schema is not at the latest migration; the message names the fix."""


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(settings: Settings) -> Engine:
    """An engine for ``DATABASE_URL`` with the pool settings applied."""
    url = settings.database_url
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # looked up at call time: tracing (when on) wraps sqlalchemy.create_engine
        engine = sqlalchemy.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_pre_ping=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sqlalchemy.create_engine(
        url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size,
        pool_timeout=settings.database_pool_timeout,
        pool_pre_ping=True,
        connect_args={"connect_timeout": max(1, int(settings.database_pool_timeout))},
    )


class Database:
    """An engine plus its session factory."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = make_engine(settings)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error."""
        with self.sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at the migrations shipped in the package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(ALEMBIC_DIR))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    cfg.attributes["database_url"] = database_url
    return cfg


def migrate(database_url: str, revision: str = "head") -> None:
    """Apply the migrations up to ``revision`` (idempotent)."""
    command.upgrade(alembic_config(database_url), revision)


def check_migrated(engine: Engine) -> None:
    """Raise :class:`DatabaseNotMigratedError` unless the schema is at the latest migration."""
    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current != head:
        where = engine.url.render_as_string(hide_password=True)
        raise DatabaseNotMigratedError(
            f"database {where} is not migrated (revision {current or 'none'}, latest {head}); "
            "run: python scripts/init_db.py"
        )
