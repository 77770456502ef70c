"""Backup and restore drill (docs/operations.md): pg_dump -Fc of a database the app wrote,
pg_restore into a new database, the app started on the restored copy serves the same data."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tests.deploy.conftest import Service, drop_database, need, new_database, pg_url

pytestmark = pytest.mark.slow


def test_pg_dump_restore_drill(database: str, tmp_path: Path) -> None:
    pg_dump, pg_restore = need("pg_dump"), need("pg_restore")
    source = Service(tmp_path / "source", database, redis=False, extra={})
    source.migrate()
    try:
        source.start_api()
        with source.client() as c:
            created = []
            for rows in (8, 16):
                spec = c.post(
                    "/api/v1/hardware/templates/systolic",
                    json={"params": {"rows": rows, "cols": rows}},
                )
                assert spec.status_code == 200, spec.text
                r = c.post("/api/v1/hardware", json={"spec": spec.json()})
                assert r.status_code == 201, r.text
                created.append(r.json())
            before = c.get("/api/v1/hardware").json()
            one_before = c.get(f"/api/v1/hardware/{created[1]['id']}").json()
    finally:
        source.stop()
    assert len(before) == 2

    dump = tmp_path / "codesign.dump"
    subprocess.run(
        [pg_dump, "-Fc", "--no-owner", "-d", pg_url(database), "-f", str(dump)],
        check=True,
        timeout=120,
    )
    restored = new_database("codesign_restore")
    try:
        subprocess.run(
            [pg_restore, "--no-owner", "--exit-on-error", "-d", pg_url(restored), str(dump)],
            check=True,
            timeout=120,
        )
        drop_database(database)  # the original is gone: only the restored copy can answer
        copy = Service(tmp_path / "restored", restored, redis=False, extra={})
        try:
            copy.start_api()  # no migration: the restored schema is at head already
            copy.wait_ready()
            with copy.client() as c:
                assert c.get("/api/v1/hardware").json() == before
                assert c.get(f"/api/v1/hardware/{created[1]['id']}").json() == one_before
                # the restored sequences continue: a new row gets a new id
                spec = c.post(
                    "/api/v1/hardware/templates/systolic", json={"params": {"rows": 4, "cols": 4}}
                ).json()
                r = c.post("/api/v1/hardware", json={"spec": spec})
                assert r.status_code == 201, r.text
                assert r.json()["id"] not in {h["id"] for h in before}
        finally:
            copy.stop()
    finally:
        drop_database(restored)
