"""Subscriptions at the systems, and draining the inbox of notified changes into passes.

``subscribe`` asks every connection that can notify (a :class:`ChangeSubscriber`) to call the
receiver for each entity an integration maps; ``renew_due`` renews them before they lapse
(the scheduler calls it); ``drain`` turns stored changes into record passes in the mapping's
direction away from the notifying side. A change the drain misses is caught by the
scheduled incremental pass, the safety net.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.config.spec import to_role
from accord.connectors.base import ChangeSubscriber, ChangeSubscription, ChangeTracking
from accord.errors import AccordError
from accord.observability.logs import get_logger
from accord.services.hub import Hub
from accord.services.webhooks import client_state_hash
from accord.state import inbox
from accord.state.models import Integration, WebhookSubscription
from accord.state.store import IntegrationConfig, load_integration
from accord.state.types import utcnow
from accord.sync.context import SyncContext
from accord.sync.passes import PassOptions, PassResult, run_pass

RENEW_WITHIN = timedelta(hours=24)


def receiver_url(public_url: str, system: str, connection: str) -> str:
    """Where ``accord serve`` receives a connection's notifications."""
    return f"{public_url.rstrip('/')}/webhooks/{system}/{connection}"


def subscribe(hub: Hub, public_url: str, integration: str | None = None) -> list[str]:
    """Subscribe to every mapped entity of every connection that can notify; return
    ``connection/entity`` of each new subscription (existing ones are kept)."""
    with hub.db.session() as session:
        config = load_integration(session, integration)
        held = {
            (row.connection, row.entity) for row in session.scalars(select(WebhookSubscription))
        }
    made = []
    with hub.context(config.name) as ctx:
        for role, connection in config.connections.items():
            connector = ctx.connector(role)
            if not isinstance(connector, ChangeSubscriber):
                continue
            system = hub.connection(connection).system
            for entity in _entities(config, role):
                if (connection, entity) in held:
                    continue
                if connector.entity(entity).change_tracking == ChangeTracking.SNAPSHOT:
                    continue  # an option set or similar: no rows to notify about
                state = secrets.token_urlsafe(32)
                url = receiver_url(public_url, system, connection)
                found = connector.subscribe(entity, url, state)
                _save(hub, connection, url, state, found)
                made.append(f"{connection}/{entity}")
    return made


def renew_due(hub: Hub, within: timedelta = RENEW_WITHIN) -> Counter[str]:
    """Renew subscriptions that lapse within ``within``; one the system dropped is made anew."""
    counts: Counter[str] = Counter()
    with hub.db.session() as session:
        due = session.scalars(
            select(WebhookSubscription).where(WebhookSubscription.expires_at < utcnow() + within)
        ).all()
        session.expunge_all()
    for row in due:
        try:
            with hub.db.session() as session:
                name = _integration_of(session, row.connection)
            with hub.context(name) as ctx:
                role = next(r for r, c in ctx.config.connections.items() if c == row.connection)
                connector = ctx.connector(role)
                assert isinstance(connector, ChangeSubscriber)
                current = ChangeSubscription(
                    row.remote_id, row.entity, row.resource, row.expires_at, row.etag
                )
                renewed = connector.renew(current)
            with hub.db.session() as session:
                stored = session.get(WebhookSubscription, row.id)
                assert stored is not None
                stored.expires_at, stored.etag = renewed.expires_at, renewed.etag
                session.commit()
            counts["renewed"] += 1
        except AccordError as exc:
            get_logger(connection=row.connection, entity=row.entity).warning(
                "subscription renewal failed", error=str(exc)
            )
            counts["failed"] += 1
    return counts


