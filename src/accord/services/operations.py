"""Sync operations: full, incremental, synchronize-now, preview, coupling, retry, conflicts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from accord.config.spec import BOTH, to_role
from accord.errors import ConfigError
from accord.mapping.fields import PassDirection, Role
from accord.services.hub import Hub
from accord.services.records import source_ids
from accord.state.models import Conflict, Coupling, CouplingLink
from accord.state.store import load_integration
from accord.sync.context import Progress
from accord.sync.couple import CouplingResult, couple, match_couple_each_role, uncouple
from accord.sync.full import MappingRun, full_sync, incremental_sync
from accord.sync.passes import PassOptions, PassResult, require_enabled, run_pass
from accord.sync.resolve import resolve_conflict


def sync_full(
    hub: Hub,
    mappings: Sequence[str] | None = None,
    *,
    integration: str | None = None,
    progress: Progress | None = None,
    create_new: bool | None = None,
) -> list[MappingRun]:
    """A full sync; ``create_new`` overrides each mapping's ``create_new_if_no_match``."""
    with hub.context(integration, progress) as ctx:
        return full_sync(ctx, mappings, create_new=create_new)


def sync_incremental(
    hub: Hub,
    mappings: Sequence[str] | None = None,
    *,
    integration: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> list[PassResult]:
    with hub.context(integration, progress) as ctx:
        return incremental_sync(ctx, mappings, dry_run=dry_run)


def sync_now(
    hub: Hub,
    mapping: str,
    ids: Sequence[str],
    direction: PassDirection,
    *,
    integration: str | None = None,
    dry_run: bool = False,
) -> PassResult:
    """Synchronize chosen records now in a chosen direction (``ids`` of the source role).

    The source wins every field; an uncoupled record is created for the other role. ``ids``
    may be natural keys or the first 8+ characters of an id; one naming no record fails."""
    with hub.context(integration) as ctx:
        compiled = ctx.mapping(mapping)
        require_enabled(compiled)
        compiled.pass_roles(direction)  # names the valid directions when it is not one
        if direction not in compiled.directions():
            raise ConfigError(
                f"mapping {mapping} runs {compiled.spec.direction}; "
                f"it cannot synchronize {direction}"
            )
        ids = source_ids(ctx, mapping, direction, ids)
        return run_pass(
            ctx,
            mapping,
            direction,
            PassOptions(
                kind="records",
                record_ids=list(ids),
                force=True,
                create_uncoupled=True,
                dry_run=dry_run,
            ),
        )


def couple_records(
    hub: Hub, mapping: str, ids: Mapping[Role, str], *, integration: str | None = None
) -> None:
    """Couple one record per role by hand."""
    with hub.context(integration) as ctx:
        couple(ctx, mapping, dict(ids))


def uncouple_records(
    hub: Hub,
    mapping: str,
    ids: Sequence[str] = (),
    *,
    everything: bool = False,
    integration: str | None = None,
) -> int:
    with hub.context(integration) as ctx:
        return uncouple(ctx, mapping, ids, everything=everything)


def couple_by_match(
    hub: Hub,
    mapping: str,
    *,
    create_new: bool | None = None,
    sync_after: bool | None = None,
    integration: str | None = None,
) -> tuple[CouplingResult, list[PassResult]]:
    """Match-based coupling, then (if the mapping says so) synchronize what was coupled."""
    with hub.context(integration) as ctx:
        result = match_couple_each_role(ctx, mapping, create_new=create_new)
        compiled = ctx.mapping(mapping)
        spec = compiled.spec
        follow = spec.sync_after_coupling if sync_after is None else sync_after
        passes: list[PassResult] = []
        if follow and any(result.coupled.values()):
            for direction in _after_coupling_directions(
                compiled.roles, spec.direction, spec.conflict
            ):
                source, _ = compiled.pass_roles(direction)
                ids = result.coupled[source]
                passes.append(
                    run_pass(ctx, mapping, direction, PassOptions(kind="records", record_ids=ids))
                )
        return result, passes


def _after_coupling_directions(
    roles: tuple[Role, Role], direction: str, conflict: str
) -> list[PassDirection]:
    """Each coupled pair is synchronized from the first role's record; the second role's
    values come back first where the destination wins."""
    if direction != BOTH:
        return [direction]
    first, second = to_role(roles[1]), to_role(roles[0])
    if conflict == "destination_wins":
        return [second]
    if conflict == "source_wins":
        return [first]
    return [first, second]


def retry(
    hub: Hub, mapping: str | None = None, ids: Sequence[str] = (), *, integration: str | None = None
) -> int:
    """Make skipped records eligible again; the next pass retries them first."""
    with hub.db.session() as session:
        config = load_integration(session, integration)
        mapping_ids = list(config.mapping_ids.values())
        if mapping:
            if mapping not in {d.name for d in config.template.documents}:
                config.template.mapping(mapping)
            mapping_ids = [config.mapping_ids.get(mapping, -1)]
        query = update(Coupling).where(
            Coupling.mapping_id.in_(mapping_ids), Coupling.skipped.is_(True)
        )
        if ids:
            chosen = select(CouplingLink.coupling_id).where(CouplingLink.record_id.in_(ids))
            query = query.where(Coupling.id.in_(chosen))
        return int(session.execute(query.values(skipped=False)).rowcount)  # type: ignore[attr-defined]


@dataclass
class ConflictRow:
    id: int
    mapping: str
    records: dict[Role, str | None]
    """Per role, the record's natural key, else its id."""
    fields: dict[str, Any]


def conflicts(hub: Hub, integration: str | None = None) -> list[ConflictRow]:
    """Open conflicts with each role's value per field."""
    with hub.db.session() as session:
        config = load_integration(session, integration)
        names = {v: k for k, v in config.mapping_ids.items()}
        rows = session.execute(
            select(Conflict, Coupling)
            .join(Coupling, Coupling.id == Conflict.coupling_id)
            .where(Conflict.resolved_at.is_(None), Conflict.mapping_id.in_(list(names)))
            .order_by(Conflict.id)
        ).all()
        out = []
        for c, k in rows:
            spec = config.template.mapping(names[c.mapping_id])
            fields = dict(c.fields)
            for f in spec.fields:
                if f.lookup and f.key in fields:
                    lookup_id = config.mapping_ids[f.lookup]
                    fields[f.key] = _label_lookup(session, lookup_id, dict(fields[f.key]))
            out.append(
                ConflictRow(
                    c.id,
                    names[c.mapping_id],
                    {role: link.natural_key or link.record_id for role, link in k.links.items()},
                    fields,
                )
            )
        return out


def _label_lookup(session: Session, lookup_id: int, info: dict[str, Any]) -> dict[str, Any]:
    """Add ``labels``: per role, the natural key of the record a lookup value points at
    (a GUID means little to the person resolving the conflict)."""
    ids = {str(v) for part in ("values", "baseline") for v in info.get(part, {}).values() if v}
    if not ids:
        return info
    found = session.execute(
        select(CouplingLink.role, CouplingLink.record_id, CouplingLink.natural_key).where(
            CouplingLink.mapping_id == lookup_id, CouplingLink.record_id.in_(sorted(ids))
        )
    ).all()
    keys = {(role, record): key for role, record, key in found if key}
    labels = {
        role: keys[(role, str(value))]
        for role, value in info.get("values", {}).items()
        if (role, str(value)) in keys and keys[(role, str(value))] != str(value)
    }
    return {**info, "labels": labels} if labels else info


def resolve(
    hub: Hub,
    conflict_id: int,
    choice: Role | Mapping[str, Role],
    *,
    integration: str | None = None,
) -> dict[str, Role]:
    with hub.context(integration) as ctx:
        return resolve_conflict(ctx, conflict_id, choice)
