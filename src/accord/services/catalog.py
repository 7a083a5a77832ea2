"""Reading what the hub holds, for the API: connections, integrations, mappings, couplings,
jobs and workloads. Something asked for by name or id that does not exist raises
:class:`NotFound` naming it (the API answers 404)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.errors import ConfigError
from accord.services.hub import Hub
from accord.services.setup import connection_summary
from accord.state import workloads
from accord.state.jobs import COUNTERS
from accord.state.models import (
    Conflict,
    Connection,
    Coupling,
    CouplingLink,
    Integration,
    Job,
    TableMapping,
)
from accord.state.runtime_tables import WorkloadRow
from accord.state.store import IntegrationConfig, load_integration


class NotFound(ConfigError):
    """Something named in a request does not exist."""


def connections(hub: Hub) -> list[dict[str, Any]]:
    with hub.db.session() as session:
        rows = session.scalars(select(Connection).order_by(Connection.name)).all()
    return [{"name": r.name, "system": r.system, "created_at": r.created_at} for r in rows]


def connection(hub: Hub, name: str) -> dict[str, Any]:
    """One connection's settings, secrets masked."""
    with hub.db.session() as session:
        found = session.scalar(select(Connection).where(Connection.name == name))
    if found is None:
        known = ", ".join(c["name"] for c in connections(hub)) or "(none)"
        raise NotFound(f"no connection named {name!r}; known: {known}")
    return connection_summary(hub.connection(name), checked=False)


def integrations(hub: Hub) -> list[dict[str, Any]]:
    with hub.db.session() as session:
        rows = session.scalars(select(Integration).order_by(Integration.name)).all()
    return [
        {"name": r.name, "template": r.template, "connections": dict(r.connections or {})}
        for r in rows
    ]


def integration(hub: Hub, name: str | None) -> IntegrationConfig:
    with hub.db.session() as session:
        try:
            return load_integration(session, name)
        except ConfigError as exc:
            if name is not None:
                raise NotFound(exc.message) from None
            raise


def mapping_names(hub: Hub, integration_name: str | None) -> list[str]:
    return [m.name for m in integration(hub, integration_name).template.mappings]


def mapping(hub: Hub, name: str, integration_name: str | None = None) -> dict[str, Any]:
    """A mapping's definition: direction, entity per role, policies and fields."""
    config = integration(hub, integration_name)
    try:
        spec = config.template.mapping(name)
    except ConfigError as exc:
        raise NotFound(exc.message) from None
    return {
        "name": spec.name,
        "integration": config.name,
        "direction": spec.direction,
        "directions": config.template.directions(spec),
        "entities": {role: spec.entity(role) for role in config.template.role_names},
        "connections": config.connections,
        "enabled": spec.enabled,
        "interval_seconds": spec.interval_seconds,
        "conflict": spec.conflict,
        "deletion": spec.deletion,
        "depends_on": list(spec.depends_on),
        "fields": [f.model_dump(mode="json", exclude_none=True) for f in spec.fields],
    }


def _mapping_id(hub: Hub, name: str, integration_name: str | None) -> int:
    config = integration(hub, integration_name)
    if name not in config.mapping_ids:
        valid = ", ".join(config.mapping_ids) or "(none)"
        raise NotFound(f"unknown mapping {name!r}; valid mappings: {valid}")
    return config.mapping_ids[name]


def _coupling(row: Coupling) -> dict[str, Any]:
    return {
        "id": row.id,
        "state": row.state,
        "skipped": row.skipped,
        "links": {
            role: {
                "record_id": link.record_id,
                "natural_key": link.natural_key,
                "last_result": link.last_result,
                "last_error": link.last_error,
            }
            for role, link in row.links.items()
        },
        "updated_at": row.updated_at,
    }