def unsubscribe(hub: Hub, integration: str | None = None) -> int:
    """Remove every subscription held for the integration's connections, at the systems
    and in the state; return how many."""
    with hub.db.session() as session:
        config = load_integration(session, integration)
        rows = session.scalars(
            select(WebhookSubscription).where(
                WebhookSubscription.connection.in_(list(config.connections.values()))
            )
        ).all()
        session.expunge_all()
    with hub.context(config.name) as ctx:
        for row in rows:
            role = next(r for r, c in config.connections.items() if c == row.connection)
            connector = ctx.connector(role)
            if isinstance(connector, ChangeSubscriber):
                connector.unsubscribe(
                    ChangeSubscription(
                        row.remote_id, row.entity, row.resource, row.expires_at, row.etag
                    )
                )
            with hub.db.session() as session:
                stored = session.get(WebhookSubscription, row.id)
                if stored is not None:
                    session.delete(stored)
                session.commit()
    return len(rows)


@dataclass
class Drained:
    """What one drain did."""

    changes: int
    passes: list[PassResult]


def drain(hub: Hub, limit: int = 5000) -> Drained:
    """Run record passes for the changes waiting in the inbox, then mark them processed."""
    with hub.db.session() as session:
        taken = inbox.claim(session, limit)
        rows = [(r.id, r.connection, r.entity, r.record_id, r.change) for r in taken]
        session.commit()
    if not rows:
        return Drained(0, [])
    passes: list[PassResult] = []
    status = "processed"
    try:
        for name in _integrations(hub):
            with hub.context(name) as ctx:
                passes += _drain_into(ctx, rows)
    except AccordError as exc:
        status = "failed"
        get_logger().warning("inbox drain failed; the scheduled pass catches up", error=str(exc))
    with hub.db.session() as session:
        inbox.finish(session, [r[0] for r in rows], status)
        session.commit()
    return Drained(len(rows), passes)


def _drain_into(
    ctx: SyncContext, rows: list[tuple[int, str, str, str | None, str]]
) -> Iterator[PassResult]:
    for spec in ctx.config.template.mappings:
        if not spec.enabled:
            continue
        mapping = ctx.mapping(spec.name)
        for role in mapping.roles:
            direction = to_role(mapping.other(role))
            if direction not in mapping.directions():
                continue
            connection, entity = ctx.config.connections[role], mapping.entity(role)
            mine = [r for r in rows if r[1] == connection and _same_entity(r[2], entity)]
            if not mine:
                continue
            if any(r[4] == "collection" for r in mine):
                yield run_pass(ctx, spec.name, direction, PassOptions(kind="incremental"))
                continue
            changed = sorted({r[3] for r in mine if r[3] and r[4] != "deleted"})
            deleted = sorted({r[3] for r in mine if r[3] and r[4] == "deleted"})
            options = PassOptions(kind="records", record_ids=changed, deleted_ids=deleted)
            yield run_pass(ctx, spec.name, direction, options)


def _same_entity(notified: str, entity: str) -> bool:
    """BC names the entity set; Dataverse webhooks the table's logical name (``@account``)."""
    if not notified.startswith("@"):
        return notified == entity
    logical = notified[1:]
    return entity in (f"{logical}s", f"{logical}es", f"{logical[:-1]}ies", logical)


def _entities(config: IntegrationConfig, role: str) -> list[str]:
    return list(dict.fromkeys(m.entity(role) for m in config.template.mappings if m.enabled))


def _integrations(hub: Hub) -> list[str]:
    with hub.db.session() as session:
        return list(session.scalars(select(Integration.name).order_by(Integration.id)))


def _integration_of(session: Session, connection: str) -> str:
    for row in session.scalars(select(Integration)):
        if connection in (row.connections or {}).values():
            return row.name
    raise AccordError(f"no integration uses connection {connection!r}")


def _save(hub: Hub, connection: str, url: str, state: str, found: ChangeSubscription) -> None:
    with hub.db.session() as session:
        session.add(
            WebhookSubscription(
                connection=connection,
                remote_id=found.remote_id,
                resource=found.resource,
                entity=found.entity,
                client_state_hash=client_state_hash(state),
                notification_url=url,
                expires_at=found.expires_at,
                etag=found.etag,
            )
        )
        session.commit()
