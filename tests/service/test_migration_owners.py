"""Migration 0002 on a database that already holds rows, on SQLite and on PostgreSQL: old rows
get random public ids and the owner ``local``; the downgrade restores the old schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from codesign_playground.service.core.db import migrate

from .conftest import create_pg_database, drop_pg_database


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    request.getfixturevalue("services_up")
    name = create_pg_database()
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        drop_pg_database(name)


def test_owners_and_public_ids_for_existing_rows(url: str) -> None:
    migrate(url, "0001")
    engine = sa.create_engine(url)
    now = "2025-01-01 00:00:00+00:00"
    with engine.begin() as conn:
        for i in range(3):
            conn.execute(
                sa.text(
                    "INSERT INTO models (name, filename, sha256, size_bytes, node_count, summary,"
                    " content, created_at) VALUES (:n, 'm.onnx', 'ab', 1, 1, '{}', :c, :t)"
                ),
                {"n": f"m{i}", "c": b"x", "t": now},
            )
        conn.execute(
            sa.text(
                "INSERT INTO hardware (name, kind, spec, created_at)"
                " VALUES ('h', 'systolic', '{}', :t)"
            ),
            {"t": now},
        )
        conn.execute(
            sa.text(
                "INSERT INTO jobs (id, kind, status, params, progress, cancel_requested,"
                " attempts, points_evaluated, created_at)"
                " VALUES ('j1', 'rtl', 'queued', '{}', '{}', false, 0, 0, :t)"
            ),
            {"t": now},
        )
    migrate(url)
    with engine.connect() as conn:
        models = conn.execute(sa.text("SELECT public_id, owner FROM models")).fetchall()
        hardware = conn.execute(sa.text("SELECT public_id, owner FROM hardware")).fetchall()
        jobs = conn.execute(sa.text("SELECT owner FROM jobs")).fetchall()
        keys = conn.execute(sa.text("SELECT count(*) FROM api_keys")).scalar()
    ids = [m[0] for m in models]
    assert len(set(ids)) == 3 and all(len(i) == 16 and not i.isdigit() for i in ids)
    assert {m[1] for m in models} == {"local"} and hardware[0][1] == "local"
    assert jobs[0][0] == "local" and keys == 0
    from alembic import command

    from codesign_playground.service.core.db import alembic_config

    command.downgrade(alembic_config(url), "0001")
    with engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("models")}
        assert "owner" not in columns and "public_id" not in columns
        assert not sa.inspect(conn).has_table("api_keys")
    engine.dispose()
