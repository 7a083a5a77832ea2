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

from accord.config.spec import BOTH, to_role
from accord.connectors.base import Record
from accord.errors import SkippableError
from accord.mapping.fields import (
    CompiledMapping,
    FieldRule,
    LookupPending,
    Lookups,
    PassDirection,
    Role,
    is_blank,
)
from accord.mapping.values import canonical, content_hash, same

Action = Literal[
    "insert",
    "modify",
    "unchanged",
    "skip",
    "ignore",
    "fail",
    "conflict",
    "couple",
    "delete",
    "uncouple",
    "restore",
    "flag",
]


@dataclass(frozen=True)
class CouplingView:
    """What a decision needs to know about an existing coupling."""

    id: int
    baseline: Mapping[str, Mapping[Role, Any]]
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
    baseline: dict[str, dict[Role, Any]] = field(default_factory=dict)
    """Per field mapping id, the value per role as synchronized by this decision."""
    changes: list[FieldChange] = field(default_factory=list)
    conflicts: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None
    waiting: list[str] = field(default_factory=list)
    """Fields left as they are because their reference is not coupled yet
    (``keep_on_failed_lookup``): the record is decided again by the next pass."""


def source_hash(mapping: CompiledMapping, direction: PassDirection, record: Record) -> str:
    """Hash of every mapped field of the source role of ``direction``."""
    source_role, _ = mapping.pass_roles(direction)
    return content_hash(mapping.hash_pairs(source_role, record.values))


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
        return Decision("unchanged", baseline={k: dict(v) for k, v in coupling.baseline.items()})
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
    """Values to create the counterpart with, and a baseline of every mapped field.

    Fields that do not flow in this direction get a baseline too (source value, destination
    slot filled in from what the destination stored), so a default the destination gives a
    fresh record is never later taken for a change and written over the source's value.
    """
    source_side, dest_side = mapping.pass_roles(direction)
    defaults = mapping.spec.new_record_defaults.get(dest_side, {})
    values: dict[str, Any] = {k: canonical(v) for k, v in defaults.items()}
    baseline: dict[str, dict[Role, Any]] = {}
    changes: list[FieldChange] = []
    waiting: list[str] = []
    try:
        for rule in mapping.rules_for(direction):
            dest_field = rule.field(dest_side)
            if dest_field is None:
                continue
            try:
                value = rule.map_value(direction, source.values, lookups)
            except LookupPending:
                waiting.append(rule.key)  # no baseline: the next pass sees it as new
                continue
            src_value = _source_value(rule, source_side, source)
            if value is None and (rule.spec.not_null or dest_field in values):
                baseline[rule.key] = {source_side: src_value, dest_side: values.get(dest_field)}
                continue
            values[dest_field] = value
            if explain:
                changes.append(FieldChange(rule.key, dest_field, None, value))
            baseline[rule.key] = {source_side: src_value, dest_side: value}
    except SkippableError as exc:
        return Decision("fail", error=exc.message)
    for rule in mapping.rules:
        if (
            rule.spec.enabled
            and rule.key not in baseline
            and rule.key not in waiting
            and rule.field(dest_side) is not None
        ):
            src_value = _source_value(rule, source_side, source)
            baseline[rule.key] = {source_side: src_value, dest_side: None}
    return Decision("insert", values=values, baseline=baseline, changes=changes, waiting=waiting)


def _source_value(rule: FieldRule, role: Role, record: Record) -> Any:
    name = rule.field(role)
    return canonical(record.values.get(name)) if name else None


