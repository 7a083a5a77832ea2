"""The link stage of a pass: for a chunk of source records, their couplings, the lookup
tables their references need (one database read, then the transaction ends) and the current
destination records of those that changed (one batched read from the destination)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from accord.connectors.base import Record
from accord.errors import SkippableError
from accord.mapping.fields import FieldRule, Lookups, PassDirection, is_blank
from accord.state import couplings
from accord.state.models import Coupling
from accord.sync.decide import source_hash
from accord.sync.scope import PassScope


@dataclass
class LinkedChunk:
    """A chunk of source records with what the decisions need."""

    records: Sequence[Record]
    found: dict[str, Coupling]
    lookups: Lookups
    unchanged: set[str] = field(default_factory=set)
    """Coupled source ids whose content is as last synced: nothing to decide or write."""
    destinations: dict[str, Record] = field(default_factory=dict)
    fetched: set[str] = field(default_factory=set)
    """Destination ids asked for: one asked for and not returned is gone."""


def link_chunk(scope: PassScope, records: Sequence[Record], *, track_seen: bool) -> LinkedChunk:
    """Read what ``records`` are coupled to and their lookups, end the transaction, then read
    the destination records that need comparing."""
    s = scope
    found = couplings.by_ids(s.session, s.mapping_id, s.source_role, [r.id for r in records])
    if track_seen and not s.dry_run:
        for seen in found.values():
            seen.seen_job = s.job_id
    unchanged, wanted = _compare(s, records, found)
    to_decide = [r for r in records if r.id not in unchanged]
    chunk = LinkedChunk(records, found, lookups_for(s, to_decide), unchanged)
    if not s.dry_run:
        s.session.commit()  # no transaction is held across the network read below
    chunk.fetched = set(wanted)
    if wanted:
        entity = s.mapping.entity(s.dest_role)
        chunk.destinations = {r.id: r for r in s.dest.get(entity, wanted, s.dest_fields())}
    return chunk


def _compare(
    s: PassScope, records: Sequence[Record], found: dict[str, Coupling]
) -> tuple[set[str], list[str]]:
    """Coupled sources as last synced (unchanged), and the destination ids of those that
    changed or must be written anyway (to read before deciding)."""
    unchanged: set[str] = set()
    wanted: list[str] = []
    for record in records:
        row = found.get(record.id)
        if row is None or row.state != "coupled" or (row.skipped and not s.force):
            continue
        link = row.links.get(s.source_role)
        dest_id = s.dest_id(row)
        if link is None or dest_id is None:
            continue
        if (
            not s.force
            and link.last_result != "failure"
            and link.content_hash == source_hash(s.mapping, s.direction, record)
        ):
            unchanged.add(record.id)
        else:
            wanted.append(dest_id)
    return unchanged, wanted


def lookups_for(s: PassScope, records: Sequence[Record]) -> Lookups:
    """The lookup tables the references of ``records`` need."""
    tables: dict[Any, dict[str, str]] = {}
    for rule in s.mapping.rules_for(s.direction):
        key = rule.lookup_key(s.direction)
        source_field = rule.field(s.source_role)
        if key is None or source_field is None or key in tables:
            continue
        references = (_reference(rule, s.direction, r) for r in records)
        values = {str(v) for v in references if not is_blank(v)}
        target_id = s.ctx.mapping_id(key[0])
        tables[key] = couplings.translate(
            s.session, target_id, (s.source_role, key[2]), (s.dest_role, key[3]), values
        )
    return tables


def _reference(rule: FieldRule, direction: PassDirection, record: Record) -> Any:
    """What ``rule`` looks up for ``record`` (None when its option map has no entry: the
    record fails on that when it is mapped)."""
    try:
        return rule.reference(direction, record.values)
    except SkippableError:
        return None
