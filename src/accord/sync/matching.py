"""Looking for a counterpart before creating one: match groups over normalized values.

Every create, in a full or an incremental pass, first looks in the destination for a record
that is the same one (a fresh state database pointed at systems already in sync, a record
entered on both sides, a create whose outcome was lost in a crash). Values compare after
Unicode normalization (NFC) and trimming, and case folding unless the field is
case-sensitive. Groups are tried by priority; a record with no value in any group falls back
to its whole content (every value it would be created with). One candidate couples; several
are held for a person, naming them; none creates.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from accord.connectors.base import Connector, Record
from accord.mapping.fields import CompiledMapping, FieldRule, Role, is_blank
from accord.mapping.values import canonical


def normalize(value: Any, case_sensitive: bool = False) -> Any:
    """A value as a person compares it: NFC, trimmed, case-folded unless case-sensitive;
    blank is None."""
    value = canonical(value)
    if isinstance(value, str):
        value = unicodedata.normalize("NFC", value).strip()
        if not case_sensitive:
            value = value.casefold()
        return value or None
    return None if is_blank(value) else value


def query_variants(value: Any) -> list[Any]:
    """What to ask a system for so that a differently normalized copy is found too."""
    if not isinstance(value, str):
        return [value]
    trimmed = value.strip()
    forms = [trimmed, unicodedata.normalize("NFC", trimmed), unicodedata.normalize("NFD", trimmed)]
    return list(dict.fromkeys(f for f in [*forms, value] if f))


AWAITING = "awaiting"
"""Owner state of a candidate that is the source of an unfinished create into the role being
matched against: the record being created may well be the outcome of that create."""


@dataclass(frozen=True)
class MatchField:
    """One destination field of a match group and how to compare it."""

    name: str
    case_sensitive: bool


@dataclass
class MatchResult:
    """Per source record id: its one match, or the candidates that made it ambiguous."""

    found: dict[str, Record] = field(default_factory=dict)
    ambiguous: dict[str, list[str]] = field(default_factory=dict)


def match_groups(mapping: CompiledMapping) -> list[list[FieldRule]]:
    """Match fields (a field on every role) grouped by priority, highest (lowest number)
    first."""
    groups: dict[int, list[FieldRule]] = defaultdict(list)
    for rule in mapping.rules:
        if rule.spec.match and rule.spec.enabled and len(rule.spec.per_role) == len(mapping.roles):
            groups[rule.spec.match_priority].append(rule)
    return [groups[p] for p in sorted(groups)]


def role_groups(mapping: CompiledMapping, role: Role) -> list[list[MatchField]]:
    """The match groups as ``role``'s fields, highest priority first."""
    return [
        [MatchField(r.field(role) or "", r.spec.case_sensitive) for r in group]
        for group in match_groups(mapping)
    ]


def match_key(group: Iterable[MatchField], values: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """``values``' normalized key in ``group``; None when a part of it is blank."""
    key = tuple(normalize(values.get(f.name), f.case_sensitive) for f in group)
    return None if any(part is None for part in key) else key


class CreateMatcher:
    """Finds destination counterparts for records about to be created, in batches."""

    def __init__(
        self,
        mapping: CompiledMapping,
        dest_side: Role,
        dest: Connector,
        fields: Sequence[str],
        owners: Callable[[Sequence[str]], Mapping[str, tuple[str, str | None]]],
    ):
        self.entity = mapping.entity(dest_side)
        self.dest = dest
        self.fields = list(fields)
        self.owners = owners
        self.groups = role_groups(mapping, dest_side)
        self.mapped = {name for r in mapping.rules if (name := r.field(dest_side))}

    def resolve(self, items: Mapping[str, Mapping[str, Any]]) -> MatchResult:
        """``items``: source id -> the destination values it would be created with."""
        result = MatchResult()
        pending = dict(items)
        claimed: set[str] = set()
        for group in self.groups:
            keys = {sid: self._key(group, values) for sid, values in pending.items()}
            keyed = {sid: key for sid, key in keys.items() if key is not None}
            if keyed:
                self._settle(group, keyed, pending, result, claimed)
        content = {sid: values for sid, values in pending.items() if self._no_group(values)}
        for sid, values in content.items():
            group = self._content_group(values)
            key = self._key(group, values) if group else None
            if key is not None:
                self._settle(group, {sid: key}, pending, result, claimed)
        return result

    def _settle(
        self,
        group: list[MatchField],
        keyed: dict[str, tuple[Any, ...]],
        pending: dict[str, Mapping[str, Any]],
        result: MatchResult,
        claimed: set[str],
    ) -> None:
        first = group[0].name
        asked = [v for sid in keyed for v in query_variants(canonical(pending[sid].get(first)))]
        records = self.dest.find_any(self.entity, first, asked, self.fields)
        owners = self.owners([r.id for r in records])
        index: dict[tuple[Any, ...], list[Record]] = defaultdict(list)
        for record in records:
            state, _ = owners.get(record.id, ("free", None))
            if state != "coupled" and record.id not in claimed:
                index[self._key(group, record.values) or ()].append(record)
        for sid, key in keyed.items():
            candidates = list({r.id: r for r in index.get(key, ())}.values())
            ours = [r for r in candidates if owners.get(r.id, ("", None))[1] == sid]
            if ours:
                candidates = ours  # our own create, made before a crash lost its outcome
            elif any(owners.get(r.id, (AWAITING, None))[0] != AWAITING for r in candidates):
                # a candidate that is itself being created or held: a person decides
                result.ambiguous[sid] = sorted(r.id for r in candidates)
                del pending[sid]
                continue
            if len(candidates) == 1:
                result.found[sid] = candidates[0]
                claimed.add(candidates[0].id)
                del pending[sid]
            elif len(candidates) > 1:
                result.ambiguous[sid] = sorted(r.id for r in candidates)
                del pending[sid]

    _key = staticmethod(match_key)

    def _no_group(self, values: Mapping[str, Any]) -> bool:
        return all(self._key(group, values) is None for group in self.groups)

    def _content_group(self, values: Mapping[str, Any]) -> list[MatchField]:
        """Every mapped value the record would be created with; text first (it selects)."""
        present = [
            name for name in sorted(values) if name in self.mapped and not is_blank(values[name])
        ]
        present.sort(key=lambda name: not isinstance(values[name], str))
        return [MatchField(name, False) for name in present]
