"""Pure building blocks of a document transfer: placeholders, field values through lookup
tables with fallbacks, long text split into comment lines, and the target lines a source
document plans. No I/O: lookups arrive as tables, the engine does the reading and writing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from accord.config.documents import (
    PLACEHOLDER,
    ChargeSpec,
    DocumentFieldSpec,
    DocumentMappingSpec,
    LinesSpec,
)
from accord.config.filters import matches
from accord.mapping.fields import is_blank
from accord.mapping.transforms import compile_transform
from accord.mapping.values import content_hash

POSITION_STEP = 10_000
"""Positions of source lines are multiples of this; a line's comment lines follow it (+1, +2)."""


def table_key(spec: DocumentFieldSpec, roles: tuple[str, str]) -> str:
    """Which lookup table a field reads: its mapping and how each role refers (id or key)."""
    assert spec.lookup is not None
    by = [spec.lookup_by.get(role, "id") for role in roles]
    then = f"|{spec.lookup_field}" if spec.lookup_field else ""
    return f"{spec.lookup}|{by[0]}|{by[1]}{then}"


@dataclass
class Lookups:
    """Per lookup table (:func:`table_key`): source value -> target value, and for values
    that stay uncoupled, why (filtered out, not exported yet) and what to do."""

    tables: dict[str, dict[str, str]] = field(default_factory=dict)
    reasons: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    """Why a document cannot be written as it is: where (a line key, None for the header),
    which field, and what to fix."""

    line: str | None
    field: str
    message: str

    def text(self, document: str) -> str:
        where = f"document {document}" + (f", line {self.line}" if self.line else "")
        return f"{where}, {self.field}: {self.message}"


