"""The per-record decision: skipped -> unchanged -> conflict -> write only changed fields.

Pure: given the source record, its coupling (with the baseline of values last synced) and the
destination's current record, decide what to write. Three-way comparison against the
baseline gives field-level merge: when the two sides changed different fields both changes
survive; when they changed the same field differently the mapping's conflict policy decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from accord.connectors.base import Record
from accord.errors import SkippableError
from accord.mapping.fields import CompiledMapping, FieldRule, Lookups, PassDirection, pass_sides
from accord.mapping.values import canonical, content_hash, same

Action = Literal["insert", "modify", "unchanged", "skip", "ignore", "fail", "conflict"]


@dataclass(frozen=True)
class CouplingView:
    """What a decision needs to know about an existing coupling."""

    id: int
    baseline: Mapping[str, list[Any]]
    source_hash: str | None
    last_failed: bool
    skipped: bool


@dataclass(frozen=True)
class FieldChange:
    """One field a decision writes (or holds), for previews and conflict rows."""

    key: str
    field: str
    old: Any
    new: Any


@dataclass
class Decision:
    """The outcome for one source record."""

    action: Action
    values: dict[str, Any] = field(default_factory=dict)
    baseline: dict[str, list[Any]] = field(default_factory=dict)
    changes: list[FieldChange] = field(default_factory=list)
    conflicts: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None


def _slot(side: str) -> int:
    return 0 if side == "local" else 1


def source_hash(mapping: CompiledMapping, direction: PassDirection, record: Record) -> str:
    """Hash of every mapped field on the source side of ``direction``."""
    source_side, _ = pass_sides(direction)
    return content_hash(mapping.side_hash_pairs(source_side, record.values))


def decide(
    mapping: CompiledMapping,
    direction: PassDirection,
    source: Record,
    coupling: CouplingView | None,
    dest: Record | None,
    lookups: Lookups,
    *,
    force: bool = False,
    create_uncoupled: bool = False,
    explain: bool = True,
) -> Decision:
    """Decide what happens to ``source`` in a pass of ``direction``.

    ``explain`` lists every field change (for previews); passes that only write skip it.
    """
    if coupling is None:
        if not create_uncoupled:
            return Decision("ignore")
        return _insert(mapping, direction, source, lookups, explain)
    if coupling.skipped and not force:
        return Decision("skip")
    if (
        not force
        and not coupling.last_failed
        and coupling.source_hash == source_hash(mapping, direction, source)
    ):
        return Decision("unchanged", baseline=dict(coupling.baseline))
    try:
        return _update(
            mapping, direction, source, coupling, dest, lookups, force=force, explain=explain
        )
    except SkippableError as exc:
        return Decision("fail", error=exc.message)


def _insert(
    mapping: CompiledMapping,
    direction: PassDirection,
    source: Record,
    lookups: Lookups,
    explain: bool = True,
) -> Decision:
    source_side, dest_side = pass_sides(direction)
    defaults = (
        mapping.spec.new_remote_defaults
        if dest_side == "remote"
        else mapping.spec.new_local_defaults
    )
    values: dict[str, Any] = {k: canonical(v) for k, v in defaults.items()}
    baseline: dict[str, list[Any]] = {}
    changes: list[FieldChange] = []
    try:
        for rule in mapping.rules_for(direction):
            dest_field = rule.field(dest_side)
            if dest_field is None:
                continue
            value = rule.map_value(direction, source.values, lookups)
            src_value = _source_value(rule, source_side, source)
            if value is None and (rule.spec.not_null or dest_field in values):
                baseline[rule.key] = _pair(source_side, src_value, values.get(dest_field))
                continue
            values[dest_field] = value
            if explain:
                changes.append(FieldChange(rule.key, dest_field, None, value))
            baseline[rule.key] = _pair(source_side, src_value, value)
    except SkippableError as exc:
        return Decision("fail", error=exc.message)
    return Decision("insert", values=values, baseline=baseline, changes=changes)


def _source_value(rule: FieldRule, side: str, record: Record) -> Any:
    name = rule.field(side)  # type: ignore[arg-type]
    return canonical(record.values.get(name)) if name else None


def _pair(source_side: str, source_value: Any, dest_value: Any) -> list[Any]:
    return [source_value, dest_value] if source_side == "local" else [dest_value, source_value]


def _update(
    mapping: CompiledMapping,
    direction: PassDirection,
    source: Record,
    coupling: CouplingView,
    dest: Record | None,
    lookups: Lookups,
    *,
    force: bool,
    explain: bool = True,
) -> Decision:
    source_side, dest_side = pass_sides(direction)
    s, d = _slot(source_side), _slot(dest_side)
    bidirectional = mapping.spec.direction == "bidirectional"
    baseline = {k: list(v) for k, v in coupling.baseline.items()}
    decision = Decision("unchanged", baseline=baseline)
    source_newer = _newer(source.modified_at, dest.modified_at if dest else None)

    for rule in mapping.rules_for(direction):
        dest_field = rule.field(dest_side)
        if dest_field is None:
            continue
        src_value = _source_value(rule, source_side, source)
        known = baseline.get(rule.key)
        source_changed = (
            force
            or known is None
            or rule.field(source_side) is None
            or not same(src_value, known[s])
        )
        if not source_changed:
            continue
        current = canonical(dest.values.get(dest_field)) if dest is not None else None
        if rule.spec.on_create_only:
            # never written on update; the pair as it stands counts as in sync
            baseline[rule.key] = _pair(source_side, src_value, current)
            continue
        mapped = rule.map_value(direction, source.values, lookups)
        if mapped is None and rule.spec.not_null:
            baseline[rule.key] = _pair(source_side, src_value, current)
            continue
        if dest is not None and same(mapped, current):
            baseline[rule.key] = _pair(source_side, src_value, current)
            continue
        dest_changed = (
            bidirectional
            and dest is not None
            and known is not None
            and not force
            and rule.spec.direction == "bidirectional"
            and not same(current, known[d])
        )
        if dest_changed and known is not None:
            winner = _winner(mapping.spec.conflict, source_newer)
            if winner == "hold":
                decision.conflicts[rule.key] = {
                    "field": {"local": rule.field("local"), "remote": rule.field("remote")},
                    source_side: src_value,
                    dest_side: current,
                    "baseline": {"local": known[0], "remote": known[1]},
                }
                continue
            if winner == "destination":
                # Let the opposite pass carry the destination's value back to the source.
                baseline[rule.key] = _pair(source_side, src_value, known[d])
                continue
        decision.values[dest_field] = mapped
        if explain:
            decision.changes.append(FieldChange(rule.key, dest_field, current, mapped))
        baseline[rule.key] = _pair(source_side, src_value, mapped)

    if decision.conflicts:
        decision.action = "conflict"
    elif decision.values:
        decision.action = "modify"
    return decision


def _newer(a: datetime | None, b: datetime | None) -> bool:
    if a is None or b is None:
        return True
    return a >= b


def _winner(policy: str, source_newer: bool) -> Literal["hold", "source", "destination"]:
    if policy == "source_wins":
        return "source"
    if policy == "destination_wins":
        return "destination"
    if policy == "newest_wins":
        return "source" if source_newer else "destination"
    return "hold"
