"""The tables of Accord's state (SQLAlchemy 2 declarative)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    attribute_keyed_dict,
    mapped_column,
    relationship,
)

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
    """One instance of a template: which connection plays each of its roles.

    ``spec`` is the whole template as one validated JSON document (field mapping ids filled
    in once), the single place the mappings live; ``connections`` maps role -> connection.
    """

    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    template: Mapped[str] = mapped_column(String(100))
    connections: Mapped[dict[str, Any]] = mapped_column(default=dict)
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
    """Records of several systems known to be the same (Microsoft: CRM Integration Record):
    one :class:`CouplingLink` per role.

    ``state`` is ``coupled``; ``creating`` -- the intent recorded before a create, which makes
    creates idempotent across crashes; or ``uncoupled`` -- a marker left on the survivor when
    the other record was deleted under the ``uncouple`` policy (``deleted_role`` names it).
    """

    __tablename__ = "couplings"
    __table_args__ = (Index("ix_coupling_mapping_state", "mapping_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mapping_id: Mapped[int] = mapped_column(ForeignKey("table_mappings.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(20), default="coupled")
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_role: Mapped[str | None] = mapped_column(String(20))
    seen_job: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    links: Mapped[dict[str, CouplingLink]] = relationship(
        collection_class=attribute_keyed_dict("role"),
        cascade="all, delete-orphan",
        lazy="selectin",
        back_populates="coupling",
    )


class CouplingLink(Base):
    """One role's record in a coupling.

    ``synced`` holds, per field mapping id, the value this record had when the pair was last
    synchronized -- with the other link's, the baseline of three-way change detection and
    field-level merge. ``content_hash`` hashes its mapped fields as last written or read, so
    the record's own echo is recognised without comparing timestamps; ``version`` is the
    last modified-on seen. ``last_result`` / ``last_job`` / ``last_error`` describe the last
    pass that carried this record to the other role.
    """

    __tablename__ = "coupling_links"
    __table_args__ = (
        UniqueConstraint("mapping_id", "role", "record_id", name="uq_link_record"),
        Index("ix_link_key", "mapping_id", "role", "natural_key"),
        Index("ix_link_result", "mapping_id", "role", "last_result"),
    )

    coupling_id: Mapped[int] = mapped_column(
        ForeignKey("couplings.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    mapping_id: Mapped[int] = mapped_column(ForeignKey("table_mappings.id", ondelete="CASCADE"))
    connection: Mapped[str | None] = mapped_column(String(100))
    entity: Mapped[str | None] = mapped_column(String(100))
    record_id: Mapped[str | None] = mapped_column(String(100))
    natural_key: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[datetime | None] = mapped_column()
    content_hash: Mapped[str | None] = mapped_column(String(64))
    synced: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_result: Mapped[str | None] = mapped_column(String(20))
    last_job: Mapped[str | None] = mapped_column(String(36))
    last_error: Mapped[str | None] = mapped_column(Text)
    coupling: Mapped[Coupling] = relationship(back_populates="links")


class Watermark(Base):
    """How far one role of a mapping has been read: a timestamp and, where offered, a token."""

    __tablename__ = "watermarks"

    mapping_id: Mapped[int] = mapped_column(
        ForeignKey("table_mappings.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
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


class WebhookSubscription(Base):
    """A change-notification subscription Accord holds at a system (a BC subscription)."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (UniqueConstraint("connection", "remote_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection: Mapped[str] = mapped_column(String(100))
    remote_id: Mapped[str] = mapped_column(String(100))
    resource: Mapped[str] = mapped_column(Text)
    entity: Mapped[str] = mapped_column(String(100))
    client_state_hash: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the client state: the secret is compared, never stored in clear."""
    notification_url: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column()
    etag: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    """One verified change notification, stored once (its key makes replays no-ops) and
    drained into record passes."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("delivery_key"),
        Index("ix_webhook_deliveries_pending", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_key: Mapped[str] = mapped_column(String(64))
    connection: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(100))
    record_id: Mapped[str | None] = mapped_column(String(100))
    change: Mapped[str] = mapped_column(String(20))
    """created | updated | deleted | collection"""
    status: Mapped[str] = mapped_column(String(20), default="pending")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column()
