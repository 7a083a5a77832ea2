"""Tables of the runtime: submitted workloads and API tokens.

Kept beside :mod:`accord.state.models` (same declarative base, same migrations) so the
engine's tables and the runtime's can change apart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from accord.state.models import Base
from accord.state.types import utcnow


class WorkloadRow(Base):
    """One submitted workload, keyed by its idempotency key.

    ``status``: ``queued`` -> ``running`` -> ``done`` or ``failed`` (``queued`` again when a
    transient failure sends it back). ``attempts`` counts starts: a worker killed mid-run leaves
    it ``running``, and the worker that finishes it counts a second attempt.
    """

    __tablename__ = "workloads"
    __table_args__ = (Index("ix_workloads_status", "status", "enqueued_at"),)

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(200))
    enqueued_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    message: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ApiToken(Base):
    """An API token: only its SHA-256 is stored; ``prefix`` (its first characters) names it
    in listings. A revoked token stays listed with ``revoked_at`` set."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
