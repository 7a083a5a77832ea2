"""Sync operations: full, incremental, synchronize-now, preview, coupling, retry, conflicts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select, update

from accord.errors import ConfigError
from accord.mapping.fields import PassDirection
from accord.services.hub import Hub
from accord.state.models import Conflict, Coupling
from accord.state.store import load_integration
from accord.sync.context import Progress
from accord.sync.couple import CouplingResult, couple, match_couple, uncouple
from accord.sync.full import MappingRun, full_sync, incremental_sync
from accord.sync.passes import PassOptions, PassResult, run_pass
from accord.sync.resolve import Choice, resolve_conflict

Direction = Literal["to_remote", "from_remote"]


def sync_full(
    hub: Hub,
    mappings: Sequence[str] | None = None,
    *,
    integration: str | None = None,
    progress: Progress | None = None,
) -> list[MappingRun]:
    with hub.context(integration, progress) as ctx:
        return full_sync(ctx, mappings)


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
    """Synchronize chosen records now in a chosen direction (``ids`` of the source side).

    The source wins every field; an uncoupled record is created on the other side."""
    with hub.context(integration) as ctx:
        spec = ctx.mapping(mapping).spec
        if direction not in spec.directions():
            raise ConfigError(
                f"mapping {mapping} runs {spec.direction}; it cannot synchronize {direction}"
            )
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
    hub: Hub, mapping: str, local_id: str, remote_id: str, *, integration: str | None = None
) -> None:
    with hub.context(integration) as ctx:
        couple(ctx, mapping, local_id, remote_id)


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
        result = match_couple(ctx, mapping, create_new=create_new)
        spec = ctx.mapping(mapping).spec
        follow = spec.sync_after_coupling if sync_after is None else sync_after
        passes: list[PassResult] = []
        if follow and result.coupled_local_ids:
            for direction in _after_coupling_directions(spec.direction, spec.conflict):
                ids = (
                    result.coupled_local_ids
                    if direction == "to_remote"
                    else result.coupled_remote_ids
                )
                passes.append(
                    run_pass(ctx, mapping, direction, PassOptions(kind="records", record_ids=ids))
                )
        return result, passes


def _after_coupling_directions(direction: str, conflict: str) -> list[Direction]:
    if direction != "bidirectional":
        return [direction]  # type: ignore[list-item]
    if conflict == "destination_wins":
        return ["from_remote"]
    if conflict == "source_wins":
        return ["to_remote"]
    return ["to_remote", "from_remote"]


def retry(
    hub: Hub, mapping: str | None = None, ids: Sequence[str] = (), *, integration: str | None = None
) -> int:
    """Make skipped records eligible again; the next pass retries them first."""
    with hub.db.session() as session:
        config = load_integration(session, integration)
        mapping_ids = list(config.mapping_ids.values())
        if mapping:
            config.template.mapping(mapping)
            mapping_ids = [config.mapping_ids[mapping]]
        query = update(Coupling).where(
            Coupling.mapping_id.in_(mapping_ids), Coupling.skipped.is_(True)
        )
        if ids:
            query = query.where(Coupling.local_id.in_(ids) | Coupling.remote_id.in_(ids))
        return int(session.execute(query.values(skipped=False)).rowcount)  # type: ignore[attr-defined]


@dataclass
class ConflictRow:
    id: int
    mapping: str
    local_id: str | None
    remote_id: str | None
    local_key: str | None
    fields: dict[str, Any]


def conflicts(hub: Hub, integration: str | None = None) -> list[ConflictRow]:
    """Open conflicts with both sides' values per field."""
    with hub.db.session() as session:
        config = load_integration(session, integration)
        names = {v: k for k, v in config.mapping_ids.items()}
        rows = session.execute(
            select(Conflict, Coupling)
            .join(Coupling, Coupling.id == Conflict.coupling_id)
            .where(Conflict.resolved_at.is_(None), Conflict.mapping_id.in_(list(names)))
            .order_by(Conflict.id)
        ).all()
        return [
            ConflictRow(
                c.id, names[c.mapping_id], k.local_id, k.remote_id, k.local_key, dict(c.fields)
            )
            for c, k in rows
        ]


def resolve(
    hub: Hub,
    conflict_id: int,
    choice: Choice | Mapping[str, Choice],
    *,
    integration: str | None = None,
) -> dict[str, Choice]:
    with hub.context(integration) as ctx:
        return resolve_conflict(ctx, conflict_id, choice)