@dataclass(frozen=True)
class _FieldState:
    """One field of an update: its rule, the values on both sides and the pass's context."""

    rule: FieldRule
    dest_field: str
    source_value: Any
    mapped: Any
    current: Any
    source_side: Role
    dest_side: Role

    @property
    def flows_back(self) -> bool:
        """Whether the opposite pass carries this field from the destination to the source."""
        opposite = to_role(self.source_side)
        return self.rule.field(self.source_side) is not None and self.rule.runs(opposite)

    def pair(self, dest_value: Any) -> dict[Role, Any]:
        return {self.source_side: self.source_value, self.dest_side: dest_value}


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
    source_side, dest_side = mapping.pass_roles(direction)
    s, d = source_side, dest_side
    bidirectional = mapping.spec.direction == BOTH
    baseline = {k: dict(v) for k, v in coupling.baseline.items()}
    decision = Decision("unchanged", baseline=baseline)
    source_newer = _newer(source.modified_at, dest.modified_at if dest else None)

    for rule in mapping.rules_for(direction):
        dest_field = rule.field(dest_side)
        if dest_field is None:
            continue
        src_value = _source_value(rule, source_side, source)
        known = baseline.get(rule.key)
        if known is None and dest is not None and not force and rule.field(source_side):
            try:
                mapped = rule.map_value(direction, source.values, lookups)
            except LookupPending:
                decision.waiting.append(rule.key)
                continue
            field = _FieldState(
                rule,
                dest_field,
                src_value,
                mapped,
                canonical(dest.values.get(dest_field)),
                source_side,
                dest_side,
            )
            _first_sight(mapping, field, decision, source_newer, explain)
            continue
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
            baseline[rule.key] = {s: src_value, d: current}
            continue
        try:
            mapped = rule.map_value(direction, source.values, lookups)
        except LookupPending:
            decision.waiting.append(rule.key)  # its baseline stays: still a change next pass
            continue
        if mapped is None and rule.spec.not_null:
            baseline[rule.key] = {s: src_value, d: current}
            continue
        if dest is not None and same(mapped, current):
            baseline[rule.key] = {s: src_value, d: current}
            continue
        dest_changed = (
            bidirectional
            and dest is not None
            and known is not None
            and not force
            and rule.spec.direction == BOTH
            and not same(current, known[d])
        )
        if dest_changed and known is not None:
            winner = _winner(mapping.spec.conflict, source_newer)
            if winner == "hold":
                decision.conflicts[rule.key] = _conflict(rule, (s, d), src_value, current, known)
                continue
            if winner == "destination":
                # Let the opposite pass carry the destination's value back to the source.
                baseline[rule.key] = {s: src_value, d: known[d]}
                continue
        _write(decision, rule, dest_field, current, mapped, explain)
        baseline[rule.key] = {s: src_value, d: mapped}

    if decision.conflicts:
        decision.action = "conflict"
    elif decision.values:
        decision.action = "modify"
    return decision


def _first_sight(
    mapping: CompiledMapping,
    field: _FieldState,
    decision: Decision,
    source_newer: bool,
    explain: bool,
) -> None:
    """A field of a pair with no history (coupled by match): never a silent overwrite.

    Equal values need nothing; a blank takes the other side's value; two different values
    go to the initial master, else to the mapping's conflict policy.
    """
    key = field.rule.key
    baseline = decision.baseline
    if field.rule.spec.on_create_only or same(field.mapped, field.current):
        baseline[key] = field.pair(field.current)
        return
    if is_blank(field.mapped):
        # nothing to write; a blank source takes the destination's value when it flows back
        source_blank = is_blank(field.source_value)
        baseline[key] = field.pair(None if source_blank and field.flows_back else field.current)
        return
    if not is_blank(field.current):
        winner = _first_sight_winner(mapping, field.source_side, source_newer)
        if winner == "hold":
            decision.conflicts[key] = _conflict(
                field.rule,
                (field.source_side, field.dest_side),
                field.source_value,
                field.current,
                {},
            )
            return
        if winner == "destination":
            # the opposite pass sees the destination's value as a change and carries it
            baseline[key] = field.pair(field.mapped if field.flows_back else field.current)
            return
    _write(decision, field.rule, field.dest_field, field.current, field.mapped, explain)
    baseline[key] = field.pair(field.mapped)


def _first_sight_winner(
    mapping: CompiledMapping, source_side: Role, source_newer: bool
) -> Literal["hold", "source", "destination"]:
    master = mapping.spec.initial_master
    if master is not None:
        return "source" if master == source_side else "destination"
    return _winner(mapping.spec.conflict, source_newer)


def _conflict(
    rule: FieldRule,
    roles: tuple[Role, Role],
    source_value: Any,
    current: Any,
    known: Mapping[Role, Any],
) -> dict[str, Any]:
    """A held field: each role's field name, current value and last synced value."""
    source_side, dest_side = roles
    return {
        "fields": {role: rule.field(role) for role in roles},
        "values": {source_side: source_value, dest_side: current},
        "baseline": {role: known.get(role) for role in roles},
    }


def _write(
    decision: Decision, rule: FieldRule, dest_field: str, current: Any, mapped: Any, explain: bool
) -> None:
    decision.values[dest_field] = mapped
    if explain:
        decision.changes.append(FieldChange(rule.key, dest_field, current, mapped))


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
