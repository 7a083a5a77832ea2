"""Resolving held conflicts: pick a role per record or per field, write it to the other."""

from __future__ import annotations

from collections.abc import Mapping

from accord.config.spec import to_role
from accord.connectors.base import Record, WriteOp
from accord.errors import ConfigError
from accord.mapping.fields import CompiledMapping, Role
from accord.mapping.values import canonical, content_hash
from accord.state import couplings
from accord.state.models import Conflict, Coupling
from accord.state.types import utcnow
from accord.sync.context import SyncContext


def resolve_conflict(
    ctx: SyncContext, conflict_id: int, choice: Role | Mapping[str, Role]
) -> dict[str, Role]:
    """Resolve conflict ``conflict_id``: ``choice`` is the role that wins every field, or a
    role per field key (as listed by ``accord conflicts``). Returns the role chosen per field."""
    with ctx.db.session() as session:
        conflict = session.get(Conflict, conflict_id)
        if conflict is None or conflict.resolved_at is not None:
            raise ConfigError(f"no open conflict {conflict_id}; see 'accord conflicts'")
        coupling = session.get(Coupling, conflict.coupling_id)
        assert coupling is not None
        name = next(n for n, i in ctx.config.mapping_ids.items() if i == conflict.mapping_id)
        mapping = ctx.mapping(name)
        chosen = _choices(conflict, choice, mapping.roles)
        records = {role: _current(ctx, mapping, role, coupling) for role in mapping.roles}
        writes: dict[Role, dict[str, object]] = {role: {} for role in mapping.roles}
        pairs = couplings.baseline(coupling)
        for rule in mapping.rules:
            if rule.key not in chosen:
                continue
            winner = chosen[rule.key]
            loser = mapping.other(winner)
            direction = to_role(loser)
            lookups = {}
            key = rule.lookup_key(direction)
            source_value = records[winner].values.get(rule.field(winner) or "")
            reference = rule.reference(direction, records[winner].values) if key else None
            if key is not None and reference:
                lookups[key] = couplings.translate(
                    session,
                    ctx.mapping_id(key[0]),
                    (winner, key[2]),
                    (loser, key[3]),
                    [str(reference)],
                )
            value = rule.map_value(direction, records[winner].values, lookups)
            writes[loser][rule.field(loser) or ""] = value
            pairs[rule.key] = {winner: canonical(source_value), loser: value}
        for role, values in writes.items():
            if values:
                _write(ctx, mapping, role, records[role], values)
                records[role] = Record(records[role].id, {**records[role].values, **values})
        couplings.store_baseline(coupling, pairs)
        for role in mapping.roles:
            link = couplings.link_of(coupling, role)
            link.content_hash = content_hash(mapping.hash_pairs(role, records[role].values))
            link.last_result = "success"
        conflict.resolved_at = utcnow()
        conflict.resolution = ", ".join(f"{k}={v}" for k, v in sorted(chosen.items()))
        return chosen


def _choices(
    conflict: Conflict, choice: Role | Mapping[str, Role], roles: tuple[Role, Role]
) -> dict[str, Role]:
    fields = list(conflict.fields)
    valid = ", ".join(roles)
    if isinstance(choice, str):
        if choice not in roles:
            raise ConfigError(f"invalid role {choice!r}; valid roles: {valid}")
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
            f"choose a role for every field of conflict {conflict.id}; "
            f"missing: {', '.join(missing)}"
        )
    for key, role in choice.items():
        if role not in roles:
            raise ConfigError(f"invalid role {role!r} for {key}; valid roles: {valid}")
    return dict(choice)


def _current(ctx: SyncContext, mapping: CompiledMapping, role: Role, coupling: Coupling) -> Record:
    record_id = couplings.record_id(coupling, role)
    found = ctx.connector(role).get(
        mapping.entity(role), [record_id or ""], mapping.fields_of(role)
    )
    if not found:
        raise ConfigError(
            f"the {role} record {record_id} of this conflict no longer exists; "
            "uncouple it or restore it"
        )
    return found[0]


def _write(
    ctx: SyncContext,
    mapping: CompiledMapping,
    role: Role,
    record: Record,
    values: dict[str, object],
) -> None:
    result = ctx.connector(role).write(
        mapping.entity(role), [WriteOp("update", "r", values, id=record.id, etag=record.etag)]
    )[0]
    if not result.ok:
        raise ConfigError(
            f"could not write the chosen values to the {role} record {record.id}: {result.error}"
        )
