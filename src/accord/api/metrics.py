"""Gauges read from the state database at scrape time: queue depth, the oldest queued
workload's age, failing mappings, API tokens and credentials about to expire."""

from __future__ import annotations

from datetime import datetime

from prometheus_client import Gauge
from sqlalchemy import func, select

from accord.observability.metrics import REGISTRY
from accord.services.hub import Hub
from accord.state import workloads
from accord.state.models import Connection
from accord.state.runtime_tables import WorkloadRow
from accord.state.types import utcnow

QUEUE_DEPTH = Gauge(
    "queue_depth",
    "Workloads not finished, by status (queued, running).",
    ["status"],
    namespace="accord",
    registry=REGISTRY,
)
OLDEST_QUEUED = Gauge(
    "queue_oldest_seconds",
    "Age of the oldest workload still queued (0 when none is).",
    namespace="accord",
    registry=REGISTRY,
)
CREDENTIAL_EXPIRY = Gauge(
    "credential_expiry_timestamp_seconds",
    "When a connection's secret expires (Unix time), from its options.secret_expires_at.",
    ["connection"],
    namespace="accord",
    registry=REGISTRY,
)


def refresh_gauges(hub: Hub) -> None:
    """Read the queue and the connections' secret expiry into the gauges."""
    with hub.db.session() as session:
        for name, count in workloads.depth(session).items():
            QUEUE_DEPTH.labels(name).set(count)
        oldest = session.scalar(
            select(func.min(WorkloadRow.enqueued_at)).where(WorkloadRow.status == "queued")
        )
        OLDEST_QUEUED.set((utcnow() - oldest).total_seconds() if oldest else 0.0)
        for connection in session.scalars(select(Connection)):
            options = (connection.settings or {}).get("options") or {}
            expires = options.get("secret_expires_at") if isinstance(options, dict) else None
            when = _timestamp(expires)
            if when is not None:
                CREDENTIAL_EXPIRY.labels(connection.name).set(when)


def _timestamp(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        from datetime import UTC

        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()
