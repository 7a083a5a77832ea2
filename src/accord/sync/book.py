"""The last stage of a pass: record each outcome on its coupling (baseline, hashes, results).

Runs on the pass's own thread and session, after the write it describes has completed; the
runner commits what it records once per chunk.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError

from accord.config.spec import to_role
from accord.connectors.base import Record, WriteResult
from accord.mapping.fields import is_blank
from accord.mapping.values import canonical, content_hash, same
from accord.observability import observe_record_error
from accord.state import couplings, jobs
from accord.state.models import Coupling
from accord.sync.decide import Decision
from accord.sync.scope import PassScope


class Book:
    """Writes outcomes of one pass onto couplings and the job."""

    def __init__(self, scope: PassScope):
        self.s = scope

    def success(
        self,
        record: Record,
        row: Coupling,
        decision: Decision,
        dest: Record | None,
        result: WriteResult | None,
    ) -> None:
        """Store the new baseline, hashes, versions and result of a synced record.

        The destination's hash is stored only when every mapped destination field is known
        to equal the baseline; a destination change not synced yet (one the opposite pass
        must carry) must never be absorbed into the hash, or that pass would skip it.
        """
        s = self.s
        written = result.record if result is not None else None
        known: dict[str, Any] | None = None
        if written is not None:
            known = dict(written.values)
            self._adopt_stored_values(decision, written, created=decision.action == "insert")
        elif dest is not None:
            known = {**dest.values, **decision.values}
        source_link = couplings.link_of(row, s.source_role)
        dest_link = couplings.link_of(row, s.dest_role)
        pairs = decision.baseline
        # what an update from the other direction is sending to the source record stays:
        # it may land after this pass read that record (its answer then lost)
        sending = (source_link.synced or {}).get(couplings.SENDING)
        source_values: dict[str, Any] = {
            "synced": couplings.synced_of(pairs, s.source_role)
            | ({couplings.SENDING: sending} if sending else {}),
            # a field still waiting for its reference: not in sync, decided again next pass
            "content_hash": None
            if decision.waiting
            else content_hash(s.mapping.hash_pairs(s.source_role, record.values)),
            "last_result": "conflict"
            if decision.conflicts
            else ("waiting" if decision.waiting else "success"),
            "last_error": None,
            "last_job": s.job_id,
        }
        dest_values: dict[str, Any] = {"synced": couplings.synced_of(pairs, s.dest_role)}
        if known is not None:
            dest_values["content_hash"] = self._in_sync_hash(known, pairs)
            present, natural = s.natural_key(s.dest_role, known)
            if present:
                dest_values["natural_key"] = natural
        if _newer(source_link.version, record.modified_at):
            source_values["version"] = record.modified_at
        holder = written or dest
        if holder is not None and _newer(dest_link.version, holder.modified_at):
            dest_values["version"] = holder.modified_at
        s.ledger.link(source_link, **source_values)
        s.ledger.link(dest_link, **dest_values)

    def sending(self, row: Coupling, decision: Decision) -> None:
        """Record what an update is about to write (its update intent, committed before it is
        sent): if its answer is lost, the next pass sees the value it wrote as its own echo
        (:meth:`echoes`), not as an edit of the destination's."""
        s = self.s
        keys = [r.key for r in s.mapping.rules_for(s.direction) if r.field(s.dest_role)]
        written = {r.key for r in s.mapping.rules if r.field(s.dest_role) in decision.values}
        pairs = {k: decision.baseline[k] for k in keys if k in written and k in decision.baseline}
        if pairs:
            link = couplings.link_of(row, s.dest_role)
            s.ledger.link(link, synced={**(link.synced or {}), couplings.SENDING: pairs})

    def echoes(self, row: Coupling, record: Record, dest: Record | None) -> None:
        """Before deciding: a recorded update whose value is in place on its record completed
        (its answer was lost): that field's pair becomes the baseline, as booking it would
        have made it. Works from either direction's pass."""
        s = self.s
        current = {s.source_role: record, s.dest_role: dest}
        rules = {r.key: r for r in s.mapping.rules}
        arrived: dict[str, dict[str, Any]] = {}
        for role, link in row.links.items():
            sent = (link.synced or {}).get(couplings.SENDING) or {}
            holder = current.get(role)
            values = holder.values if holder is not None else {}
            for key, pair in sent.items():
                name = rules[key].field(role) if key in rules else None
                if (
                    name is not None
                    and name in values
                    and role in pair
                    and same(canonical(values[name]), pair[role])
                ):
                    arrived[key] = pair
        if not arrived:
            return
        for role, link in row.links.items():
            synced = dict(link.synced or {})
            synced.update({k: pair[role] for k, pair in arrived.items() if role in pair})
            left = {k: v for k, v in synced.get(couplings.SENDING, {}).items() if k not in arrived}
            synced.pop(couplings.SENDING, None)
            s.ledger.link(link, synced={**synced, **({couplings.SENDING: left} if left else {})})

    def _adopt_stored_values(self, decision: Decision, written: Record, *, created: bool) -> None:
        """The destination may normalize what we wrote, or fill what we left out (a default
        owner): the baseline keeps what it stored. On an update only the written fields are
        taken -- any other difference is a change of the destination's own, still to sync.

        A value the destination assigned on create where the source had none (a customer
        number from Business Central's number series) is left out of the baseline when the
        field also flows back: the opposite pass then carries it to the source."""
        s = self.s
        role = s.dest_role
        back = to_role(s.source_role)
        for rule in s.mapping.rules:
            name = rule.field(role)
            key = rule.key
            if (
                name is None
                or not rule.spec.enabled
                or key not in decision.baseline
                or name not in written.values
                or not (created or name in decision.values)
            ):
                continue
            stored = canonical(written.values[name])
            pair = decision.baseline[key]
            if created and rule.runs(back) and self._assigned(pair, stored):
                continue  # left unsynced: the opposite pass carries it back
            pair[role] = stored

    def _assigned(self, pair: dict[str, Any], stored: Any) -> bool:
        """Whether the destination assigned this value on create where the source had none (a
        number from its number series). A value the source holds is never replaced this way:
        a destination's default (a credit limit of 0) must not overwrite what a person
        entered."""
        return not is_blank(stored) and is_blank(pair.get(self.s.source_role))

    def _in_sync_hash(self, known: dict[str, Any], baseline: dict[str, Any]) -> str | None:
        role = self.s.dest_role
        pairs = []
        for key, name in self.s.mapping.role_fields(role):
            pair = baseline.get(key)
            value = known.get(name)
            if pair is None or not same(value, pair.get(role)):
                return None
            pairs.append((key, value))
        return content_hash(pairs)

    def failure(
        self, record: Record, row: Coupling | None, message: str, *, transient: bool = False
    ) -> None:
        """Count and keep one record's failure; the same error twice in a row skips it --
        unless it is ``transient`` (throttled, a 5xx, a stale etag: nothing wrong with the
        record), which the next pass retries however often it repeats."""
        s = self.s
        s.counts["failed"] += 1
        if s.dry_run:
            return
        observe_record_error(
            s.mapping.name, s.direction, message, job_id=s.job_id, record_id=record.id
        )
        if row is None:
            row = self.intent(record)
            if row is None:
                return
            row.state = "creating"
        link = couplings.link_of(row, s.source_role)
        if not transient and link.last_error == message and link.last_job not in (None, s.job_id):
            row.skipped = True
        self.result(row, "failure", message)
        assert s.job_id is not None
        jobs.add_error(
            s.session,
            s.job_id,
            s.mapping_id,
            message,
            source_id=record.id,
            destination_id=s.dest_id(row),
        )

    def result(self, row: Coupling, result: str, error: str | None) -> None:
        """The outcome of carrying the source record to the destination, on its link."""
        link = couplings.link_of(row, self.s.source_role)
        link.last_result, link.last_error, link.last_job = result, error, self.s.job_id

    def intent(self, record: Record) -> Coupling | None:
        """Record the intent to create (unique per source record: a second worker loses)."""
        found = self.intents([record], one_by_one=False)
        return found.get(record.id)

    def intents(self, records: list[Record], *, one_by_one: bool = True) -> dict[str, Coupling]:
        """Intents (couplings in state ``creating``) for many records at once: the coupling,
        its source link and, where the destination takes ids from its caller, a planned id.
        If another worker took some meanwhile (the unique constraint decides who creates),
        one by one."""
        if not records:
            return {}
        s = self.s
        planned = new_guids(len(records)) if s.dest_info.client_ids else []
        rows = {
            record.id: Coupling(
                mapping_id=s.mapping_id, state="creating", seen_job=s.job_id, skipped=False
            )
            for record in records
        }
        links = []
        for n, record in enumerate(records):
            row = rows[record.id]
            own = [s.new_link(row, s.source_role, record.id, record)]
            if planned:
                own.append(s.new_link(row, s.dest_role, planned[n]))
            links.append(own)
        try:
            with s.session.begin_nested():
                s.ledger.insert_couplings(list(rows.values()), links)
        except IntegrityError:
            if not one_by_one:
                return {}
            taken = {record.id: self.intent(record) for record in records}
            return {k: v for k, v in taken.items() if v is not None}
        # links first: adding a coupling cascades to the links it holds
        s.ledger.attach([*(link for own in links for link in own), *rows.values()])
        return rows


def transient(result: WriteResult) -> bool:
    """A write that failed for a moment, not for what it carried: retried, never skipped."""
    return result.retryable or result.conflict


def new_guids(count: int) -> list[str]:
    """``count`` random (version 4) GUIDs from one read of the system's random source."""
    pool = os.urandom(16 * count)
    return [str(uuid.UUID(bytes=pool[i * 16 : i * 16 + 16], version=4)) for i in range(count)]


def _newer(current: Any, value: Any) -> bool:
    return value is not None and (current is None or value > current)
