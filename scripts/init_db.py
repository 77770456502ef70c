#!/usr/bin/env python
"""Create or upgrade the service database to the latest migration.

Reads DATABASE_URL (and the other settings) like the API does; waits up to
DATABASE_POOL_TIMEOUT seconds for the database to answer, then runs the Alembic migrations
shipped in codesign_playground/service/alembic. Safe to run again: it only applies what is
missing. ``--sql`` prints the SQL instead of running it.
"""

from __future__ import annotations

import argparse
import sys
import time

from sqlalchemy import create_engine, text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="override DATABASE_URL")
    parser.add_argument("--sql", action="store_true", help="print the SQL, change nothing")
    args = parser.parse_args()

    from alembic import command

    from codesign_playground.config import Settings, get_settings
    from codesign_playground.service.core.db import alembic_config, migrate

    settings = get_settings()
    url = (
        Settings(database_url=args.database_url).database_url
        if args.database_url
        else settings.database_url
    )
    if args.sql:
        command.upgrade(alembic_config(url), "head", sql=True)
        return 0
    if url.startswith("sqlite"):
        from pathlib import Path

        Path(url.split("///", 1)[-1]).parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + settings.database_pool_timeout
    engine = create_engine(url)
    while True:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            break
        except Exception as exc:
            if time.monotonic() > deadline:
                print(f"error: database not reachable: {exc}".splitlines()[0], file=sys.stderr)
                return 1
            time.sleep(1)
    engine.dispose()
    migrate(url)
    print(f"database at revision head: {engine.url.render_as_string(hide_password=True)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
