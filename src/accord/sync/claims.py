"""Outcomes of lost creates, met by a pass the other way.

A create into a system that assigns ids (Business Central) whose answer was lost leaves an
intent that knows no id, and the record it made sits there coupled to nothing. A pass the
other way that reads that record would make it again in the intent's own system -- also when
the record the intent came from was deleted meanwhile, so the delete came back (found by the
chaos run). So before anything is matched or created, such records are coupled to the
intents that made them, found by what each intent sent (its match groups, highest priority
first), with what it sent as the pair's baseline: later edits merge field by field, and the
delete of the intent's source takes the made record along (ADR 0020). A pass whose answer
does arrive afterwards finds its record coupled already (``Inserts.create``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from accord.state import couplings
from accord.state.models import Coupling
from accord.sync.decide import Decision
from accord.sync.matching import MatchField, match_key, role_groups

if TYPE_CHECKING:
    from accord.sync.inserts import Insert, Inserts

Index = dict[tuple[int, tuple[Any, ...]], list[Coupling]]
Baseline = dict[str, dict[str, Any]]


def claim_outcomes(ins: Inserts, items: list[Insert]) -> list[Insert]:
    """``items`` less the records that are the outcome of a create from the destination
    whose answer was lost (each now coupled to that create's intent)."""
    s = ins.s
    if s.dry_run or s.source_info.client_ids or not items:
        return items
    intents = couplings.unknown_outcomes(s.session, s.mapping_id, s.dest_role, s.source_role)
    if not intents:
        return items
    groups = role_groups(s.mapping, s.source_role)
    index, sent = _sent_keys(ins, intents, groups)
    claimed: set[int] = set()
    remaining: list[Insert] = []
    for item in items:
        row = None if item.row is not None else _intent_of(item.record.values, groups, index)
        if row is None or row.id in claimed:
            remaining.append(item)
        elif s.link_if_free(row, s.source_role, item.record, sent[row.id]):
            claimed.add(row.id)
            s.counts["coupled"] += 1
        elif item.record.id not in ins.owners([item.record.id]):
            remaining.append(item)  # the intent got another record meanwhile: not ours
    return remaining


def sent_baseline(half: dict[str, Any], replay: Decision) -> Baseline:
    """The baseline of what a create sent: its replayed decision's, for the fields of the
    half its intent stored."""
    return {k: v for k, v in replay.baseline.items() if k in half}


def _sent_keys(
    ins: Inserts, intents: list[Coupling], groups: list[list[MatchField]]
) -> tuple[Index, dict[int, Baseline]]:
    """Each intent under the key of the highest match group its create sent a value for,
    and the baseline of what it sent."""
    index: Index = defaultdict(list)
    sent: dict[int, Baseline] = {}
    for row in intents:
        replayed = ins.replay(row, ins.s.dest_id(row) or "", None)
        if replayed is None:
            continue
        sent[row.id] = sent_baseline(*replayed)
        for n, group in enumerate(groups):
            key = match_key(group, replayed[1].values)
            if key is not None:
                index[(n, key)].append(row)
                break
    return index, sent


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
