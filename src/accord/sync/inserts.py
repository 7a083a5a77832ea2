"""Creates: look for a counterpart first (couple it, decided as a first sight), record the
intent durably, then create what stayed unmatched and couple what was created."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from accord.config.filters import matches
from accord.config.spec import to_role
from accord.connectors.base import Record, WriteKind, WriteOp, WriteResult
from accord.mapping.fields import Lookups, Role
from accord.state import couplings
from accord.state.models import Coupling
from accord.state.types import utcnow
from accord.sync.book import Book, transient
from accord.sync.claims import claim_outcomes, sent_baseline
from accord.sync.decide import Decision, decide
from accord.sync.links import lookups_for
from accord.sync.matching import AWAITING, CreateMatcher
from accord.sync.scope import PassScope

ALREADY_COUPLED = (
    "the created record {id} is already coupled to {other}; uncouple one of them or couple by hand"
)
AMBIGUOUS = (
    "ambiguous match: {entity} {ids} all match this record; couple one by hand "
    "(accord couple) or make the match fields unique"
)
OUT_OF_SCOPE = (
    "matches {entity} {id}, which the mapping's table filter leaves out; not created (it "
    "would be a duplicate) and not coupled: couple it by hand (accord couple) or change the "
    "filter"
)


@dataclass
class Insert:
    """A source record to create on the destination (``row``: its intent, if recorded)."""

    record: Record
    decision: Decision
    row: Coupling | None


@dataclass
class Update:
    """A coupled source record and what to write to its destination record."""

    record: Record
    decision: Decision
    row: Coupling
    dest: Record | None


Submit = Callable[[list[WriteOp], Callable[[list[WriteResult]], None]], None]
Gone = Callable[[Record, Coupling], None]


class Inserts:
    """The create stages of one pass."""

    def __init__(self, scope: PassScope, book: Book, gone: Gone):
        self.s = scope
        self.book = book
        self.gone = gone
        """Applies the deletion policy to an intent whose known counterpart is gone."""
        self._empty: bool | None = None

    def owners(self, dest_ids: Sequence[str]) -> dict[str, Coupling]:
        """Couplings that already hold these destination ids."""
        return couplings.by_ids(self.s.session, self.s.mapping_id, self.s.dest_role, dest_ids)

    def _dest_empty(self) -> bool:
        """Whether the destination held nothing when this pass first created (then nothing
        there can be a match, and the look-ups are skipped); asked once per pass."""
        if self._empty is None:
            self._empty = self.s.dest.count(self.s.mapping.entity(self.s.dest_role)) == 0
        return self._empty

    def match(self, inserts: list[Insert], updates: list[Update], lookups: Lookups) -> None:
        """Before anything is created, look for each record's counterpart (one batch of
        look-ups per match group): one match couples, several are held for a person."""
        inserts[:] = claim_outcomes(self, inserts)
        if not inserts or self._dest_empty():
            return
        s = self.s
        if s.mapping.spec.couple_through is not None:
            self._through(inserts, updates, lookups)
            return
        scope = s.mapping.spec.filters.get(s.dest_role)
        fields = list(s.dest_fields())
        fields += sorted({str(c.field) for c in scope.conditions()} - set(fields)) if scope else []
        matcher = CreateMatcher(s.mapping, s.dest_role, s.dest, fields, self._owner_states)
        outcome = matcher.resolve({i.record.id: i.decision.values for i in inserts})
        remaining: list[Insert] = []
        for item in inserts:
            rid = item.record.id
            if rid in outcome.ambiguous:
                names = ", ".join(outcome.ambiguous[rid][:10])
                entity = s.mapping.entity(s.dest_role)
                self.book.failure(item.record, item.row, AMBIGUOUS.format(entity=entity, ids=names))
            elif rid in outcome.found and scope and not matches(scope, outcome.found[rid].values):
                entity = s.mapping.entity(s.dest_role)
                message = OUT_OF_SCOPE.format(entity=entity, id=outcome.found[rid].id)
                self.book.failure(item.record, item.row, message)
            elif rid in outcome.found:
                self._adopt(item, outcome.found[rid], updates, lookups)
            else:
                remaining.append(item)
        inserts[:] = remaining

    def _through(self, inserts: list[Insert], updates: list[Update], lookups: Lookups) -> None:
        """Couple each record to the counterpart the mapping ``couple_through`` names coupled
        it to (the same records under the same ids); the others stay to be created (or
        skipped)."""
        s = self.s
        other = s.ctx.mapping_id(str(s.mapping.spec.couple_through))
        ids = [i.record.id for i in inserts]
        wanted = couplings.partners(s.session, other, s.source_role, s.dest_role, ids)
        entity = s.mapping.entity(s.dest_role)
        found = {r.id: r for r in s.dest.get(entity, list(set(wanted.values())))} if wanted else {}
        remaining: list[Insert] = []
        for item in inserts:
            match = found.get(wanted.get(item.record.id, ""))
            if match is None:
                remaining.append(item)
            else:
                self._adopt(item, match, updates, lookups)
        inserts[:] = remaining

    def _owner_states(self, dest_ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        """Per destination id already in a coupling: that coupling's state (``awaiting`` for
        an unfinished create from it into the source role) and its source-role record."""
        states: dict[str, tuple[str, str | None]] = {}
        for dest_id, row in self.owners(dest_ids).items():
            source_id = self.s.source_id(row)
            awaiting = row.state == "creating" and source_id is None
            states[dest_id] = (AWAITING if awaiting else row.state, source_id)
        return states

    def _adopt(self, item: Insert, match: Record, updates: list[Update], lookups: Lookups) -> None:
        """Couple ``item`` to the counterpart found, and decide it as a pair seen for the
        first time (no history: nothing is overwritten silently).

        When the counterpart is the source of an unfinished create into this pass's source
        role (a crash lost its outcome), ``item`` is that outcome: it completes that coupling.
        """
        s = self.s
        if s.dry_run:
            s.counts["coupled"] += 1
            s.preview_row(item.record.id, match.id, "couple")
            return
        s.counts["coupled"] += 1
        row = item.row
        pending = self.owners([match.id]).get(match.id)
        unfinished = pending is not None and pending.state == "creating" and pending is not row
        sent = self._sent(pending if unfinished else row, item.record, lookups)
        try:
            with s.session.begin_nested():
                if unfinished and pending is not None:
                    if row is not None:
                        s.session.delete(row)  # our own intent gives way to the older one
                        s.session.flush()
                    row = pending
                    s.link_record(row, s.source_role, item.record)
                if row is None:
                    row = Coupling(mapping_id=s.mapping_id, seen_job=s.job_id, skipped=False)
                    s.link_record(row, s.source_role, item.record)
                    s.session.add(row)
                row.state = "coupled"
                s.link_record(row, s.dest_role, match)
                couplings.store_baseline(row, sent)
                s.session.flush()
        except IntegrityError:  # another worker coupled one of the two meanwhile
            message = ALREADY_COUPLED.format(id=match.id, other="another record")
            self.book.failure(item.record, item.row, message)
            return
        decision = decide(
            s.mapping, s.direction, item.record, s.view(row), match, lookups, explain=False
        )
        updates.append(Update(item.record, decision, row, match))

    def _sent(
        self, row: Coupling | None, record: Record, lookups: Lookups
    ) -> dict[str, dict[Role, Any]]:
        """What an earlier create from this intent sent (its baseline), when its outcome was
        lost: the record found is most likely the one it made, so the pair has a history and
        later edits merge field by field instead of meeting as a first sight. The intent may
        be from either direction (the pass that finds the record may run the other way).
        Empty when the intent never sent anything."""
        if row is None or row.state != "creating":
            return {}
        replayed = self.replay(row, record.id, lookups)
        if replayed is None:  # both halves (a planned id): the baseline itself, or nothing
            return couplings.baseline(row)
        return sent_baseline(*replayed)

    def replay(
        self, row: Coupling, record_id: str, lookups: Lookups | None
    ) -> tuple[dict[str, Any], Decision] | None:
        """The create an intent sent, decided again from the half of the baseline it stored
        (the source's values; destinations that assign ids have no other half): that half
        and the decision. None unless exactly one half is stored."""
        roles = (self.s.source_role, self.s.dest_role)
        sent = [(r, row.links[r].synced) for r in roles if r in row.links and row.links[r].synced]
        if len(sent) != 1:
            return None
        (origin, half), (target,) = sent[0], [r for r in roles if r != sent[0][0]]
        mapping = self.s.mapping
        names = {rule.key: rule.field(origin) for rule in mapping.rules}
        values = {name: v for k, v in half.items() if (name := names.get(k))}
        then = Record(record_id, values)
        if lookups is None:
            lookups = lookups_for(self.s, [then])
        replay = decide(mapping, to_role(target), then, None, None, lookups, explain=False,
                        create_uncoupled=True)  # fmt: skip
        return half, replay

    def find_made(self, rows: Sequence[Coupling]) -> dict[int, Record]:
        """Per unfinished create into a destination that assigns ids (the intent holds no id
        when the answer was lost): the record it made, found by what it sent -- one match
        that no coupling holds. Intents that never sent anything find nothing."""
        s = self.s
        sent: dict[str, dict[str, Any]] = {}
        rows_of: dict[str, Coupling] = {}
        for row in rows:
            source_id = s.source_id(row)
            if source_id is None or s.dest_role in row.links:
                continue  # only creates from this source whose destination id is unknown
            replayed = self.replay(row, source_id, None)
            if replayed is not None and replayed[1].values:
                sent[source_id], rows_of[source_id] = replayed[1].values, row
        if not sent or self._dest_empty():
            return {}
        matcher = CreateMatcher(
            s.mapping, s.dest_role, s.dest, list(s.dest_fields()), self._owner_states
        )
        found = matcher.resolve(sent).found
        owned = self.owners([r.id for r in found.values()])
        return {rows_of[sid].id: r for sid, r in found.items() if r.id not in owned}

    def create(self, inserts: list[Insert], submit: Submit) -> None:
        """Record the intents (committed before anything is sent), then create."""
        s = self.s
        if inserts and not s.mapping.spec.creates:  # only updates what it couples: skipped
            s.counts["skipped"] += len(inserts)
            return
        if s.dry_run:
            for item in inserts:
                s.counts["inserted"] += 1
                s.preview_row(item.record.id, None, "insert", item.decision.changes)
            return
        ops: list[WriteOp] = []
        pending: dict[str, tuple[Record, Decision, Coupling]] = {}
        updated: set[str] = set()  # refs that update a counterpart the intent already knows
        probed: set[str] = set()  # refs that retry a planned create as an update
        intents = self.book.intents([i.record for i in inserts if i.row is None])
        for item in inserts:
            row = item.row or intents.get(item.record.id)
            if row is None:
                s.counts["skipped"] += 1
                continue
            planned = s.dest_id(row)
            ref = f"c{len(ops)}"
            if planned and not s.dest_info.client_ids:
                updated.add(ref)
                ops.append(WriteOp("update", ref, item.decision.values, id=planned))
            elif planned and item.row is not None and couplings.baseline(row):
                # sent before, its outcome unknown: an upsert would make again what a person
                # deleted meanwhile, so only update what is there (If-Match: *) -- unless a
                # read of the destination's changes since showed it never arrived
                link = couplings.link_of(row, s.dest_role)
                if link.last_result == couplings.ABSENT:
                    s.counts["skipped"] += 1  # until a read of the destination's deletes
                    continue
                never_arrived = link.last_result == couplings.MISSING
                link.last_result = None  # a lost answer again: probed again
                if not never_arrived:
                    probed.add(ref)
                kind: WriteKind = "create" if never_arrived else "update"
                ops.append(WriteOp(kind, ref, item.decision.values, id=planned))
            else:
                ops.append(WriteOp("create", ref, item.decision.values, id=planned))
            pending[ref] = (item.record, item.decision, row)
            couplings.store_baseline(row, item.decision.baseline)  # what this create sends
        if ops:
            s.session.commit()  # the intents are durable before anything is created

        def created(results: list[WriteResult]) -> None:
            unplanned = [r.id for r in results if r.ok and r.id and r.id != planned_of(r.ref)]
            owners = couplings.owners(s.session, s.mapping_id, s.dest_role, unplanned)
            taken = {  # created records another coupling already holds
                r.ref
                for r in results
                if r.ok and r.id in owners and owners[r.id] != pending[r.ref][2].id
            }
            claimed = {  # coupled meanwhile by a pass the other way (sync/claims.py)
                r.ref for r in results if r.ok and r.id in owners and r.ref not in taken
            }
            for ref in claimed:
                s.session.refresh(pending[ref][2])
            # each created record's id is stored before any coupling says 'coupled'
            new_links = [
                s.new_link(pending[r.ref][2], s.dest_role, r.id)
                for r in results
                if r.ok and r.ref not in taken | claimed and r.id != planned_of(r.ref)
            ]
            s.ledger.insert_links(new_links)
            s.ledger.attach(new_links)
            for result in results:
                record, decision, row = pending[result.ref]
                if result.ref in taken:
                    other = couplings.source_of(s.session, owners[result.id or ""], s.source_role)
                    message = ALREADY_COUPLED.format(id=result.id, other=other)
                    self.book.failure(record, row, message)
                elif result.ok:
                    s.ledger.coupling(row, state="coupled")
                    self.book.success(record, row, decision, None, result)
                    s.counts["inserted"] += 1
                elif result.not_found and result.ref in probed:
                    self._absent(row)
                elif result.not_found and result.ref in updated:
                    # the intent's known counterpart (made by a create whose answer was lost,
                    # or the source of an intent from the other direction) was deleted there
                    self.gone(record, row)
                else:
                    if _made_nothing(result) and result.ref not in updated | probed:
                        self._refused(row)
                    self.book.failure(record, row, describe(result), transient=transient(result))

        def planned_of(ref: str) -> str | None:
            return s.dest_id(pending[ref][2])

        submit(ops, created)

    def _refused(self, row: Coupling) -> None:
        """A planned create the destination answered with an error made nothing: its next
        try creates again (no probe needed)."""
        if self.s.dest_info.client_ids and self.s.dest_id(row):
            link = couplings.link_of(row, self.s.dest_role)
            self.s.ledger.link(link, last_result=couplings.MISSING)

    def _absent(self, row: Coupling) -> None:
        """A planned create retried as an update found nothing: mark it (and when) until a
        read of the destination's changes tells a delete from a create that never arrived.
        A mapping that never reads the destination's changes cannot tell: the create never
        arrived, and its next try makes it (ADR 0020)."""
        s = self.s
        read_back = to_role(s.source_role) in s.mapping.directions()
        mark = couplings.ABSENT if read_back else couplings.MISSING
        s.ledger.link(couplings.link_of(row, s.dest_role), last_result=mark)
        s.ledger.coupling(row, updated_at=utcnow())
        s.counts["skipped"] += 1


def _made_nothing(result: WriteResult) -> bool:
    """The destination refused the create outright (a 4xx that is not throttling): nothing
    was made. A 5xx or a gateway timeout may have been committed before it failed."""
    return result.status is not None and 400 <= result.status < 500 and not result.retryable


def describe(result: WriteResult) -> str:
    """A failed write as a one-line error."""
    code = f" [{result.error_code}]" if result.error_code else ""
    status = f"HTTP {result.status}" if result.status else "write failed"
    return f"{status}{code}: {result.error or 'no message'}"