@dataclass
class Scope:
    """What placeholders draw on: settings, the source and target headers, the clock."""

    settings: Mapping[str, Any]
    source: Mapping[str, Any] = field(default_factory=dict)
    target: Mapping[str, Any] = field(default_factory=dict)
    related: Mapping[str, Any] = field(default_factory=dict)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def value(self, body: str) -> Any:
        body = body.strip()
        if body == "today":
            return self.now.date().isoformat()
        if body == "now":
            return self.now.isoformat()
        kind, _, name = body.partition(".")
        found: Mapping[str, Any] = {
            "setting": self.settings,
            "source": self.source,
            "target": self.target,
            "related": self.related,
        }[kind]
        return found.get(name)

    def render(self, value: Any) -> Any:
        """``value`` with its placeholders filled; a value that is one placeholder keeps the
        placeholder's type (a Decimal stays a Decimal); text, lists and mappings recurse."""
        if isinstance(value, dict):
            return {k: self.render(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render(v) for v in value]
        if not isinstance(value, str):
            return value
        whole = PLACEHOLDER.fullmatch(value)
        if whole:
            return self.value(whole.group(1))
        return PLACEHOLDER.sub(lambda m: _text(self.value(m.group(1))), value)


def _text(value: Any) -> str:
    """A placeholder's value in text: blank only when missing (a 0 is written)."""
    return "" if value is None else str(value)


def given(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` without the blank ones (None): a create leaves those to the target's
    default, a write-back never clears a field with them."""
    return {name: value for name, value in values.items() if value is not None}


def roles(doc: DocumentMappingSpec) -> tuple[str, str]:
    """(source role, target role) of a document mapping."""
    target = doc.target
    return next(r for r in doc.per_role if r != target), target


def towards(spec: DocumentFieldSpec, doc: DocumentMappingSpec) -> bool:
    """True when the field is written to the target when the document is created."""
    return (spec.direction or doc.direction) == doc.direction


def lookup_refs(
    doc: DocumentMappingSpec,
    specs: Iterable[DocumentFieldSpec],
    rows: Iterable[Mapping[str, Any]],
) -> dict[str, set[str]]:
    """Lookup table (:func:`table_key`) -> the source values the rows need translated."""
    pair = roles(doc)
    wanted: dict[str, set[str]] = {}
    rows = list(rows)
    for spec in specs:
        name = spec.name_for(pair[0])
        if spec.lookup is None or name is None or not towards(spec, doc):
            continue
        for row in rows:
            value = row.get(name)
            if not is_blank(value):
                wanted.setdefault(table_key(spec, pair), set()).add(str(value))
    return wanted


def field_values(
    doc: DocumentMappingSpec,
    specs: Iterable[DocumentFieldSpec],
    row: Mapping[str, Any],
    lookups: Lookups,
    scope: Scope,
    line: str | None = None,
) -> tuple[dict[str, Any], list[Problem]]:
    """The target values of ``specs`` for one source ``row`` (header or line), and the
    problems that stop it (a reference not coupled and no fallback)."""
    source, target = roles(doc)
    out: dict[str, Any] = {}
    problems: list[Problem] = []
    for spec in specs:
        name = spec.name_for(target)
        if name is None or not towards(spec, doc):
            continue
        if spec.constant is not None:
            out[name] = scope.render(spec.constant)
            continue
        src = spec.name_for(source) or ""
        value = row.get(src)
        for pair in spec.option_map or []:
            if pair.get(source) == value:
                value = pair.get(target)
                break
        if spec.transform:
            value = compile_transform(spec.transform, location=spec.key)(value)
        if spec.lookup is not None:
            value, problem = _looked_up(spec, (source, target), value, row, lookups, scope)
            if problem is not None:
                problems.append(Problem(line, src, problem))
                continue
        if value is None and (spec.not_null or name in out):
            continue  # never written blank; a blank never clears what an earlier field gave
        out[name] = value
    return out, problems


def _looked_up(
    spec: DocumentFieldSpec,
    pair: tuple[str, str],
    value: Any,
    row: Mapping[str, Any],
    lookups: Lookups,
    scope: Scope,
) -> tuple[Any, str | None]:
    key = table_key(spec, pair)
    table = lookups.tables.get(key, {})
    fallback = spec.fallback
    found = None if is_blank(value) else table.get(str(value))
    if fallback is not None and (
        matches(fallback.when, row) if fallback.when is not None else found is None
    ):
        chosen = scope.render(fallback.value)
        if is_blank(chosen):
            return None, (
                f"no value for the fallback {fallback.value} (the item set up for write-ins); "
                "set it with 'accord documents set'"
            )
        return chosen, None
    if is_blank(value):
        return None, None
    if found is None and spec.uncoupled == "blank":
        return None, None
    if found is None:
        why = lookups.reasons.get(key, {}).get(str(value))
        return None, why or (
            f"{value} is not coupled in mapping {spec.lookup}; couple it, or synchronize it first"
        )
    return found or None, None  # '': coupled, its lookup_field blank


def split_text(text: str, first: int, rest: int) -> list[str]:
    """``text`` in pieces: the first at most ``first`` characters, each next at most
    ``rest``; a line break always starts a new piece."""
    pieces: list[str] = []
    for paragraph in text.splitlines() or [""]:
        paragraph = paragraph.rstrip()
        while True:
            size = first if not pieces else rest
            pieces.append(paragraph[:size])
            paragraph = paragraph[size:]
            if not paragraph:
                break
    return [p for p in pieces if p] or [""]


@dataclass
class PlannedLine:
    """One target line a source document needs, at its position."""

    position: int
    key: str
    kind: str
    values: dict[str, Any]
    label: str = ""
    """How errors name the source line (its number and key)."""

    @property
    def hash(self) -> str:
        return content_hash(self.values.items())


def plan_lines(
    doc: DocumentMappingSpec,
    rows: Iterable[Mapping[str, Any]],
    lookups: Lookups,
    scope: Scope,
    max_length: Callable[[str], int | None],
    positions: Mapping[str, int],
) -> tuple[list[PlannedLine], list[Problem]]:
    """The target lines of the source ``rows`` (already in source order): each line at the
    position it had (``positions``, by line key) or after the last; text that does not fit
    its field continues in comment lines right after it."""
    spec = doc.lines
    assert spec is not None
    source, target = roles(doc)
    key_field = spec.key[source]
    next_free = max(positions.values(), default=0) // POSITION_STEP * POSITION_STEP
    planned: list[PlannedLine] = []
    problems: list[Problem] = []
    for row in rows:
        key = str(row.get(key_field))
        order = spec.order_by.get(source)
        label = f"{row.get(order)} ({key})" if order and row.get(order) is not None else key
        values, found = field_values(doc, spec.fields, row, lookups, scope, line=label)
        comments, overflow = _overflow(spec, doc, row, values, max_length, label, source)
        problems += found + overflow
        if key in positions:
            base = positions[key]
        else:
            next_free += POSITION_STEP
            base = next_free
        position_field = spec.position.get(target)
        if position_field:
            values[position_field] = base
        planned.append(PlannedLine(base, key, "line", values, label))
        for number, text in enumerate(comments, start=1):
            assert spec.comment_lines is not None
            made = {**spec.comment_lines.values, spec.comment_lines.field: text}
            if position_field:
                made[position_field] = base + number
            text = f"{label}, comment line {number}"
            planned.append(PlannedLine(base + number, f"{key}#{number}", "comment", made, text))
    for charge in doc.charges:
        line, problem = _charge(charge, source, scope)
        if problem is not None:
            problems.append(problem)
        if line is None:
            continue
        key = f"charge:{charge.name}"
        if key in positions:
            base = positions[key]
        else:
            next_free += POSITION_STEP
            base = next_free
        if position_field := spec.position.get(target):
            line[position_field] = base
        planned.append(PlannedLine(base, key, "charge", line, f"charge {charge.name}"))
    return planned, problems


def _charge(
    charge: ChargeSpec, source: str, scope: Scope
) -> tuple[dict[str, Any] | None, Problem | None]:
    """The target line of a header amount (freight), None when there is no amount; a
    problem when the line's values (a setting: the freight account) are not set."""
    field_name = str(charge.per_role[source])
    amount = scope.source.get(field_name)
    if is_blank(amount):
        return None, None
    try:
        amount = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    except InvalidOperation:
        return None, Problem(None, field_name, f"{amount!r} is not an amount")
    if charge.skip_zero and amount == 0:
        return None, None
    line = scope.render(charge.line)
    missing = [f"{name} ({charge.line[name]})" for name, value in line.items() if is_blank(value)]
    if missing:
        text = (
            f"{amount} needs a {charge.name} line, whose {', '.join(missing)} is not set; "
            "set it with 'accord documents set'"
        )
        return None, Problem(None, field_name, text)
    line[charge.amount_field] = amount
    if charge.quantity_field:
        line[charge.quantity_field] = Decimal(1)
    return line, None


def _overflow(
    spec: LinesSpec,
    doc: DocumentMappingSpec,
    row: Mapping[str, Any],
    values: dict[str, Any],
    max_length: Callable[[str], int | None],
    key: str,
    source: str,
) -> tuple[list[str], list[Problem]]:
    """Fit the texts of fields with an ``overflow`` rule into their target field: the
    first text takes the field, what does not fit (and any later text for the same field)
    goes to comment lines, is cut, or holds the document."""
    target = doc.target
    comments: list[str] = []
    problems: list[Problem] = []
    firsts: dict[str, str | None] = {}
    for field_spec in spec.fields:
        name, src = field_spec.name_for(target), field_spec.name_for(source)
        if field_spec.overflow is None or name is None or src is None:
            continue
        firsts.setdefault(name, None)
        text = row.get(src)
        if is_blank(text):
            continue
        text = str(text)
        limit = max_length(name) or (spec.comment_lines.max_length if spec.comment_lines else 0)
        room = limit if firsts[name] is None else 0
        if field_spec.overflow == "hold" and (len(text) > room or "\n" in text):
            problems.append(
                Problem(key, src, f"{len(text)} characters do not fit {name} ({limit})")
            )
        elif field_spec.overflow == "truncate":
            if room:
                firsts[name] = text[:room]
        else:
            width = spec.comment_lines.max_length if spec.comment_lines else limit
            pieces = split_text(text, room or width, width)
            if room:
                firsts[name] = pieces.pop(0)
            comments += pieces
    for name, first in firsts.items():
        if first is None:
            values.pop(name, None)
        else:
            values[name] = first
    return comments, problems
