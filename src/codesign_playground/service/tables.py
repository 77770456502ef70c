"""SQLAlchemy tables: stored models, hardware descriptions and jobs (the API schemas are apart)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "ApiKeyRow",
    "Base",
    "ChunkRow",
    "ExploreRunRow",
    "HardwareRow",
    "JobRow",
    "ModelRow",
    "new_public_id",
    "utcnow",
]


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_public_id() -> str:
    """A random, non-sequential public id (96 bits, 16 url-safe characters)."""
    return secrets.token_urlsafe(12)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        datetime: DateTime(timezone=True),
    }


class ModelRow(Base):
    """An uploaded ONNX graph; the file itself is kept in ``content``.

    ``pk`` is the internal key; ``id`` (column ``public_id``) is the random id the API shows.
    """

    __tablename__ = "models"

    pk: Mapped[int] = mapped_column("id", Integer, primary_key=True)
    id: Mapped[str] = mapped_column(
        "public_id", String(32), unique=True, index=True, default=new_public_id
    )
    owner: Mapped[str] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    node_count: Mapped[int] = mapped_column(Integer)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HardwareRow(Base):
    """A validated hardware description (the canonical dict of a ``HardwareSpec``)."""

    __tablename__ = "hardware"

    pk: Mapped[int] = mapped_column("id", Integer, primary_key=True)
    id: Mapped[str] = mapped_column(
        "public_id", String(32), unique=True, index=True, default=new_public_id
    )
    owner: Mapped[str] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobRow(Base):
    """One background job (an exploration or an RTL generation) and everything it produced.

    ``status`` moves queued -> running -> succeeded | failed | cancelled; a running job whose
    heartbeat is stale is claimable again (its worker died). Progress and partial results are
    written while it runs. The report and artifact (a tarball) go to the artifact store
    (:mod:`codesign_playground.service.storage`), recorded in ``result["storage"]``; the
    ``report`` and ``artifact`` columns hold them only with ``ARTIFACT_STORE=database`` (and in
    rows written before stores existed).
    """

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    owner: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    progress: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    points_evaluated: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    artifact_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    artifact: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)
    report: Mapped[str | None] = mapped_column(Text, nullable=True, deferred=True)


class ApiKeyRow(Base):
    """An API key: only the SHA-256 of the key is stored (the key is shown once, at creation)."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200), index=True)
    scope: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)


class ChunkRow(Base):
    """One chunk of design points of an exploration job (a grid range or a random batch).

    ``(job_id, idx)`` is unique: the planner's inserts are idempotent. ``status`` moves
    pending -> running -> done (or cancelled); a running chunk whose ``heartbeat_at`` is stale
    is claimable again (its worker died). The first completion wins: a late duplicate finds the
    chunk done and stores nothing, so each point is counted once. ``rows`` holds the chunk's
    evaluated points (column-wise JSON), ``front`` its own feasible Pareto front.
    """

    __tablename__ = "explore_chunks"
    __table_args__ = (
        UniqueConstraint("job_id", "idx", name="uq_explore_chunks_job_idx"),
        Index("ix_explore_chunks_job_status", "job_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(36), ForeignKey("jobs.id", ondelete="CASCADE"))
    idx: Mapped[int] = mapped_column(Integer)
    start: Mapped[int] = mapped_column(Integer)
    stop: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    points: Mapped[int] = mapped_column(Integer, default=0)
    elapsed_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    rows: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True, deferred=True)
    front: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)


class ExploreRunRow(Base):
    """Running totals of a chunked exploration, updated in the transaction that stores a chunk
    (under a row lock), so progress costs one row read however many chunks the job has."""

    __tablename__ = "explore_runs"

    job_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
    )
    chunks: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer, default=0)
    chunks_done: Mapped[int] = mapped_column(Integer, default=0)
    points_done: Mapped[int] = mapped_column(Integer, default=0)
    front: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
