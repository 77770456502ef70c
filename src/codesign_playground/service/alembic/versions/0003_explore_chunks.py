"""Chunks of exploration jobs: one row per range of design points, results stored as they come.

``(job_id, idx)`` is unique, so planning a job twice inserts nothing new; a chunk's evaluated
points (``rows``) and its own Pareto front are written once, by the first worker that finishes
it. ``explore_runs`` keeps each job's running totals and front, updated in the transaction
that stores a chunk. See docs/scaling.md.

Revision ID: 0003_explore_chunks
Revises: 0002_owners
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_explore_chunks"
down_revision = "0002_owners"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "explore_chunks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "job_id",
            sa.String(36),
            sa.ForeignKey("jobs.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("idx", sa.Integer, nullable=False),
        sa.Column("start", sa.Integer, nullable=False),
        sa.Column("stop", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("worker", sa.String(200), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("points", sa.Integer, nullable=False),
        sa.Column("elapsed_s", sa.Float, nullable=True),
        sa.Column("rows", sa.JSON, nullable=True),
        sa.Column("front", sa.JSON, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("heartbeat_at", _TS, nullable=True),
        sa.Column("finished_at", _TS, nullable=True),
        sa.UniqueConstraint("job_id", "idx", name="uq_explore_chunks_job_idx"),
    )
    op.create_index("ix_explore_chunks_job_status", "explore_chunks", ["job_id", "status"])
    op.create_table(
        "explore_runs",
        sa.Column(
            "job_id",
            sa.String(36),
            sa.ForeignKey("jobs.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("chunks", sa.Integer, nullable=False),
        sa.Column("points", sa.Integer, nullable=False),
        sa.Column("chunks_done", sa.Integer, nullable=False),
        sa.Column("points_done", sa.Integer, nullable=False),
        sa.Column("front", sa.JSON, nullable=True),
        sa.Column("updated_at", _TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("explore_runs")
    op.drop_index("ix_explore_chunks_job_status", table_name="explore_chunks")
    op.drop_table("explore_chunks")
