"""The tables of Accord's state (SQLAlchemy 2 declarative)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from accord.state.types import UTCDateTime, utcnow


class Base(DeclarativeBase):
    """Declarative base of every state table."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


def new_id() -> str:
    """A random id for rows identified by a string."""
    return str(uuid.uuid4())


class Connection(Base):
    """A connected system: its typed settings as one JSON document, secrets sealed
    (``{"$secret": <encrypted>}``; see :mod:`accord.state.connections`)."""

    __tablename__ = "connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    system: Mapped[str] = mapped_column(String(50))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Integration(Base):
    """One instance of a template between a local (ERP) and a remote (CRM) connection.

    ``spec`` is the whole template as one validated JSON document (field mapping ids filled
    in once), the single place the mappings live.
    """

    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    template: Mapped[str] = mapped_column(String(100))
    local_connection: Mapped[str] = mapped_column(String(100))
    remote_connection: Mapped[str] = mapped_column(String(100))
    spec: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TableMapping(Base):
    """A mapping's identity within an integration: what couplings, jobs and watermarks refer
    to. Its definition lives in the integration's ``spec``."""

    __tablename__ = "table_mappings"
    __table_args__ = (UniqueConstraint("integration_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(50))
    position: Mapped[int] = mapped_column(default=0)


class Coupling(Base):
    """Links one local record to one remote record (Microsoft: CRM Integration Record).

    ``baseline`` holds, per field mapping, the pair of values last synchronized; it drives
    three-way change detection and field-level merge. ``local_hash`` / ``remote_hash`` are
    hashes of each side's mapped fields as last written or read, so a side's own echo is
    recognised without comparing timestamps. A row with ``state='creating'`` is the intent
    recorded before a create, making creates idempotent across crashes.
    """

    __tablename__ = "couplings"
    __table_args__ = (
        UniqueConstraint("mapping_id", "local_id", name="uq_coupling_local"),
        UniqueConstraint("mapping_id", "remote_id", name="uq_coupling_remote"),
        Index("ix_coupling_local_key", "mapping_id", "local_key"),
        Index("ix_coupling_remote_key", "mapping_id", "remote_key"),
        Index(
            "ix_coupling_results", "mapping_id", "last_result_to_remote", "last_result_from_remote"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mapping_id: Mapped[int] = mapped_column(ForeignKey("table_mappings.id", ondelete="CASCADE"))
    local_id: Mapped[str | None] = mapped_column(String(100))
    remote_id: Mapped[str | None] = mapped_column(String(100))
    local_key: Mapped[str | None] = mapped_column(String(200))
    remote_key: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), default="coupled")
    local_modified_at: Mapped[datetime | None] = mapped_column()
    remote_modified_at: Mapped[datetime | None] = mapped_column()
    last_result_to_remote: Mapped[str | None] = mapped_column(String(20))
    last_result_from_remote: Mapped[str | None] = mapped_column(String(20))
    last_job_to_remote: Mapped[str | None] = mapped_column(String(36))
    last_job_from_remote: Mapped[str | None] = mapped_column(String(36))
    last_error_to_remote: Mapped[str | None] = mapped_column(Text)
    last_error_from_remote: Mapped[str | None] = mapped_column(Text)
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    baseline: Mapped[dict[str, Any]] = mapped_column(default=dict)
    local_hash: Mapped[str | None] = mapped_column(String(64))
    remote_hash: Mapped[str | None] = mapped_column(String(64))
    deleted_side: Mapped[str | None] = mapped_column(String(10))
    seen_job: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Watermark(Base):
    """How far one side of a mapping has been read: a timestamp and, where offered, a token."""

    __tablename__ = "watermarks"

    mapping_id: Mapped[int] = mapped_column(
        ForeignKey("table_mappings.id", ondelete="CASCADE"), primary_key=True
    )
    side: Mapped[str] = mapped_column(String(10), primary_key=True)
    since: Mapped[datetime | None] = mapped_column()
    token: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Job(Base):
    """One pass of one mapping in one direction (or a coupling / resolve job), with counters."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_mapping_started", "mapping_id", "started_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    mapping_id: Mapped[int | None] = mapped_column(
        ForeignKey("table_mappings.id", ondelete="CASCADE")
    )
    direction: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="running")
    dry_run: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    message: Mapped[str | None] = mapped_column(Text)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    modified: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    coupled: Mapped[int] = mapped_column(Integer, default=0)
    uncoupled: Mapped[int] = mapped_column(Integer, default=0)
    conflicts: Mapped[int] = mapped_column(Integer, default=0)


class JobError(Base):
    """One record's failure within a job."""

    __tablename__ = "job_errors"
    __table_args__ = (Index("ix_job_errors_job", "job_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    mapping_id: Mapped[int | None] = mapped_column(
        ForeignKey("table_mappings.id", ondelete="CASCADE")
    )
    source_id: Mapped[str | None] = mapped_column(String(100))
    destination_id: Mapped[str | None] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Conflict(Base):
    """A true conflict held for a person: both sides changed the same field differently."""

    __tablename__ = "conflicts"
    __table_args__ = (Index("ix_conflicts_open", "mapping_id", "resolved_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mapping_id: Mapped[int] = mapped_column(ForeignKey("table_mappings.id", ondelete="CASCADE"))
    coupling_id: Mapped[int] = mapped_column(ForeignKey("couplings.id", ondelete="CASCADE"))
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    detected_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolution: Mapped[str | None] = mapped_column(Text)


class Lease(Base):
    """A time-limited claim on a piece of work (a pass, a record), taken by conditional UPDATE."""

    __tablename__ = "leases"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    owner: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column()
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)
    boot_id: Mapped[str | None] = mapped_column(String(64))
    heartbeat_at: Mapped[datetime | None] = mapped_column()