def couplings(
    hub: Hub, name: str, integration_name: str | None = None, *, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    mid = _mapping_id(hub, name, integration_name)
    with hub.db.session() as session:
        rows = session.scalars(
            select(Coupling)
            .where(Coupling.mapping_id == mid)
            .order_by(Coupling.id)
            .limit(limit)
            .offset(offset)
        ).all()
        return [_coupling(r) for r in rows]


def coupling_of(
    hub: Hub, name: str, record_id: str, integration_name: str | None = None
) -> dict[str, Any]:
    """The coupling of mapping ``name`` that holds ``record_id`` (of any role)."""
    mid = _mapping_id(hub, name, integration_name)
    with hub.db.session() as session:
        row = session.scalar(
            select(Coupling)
            .join(CouplingLink, CouplingLink.coupling_id == Coupling.id)
            .where(CouplingLink.mapping_id == mid, CouplingLink.record_id == record_id)
        )
        if row is None:
            raise NotFound(f"no coupling of mapping {name} holds a record with id {record_id!r}")
        return _coupling(row)


@dataclass
class JobView:
    id: str
    mapping: str | None
    direction: str
    kind: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    message: str | None
    counts: dict[str, int]


def _job(row: Job, names: dict[int, str]) -> JobView:
    return JobView(
        row.id,
        names.get(row.mapping_id) if row.mapping_id is not None else None,
        row.direction,
        row.kind,
        row.status,
        row.started_at,
        row.finished_at,
        row.message,
        {n: getattr(row, n) for n in COUNTERS},
    )


def jobs(
    hub: Hub, integration_name: str | None = None, mapping_name: str | None = None, limit: int = 50
) -> list[JobView]:
    config = integration(hub, integration_name)
    names = {v: k for k, v in config.mapping_ids.items()}
    ids = list(names)
    if mapping_name:
        ids = [_mapping_id(hub, mapping_name, integration_name)]
    with hub.db.session() as session:
        rows = session.scalars(
            select(Job).where(Job.mapping_id.in_(ids)).order_by(Job.started_at.desc()).limit(limit)
        ).all()
        return [_job(r, names) for r in rows]


def job(hub: Hub, job_id: str) -> JobView:
    with hub.db.session() as session:
        row = session.get(Job, job_id)
        if row is None:
            raise NotFound(f"no job with id {job_id!r}")
        names = {m.id: m.name for m in _all_mappings(session)}
        return _job(row, names)


def _all_mappings(session: Session) -> list[TableMapping]:
    return list(session.scalars(select(TableMapping)))


def workload_rows(hub: Hub, *, status: str | None = None, limit: int = 50) -> list[WorkloadRow]:
    with hub.db.session() as session:
        return workloads.recent(session, status=status, limit=limit)


def workload_row(hub: Hub, key: str) -> WorkloadRow:
    with hub.db.session() as session:
        row = workloads.get(session, key)
    if row is None:
        raise NotFound(f"no workload with key {key!r}")
    return row


def open_conflict(hub: Hub, conflict_id: int) -> None:
    """Raise :class:`NotFound` unless ``conflict_id`` is an open conflict."""
    with hub.db.session() as session:
        row = session.get(Conflict, conflict_id)
        resolved = row is not None and row.resolved_at is not None
    if row is None or resolved:
        what = (
            f"conflict {conflict_id} is resolved already"
            if resolved
            else (f"no conflict {conflict_id}")
        )
        raise NotFound(f"{what}; the open ones: GET /api/v1/conflicts")


def check_records_exist(
    hub: Hub, name: str, ids: dict[str, list[str]], integration_name: str | None = None
) -> None:
    """Raise :class:`NotFound` naming every id (per role) its system does not hold."""
    found = mapping(hub, name, integration_name)
    entities: dict[str, str] = found["entities"]
    unknown = sorted(set(ids) - set(entities))
    if unknown:
        raise ConfigError(
            f"unknown role {', '.join(unknown)}; roles of {name}: {', '.join(entities)}"
        )
    missing: list[str] = []
    with hub.context(integration_name) as ctx:
        for role, wanted in ids.items():
            got = {r.id for r in ctx.connector(role).get(entities[role], wanted, None)}
            absent = [i for i in wanted if i not in got]
            if absent:
                missing.append(f"{role} {entities[role]} has no record {', '.join(absent)}")
    if missing:
        raise NotFound("; ".join(missing))
