"""Owners, public ids and API keys.

Every model, hardware description and job gets an ``owner`` (rows stored before this revision
belong to ``local``, the owner of the key-less embedded mode; admins see them). Models and
hardware descriptions get a random ``public_id`` that the API shows instead of the sequential
key. ``api_keys`` stores the SHA-256 of each key, never the key.

Revision ID: 0002_owners
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0002_owners"
down_revision = "0001"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    bind = op.get_bind()
    for table in ("models", "hardware"):  # fixed names: the f-strings below hold no input
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("public_id", sa.String(32), nullable=True))
            batch.add_column(
                sa.Column("owner", sa.String(200), nullable=False, server_default="local")
            )
        rows = bind.execute(sa.text(f"SELECT id FROM {table}")).fetchall()  # nosec B608
        for (pk,) in rows:
            update = f"UPDATE {table} SET public_id = :p WHERE id = :i"  # nosec B608
            bind.execute(
                sa.text(update),
                {"p": secrets.token_urlsafe(12), "i": pk},
            )
        with op.batch_alter_table(table) as batch:
            batch.alter_column("public_id", existing_type=sa.String(32), nullable=False)
            batch.create_index(f"ix_{table}_public_id", ["public_id"], unique=True)
            batch.create_index(f"ix_{table}_owner", ["owner"])
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("owner", sa.String(200), nullable=False, server_default="local"))
        batch.create_index("ix_jobs_owner", ["owner"])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("owner", sa.String(200), nullable=False, index=True),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True, index=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("revoked_at", _TS, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("api_keys")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_owner")
        batch.drop_column("owner")
    for table in ("hardware", "models"):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_owner")
            batch.drop_index(f"ix_{table}_public_id")
            batch.drop_column("owner")
            batch.drop_column("public_id")
