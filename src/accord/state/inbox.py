"""The inbox of verified change notifications: stored once by key, claimed and drained."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accord.state.models import WebhookDelivery
from accord.state.types import utcnow


@dataclass(frozen=True)
class Change:
    """One change a system notified: which record of which entity, and how."""

    connection: str
    entity: str
    record_id: str | None
    change: str
    """created | updated | deleted | collection"""
    identity: str
    """What makes this notification unique at its sender (a replay repeats it)."""

    @property
    def key(self) -> str:
        text = f"{self.connection}|{self.identity}"
        return hashlib.sha256(text.encode()).hexdigest()


def store(session: Session, changes: Sequence[Change]) -> int:
    """Store changes not seen before; return how many were new (replays add nothing)."""
    if not changes:
        return 0
    keys = [c.key for c in changes]
    seen = set(
        session.scalars(
            select(WebhookDelivery.delivery_key).where(WebhookDelivery.delivery_key.in_(keys))
        )
    )
    added = 0
    for change in {c.key: c for c in changes if c.key not in seen}.values():
        try:
            with session.begin_nested():
                session.add(
                    WebhookDelivery(
                        delivery_key=change.key,
                        connection=change.connection,
                        entity=change.entity,
                        record_id=change.record_id,
                        change=change.change,
                    )
                )
            added += 1
        except IntegrityError:  # the same delivery arrived twice at once
            continue
    return added


def claim(session: Session, limit: int = 5000) -> list[WebhookDelivery]:
    """Take pending deliveries (oldest first) for this drainer; another drainer running at
    the same time takes others (row locks on PostgreSQL, one writer on SQLite)."""
    rows = list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.status == "pending")
            .order_by(WebhookDelivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    for row in rows:
        row.status = "taken"
    session.flush()
    return rows


def finish(session: Session, ids: Iterable[int], status: str = "processed") -> None:
    """Mark claimed deliveries done (or ``failed``: the scheduled pass is the safety net)."""
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(list(ids)))
        .values(status=status, processed_at=utcnow())
    )
