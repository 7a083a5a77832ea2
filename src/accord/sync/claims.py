"""Outcomes of lost creates, met by a pass the other way.

A create into a system that assigns ids (Business Central) whose answer was lost leaves an
intent that knows no id, and the record it made sits there uncoupled. A pass the other way
that reads that record would make it again in the intent's own system -- also when the record
the intent came from was deleted meanwhile, so the delete came back (found by the chaos run).
So before anything is matched or created, such records are linked to the intents that made
them, found by what each intent sent (its match groups, highest priority first): the intent
then finishes as an update, or the delete of its source takes the made record along (ADR
0020). Only intents of passes no longer running are claimed: a running pass still gets its
answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from accord.state import couplings
from accord.state.models import Coupling
from accord.sync.matching import MatchField, match_key, role_groups

if TYPE_CHECKING:
    from accord.sync.inserts import Insert, Inserts

Index = dict[tuple[int, tuple[Any, ...]], list[Coupling]]


def claim_outcomes(ins: Inserts, items: list[Insert]) -> list[Insert]:
    """``items`` less the records claimed as the outcome of a lost create from the
    destination (each linked to that create's intent)."""
    s = ins.s
    if s.dry_run or s.source_info.client_ids or not items:
        return items
    orphans = couplings.orphaned_creates(s.session, s.mapping_id, s.dest_role, s.source_role)
    if not orphans:
        return items
    groups = role_groups(s.mapping, s.source_role)
    index = _sent_keys(ins, orphans, groups)
    claimed: set[int] = set()
    remaining: list[Insert] = []
    for item in items:
        row = None if item.row is not None else _intent_of(item.record.values, groups, index)
        free = row is not None and row.id not in claimed
        if row is not None and free and s.link_if_free(row, s.source_role, item.record):
            claimed.add(row.id)
            s.counts["coupled"] += 1
        else:
            remaining.append(item)
    return remaining


def _sent_keys(ins: Inserts, orphans: list[Coupling], groups: list[list[MatchField]]) -> Index:
    """Each intent under the key of the highest match group its create sent a value for."""
    index: Index = defaultdict(list)
    for row in orphans:
        replayed = ins.replay(row, ins.s.dest_id(row) or "", None)
        sent = replayed[1].values if replayed is not None else {}
        for n, group in enumerate(groups):
            key = match_key(group, sent)
            if key is not None:
                index[(n, key)].append(row)
                break
    return index


def _intent_of(
    values: Mapping[str, Any], groups: list[list[MatchField]], index: Index
) -> Coupling | None:
    """The one intent whose create sent what ``values`` hold (None: none, or several)."""
    for n, group in enumerate(groups):
        key = match_key(group, values)
        found = index.get((n, key)) if key is not None else None
        if found:
            return found[0] if len(found) == 1 else None
    return None
