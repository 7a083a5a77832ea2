"""Tables of the document engine: line couplings, the per-document event history and the
values an integration gives a document mapping's settings.

A document's header coupling is an ordinary side-neutral :class:`~accord.state.models.Coupling`
of the document mapping (its ``state`` names the step a transfer has reached); these tables
hang off it. Kept beside :mod:`accord.state.models` (same base, same migrations).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from accord.state.models import Base
from accord.state.types import utcnow


class DocumentLine(Base):
    """One target line of a coupled document, planned before it is written.

    ``position`` is the number the engine gives the line in the target (BC's ``sequence``);
    a line written before a crash is found again by it. ``source_key`` is the source line's
    key (``<key>#<n>`` for the n-th comment line that carries its overflow text); ``target_id``
    is empty until the write is confirmed; ``content_hash`` hashes the values written."""

    __tablename__ = "document_lines"
    __table_args__ = (
        UniqueConstraint("coupling_id", "position", name="uq_document_line_position"),
        Index("ix_document_lines_key", "coupling_id", "source_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    coupling_id: Mapped[int] = mapped_column(ForeignKey("couplings.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    source_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="line")
    """``line``, ``comment`` (overflow text of the line it follows) or ``charge``."""
    target_id: Mapped[str | None] = mapped_column(String(100))
    content_hash: Mapped[str | None] = mapped_column(String(64))


class DocumentEvent(Base):
    """One entry of a document's history: what happened, when, from where and why.

    ``once_key`` (unique per mapping) makes an event happen once whatever the retries (a
    timeline post per shipment); ``detail`` carries its values (the fields a state change
    moved, the values a write-back unlocked)."""

    __tablename__ = "document_events"
    __table_args__ = (
        UniqueConstraint("mapping_id", "once_key", name="uq_document_event_once"),
        Index("ix_document_events_coupling", "coupling_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mapping_id: Mapped[int] = mapped_column(ForeignKey("table_mappings.id", ondelete="CASCADE"))
    coupling_id: Mapped[int] = mapped_column(ForeignKey("couplings.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(60))
    role: Mapped[str | None] = mapped_column(String(20))
    """The role where it happened (None: in Accord)."""
    source: Mapped[str] = mapped_column(String(20), default="accord")
    """Who caused it: ``accord``, or the role whose system changed the document."""
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    once_key: Mapped[str | None] = mapped_column(String(200))
    job_id: Mapped[str | None] = mapped_column(String(36))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)


class DocumentSetting(Base):
    """The value an integration gives one setting of a document mapping
    (``write_in_item``); a setting without a row takes the template's default."""

    __tablename__ = "document_settings"

    mapping_id: Mapped[int] = mapped_column(
        ForeignKey("table_mappings.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
