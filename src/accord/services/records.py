"""Naming records on the command line: an id, the start of one (8+ characters, as tables
show GUIDs), or a natural key (customer number, account number) -- coupled or not."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select

from accord.errors import ConfigError
from accord.mapping.fields import PassDirection
from accord.state.models import CouplingLink
from accord.sync.context import SyncContext

MIN_PREFIX = 8


def source_ids(
    ctx: SyncContext, mapping: str, direction: PassDirection, values: Sequence[str]
) -> list[str]:
    """The source role's record ids for ``values``; one that names no record (or several)
    is an error naming it."""
    compiled = ctx.mapping(mapping)
    source, _ = compiled.pass_roles(direction)
    mapping_id = ctx.mapping_id(mapping)
    found: dict[str, str] = {}
    with ctx.db.session() as session:
        for value in dict.fromkeys(values):
            links = session.scalars(
                select(CouplingLink).where(
                    CouplingLink.mapping_id == mapping_id,
                    CouplingLink.role == source,
                    or_(
                        CouplingLink.record_id == value,
                        CouplingLink.natural_key == value,
                        CouplingLink.record_id.like(f"{value}%")
                        if len(value) >= MIN_PREFIX
                        else CouplingLink.record_id == value,
                    ),
                )
            ).all()
            exact = [link for link in links if link.record_id == value]
            keyed = [link for link in links if link.natural_key == value]
            chosen = exact or keyed or links
            ids = sorted({str(link.record_id) for link in chosen if link.record_id})
            if len(ids) > 1:
                raise ConfigError(
                    f"{value!r} names several {source} records of {mapping}: {', '.join(ids)}"
                )
            if ids:
                found[value] = ids[0]
    missing = [v for v in dict.fromkeys(values) if v not in found]
    if missing:
        found.update(_uncoupled(ctx, source, compiled.entity(source), missing))
    still = [v for v in dict.fromkeys(values) if v not in found]
    if still:
        raise ConfigError(
            f"no {source} record of {mapping} has the id or natural key "
            + ", ".join(repr(v) for v in still)
        )
    return list(dict.fromkeys(found[v] for v in values))


def _uncoupled(ctx: SyncContext, role: str, entity: str, values: list[str]) -> dict[str, str]:
    """Look ``values`` up in ``role``'s system: as ids, then as natural keys."""
    connector = ctx.connector(role)
    key = connector.entity(entity).natural_key
    found = {r.id: r.id for r in connector.get(entity, values, [key] if key else None)}
    rest = [v for v in values if v not in found]
    if rest and key:
        by_key: dict[str, list[str]] = {}
        for record in connector.find_any(entity, key, rest, [key]):
            by_key.setdefault(str(record.values.get(key)), []).append(record.id)
        for value, ids in by_key.items():
            if len(ids) > 1:
                raise ConfigError(
                    f"{value!r} names several {role} records of {entity}: {', '.join(ids)}"
                )
            found[value] = ids[0]
    return found
