"""Resolving held conflicts: pick a side per record or per field, write it to the other side."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from accord.connectors.base import Record, WriteOp
from accord.errors import ConfigError
from accord.mapping.fields import CompiledMapping, PassDirection, Side
from accord.mapping.values import canonical, content_hash
from accord.state import couplings
from accord.state.models import Conflict, Coupling
from accord.state.types import utcnow
from accord.sync.context import SyncContext

Choice = Literal["local", "remote"]


def resolve_conflict(
    ctx: SyncContext, conflict_id: int, choice: Choice | Mapping[str, Choice]
) -> dict[str, Choice]:
    """Resolve conflict ``conflict_id``: ``choice`` is a side for every field, or a side per
    field key (as listed by ``accord conflicts``). Returns the side chosen per field."""
    with ctx.db.session() as session:
        conflict = session.get(Conflict, conflict_id)
        if conflict is None or conflict.resolved_at is not None:
            raise ConfigError(f"no open conflict {conflict_id}; see 'accord conflicts'")
        coupling = session.get(Coupling, conflict.coupling_id)
        assert coupling is not None
        name = next(n for n, i in ctx.config.mapping_ids.items() if i == conflict.mapping_id)
        mapping = ctx.mapping(name)
        chosen = _choices(conflict, choice)
        records = {side: _current(ctx, mapping, side, coupling) for side in ("local", "remote")}
        writes: dict[Side, dict[str, object]] = {"local": {}, "remote": {}}
        baseline = {k: list(v) for k, v in (coupling.baseline or {}).items()}
        for rule in mapping.rules:
            if rule.key not in chosen:
                continue
            winner = chosen[rule.key]
            loser: Side = "remote" if winner == "local" else "local"
            direction: PassDirection = "to_remote" if winner == "local" else "from_remote"
            lookups = {}
            key = rule.lookup_key(direction)
            source_value = records[winner].values.get(rule.field(winner) or "")
            if key is not None and source_value:
                lookups[key] = couplings.translate(
                    session, ctx.mapping_id(key[0]), winner, key[1], [str(source_value)]
                )
            value = rule.map_value(direction, records[winner].values, lookups)
            writes[loser][rule.field(loser) or ""] = value
            pair = [canonical(source_value), value]
            baseline[rule.key] = pair if winner == "local" else pair[::-1]
        for side, values in writes.items():
            if values:
                _write(ctx, mapping, side, records[side], values)
                records[side] = Record(records[side].id, {**records[side].values, **values})
        coupling.baseline = baseline
        coupling.local_hash = content_hash(
            mapping.side_hash_pairs("local", records["local"].values)
        )
        coupling.remote_hash = content_hash(
            mapping.side_hash_pairs("remote", records["remote"].values)
        )
        coupling.last_result_to_remote = coupling.last_result_from_remote = "success"
        conflict.resolved_at = utcnow()
        conflict.resolution = ", ".join(f"{k}={v}" for k, v in sorted(chosen.items()))
        return chosen


def _choices(conflict: Conflict, choice: Choice | Mapping[str, Choice]) -> dict[str, Choice]:
    fields = list(conflict.fields)
    if isinstance(choice, str):
        if choice not in ("local", "remote"):
            raise ConfigError(f"invalid side {choice!r}; valid sides: local, remote")
        return dict.fromkeys(fields, choice)
    unknown = sorted(set(choice) - set(fields))
    if unknown:
        raise ConfigError(
            f"conflict {conflict.id} has no field {', '.join(unknown)}; "
            f"its fields: {', '.join(fields)}"
        )
    missing = sorted(set(fields) - set(choice))
    if missing:
        raise ConfigError(
            f"choose a side for every field of conflict {conflict.id}; "
            f"missing: {', '.join(missing)}"
        )
    for key, side in choice.items():
        if side not in ("local", "remote"):
            raise ConfigError(f"invalid side {side!r} for {key}; valid sides: local, remote")
    return dict(choice)


def _current(ctx: SyncContext, mapping: CompiledMapping, side: Side, coupling: Coupling) -> Record:
    record_id = coupling.local_id if side == "local" else coupling.remote_id
    found = ctx.connector(side).get(
        mapping.entity(side), [record_id or ""], mapping.fields_of(side)
    )
    if not found:
        raise ConfigError(
            f"the {side} record {record_id} of this conflict no longer exists; "
            "uncouple it or restore it"
        )
    return found[0]


def _write(
    ctx: SyncContext,
    mapping: CompiledMapping,
    side: Side,
    record: Record,
    values: dict[str, object],
) -> None:
    result = ctx.connector(side).write(
        mapping.entity(side), [WriteOp("update", "r", values, id=record.id, etag=record.etag)]
    )[0]
    if not result.ok:
        raise ConfigError(
            f"could not write the chosen values to the {side} record {record.id}: {result.error}"
        )
