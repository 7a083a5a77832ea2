"""Coupling: manual couple / uncouple and match-based coupling by prioritized field groups.

Match-based coupling follows Microsoft's engine (§1.10): for each uncoupled record of one role
try the match groups in ascending priority; a group matches when exactly one record of the
other role has equal values (text compared case-insensitively unless the field says
otherwise, blank values never used) and that record is not coupled yet. Unmatched records
are created in the other role when the mapping says so, else reported in one aggregate
error. Candidates are looked up for a whole page before the page's couplings are written,
so no transaction waits on the network.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from accord.config.spec import to_role
from accord.connectors.base import ChangeQuery, Record
from accord.errors import ConfigError, SkippableError
from accord.mapping.fields import CompiledMapping, FieldRule, Role, is_blank
from accord.state import couplings, jobs
from accord.state.models import Coupling, CouplingLink
from accord.sync.context import SyncContext
from accord.sync.matching import match_groups, normalize
from accord.sync.pages import PageProcessor

PRELOAD_LIMIT = 5000
"""Remote tables up to this size are read once and matched in memory."""


@dataclass
class CouplingResult:
    """What a coupling job did: per role, the ids it coupled (in pairs, same order)."""

    mapping: str
    job_id: str | None
    counts: Counter[str] = field(default_factory=Counter)
    coupled: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    message: str | None = None


def couple(ctx: SyncContext, mapping_name: str, ids: dict[Role, str]) -> None:
    """Couple records by hand (a record id per role); refuses ids already coupled."""
    mapping_id = ctx.mapping_id(mapping_name)
    mapping = ctx.mapping(mapping_name)
    missing = [r for r in mapping.roles if r not in ids]
    if missing or set(ids) - set(mapping.roles):
        raise ConfigError(
            f"give one record id per role ({', '.join(mapping.roles)}); "
            f"got {', '.join(ids) or 'none'}"
        )
    records = {}
    for role, rid in ids.items():
        found = ctx.connector(role).get(mapping.entity(role), [rid])
        if not found:
            raise ConfigError(f"{role} {mapping.entity(role)} record {rid} not found")
        records[role] = found[0]
    with ctx.db.session() as session:
        row = couplings.new_coupling(mapping_id, **ids)
        for role, record in records.items():
            _describe_link(ctx, mapping, row, role, record)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            raise ConfigError(
                f"cannot couple: {' or '.join(ids.values())} is already coupled in "
                f"{mapping_name}; uncouple it first"
            ) from None


def uncouple(
    ctx: SyncContext, mapping_name: str, ids: Sequence[str] = (), *, everything: bool = False
) -> int:
    """Remove couplings (by any role's record id, or all of a mapping); data stays untouched."""
    mapping_id = ctx.mapping_id(mapping_name)
    with ctx.db.session() as session:
        job = jobs.start_job(session, mapping_id, "both", "uncoupling")
        query = delete(Coupling).where(Coupling.mapping_id == mapping_id)
        if not everything:
            chosen = select(CouplingLink.coupling_id).where(
                CouplingLink.mapping_id == mapping_id, CouplingLink.record_id.in_(ids)
            )
            query = query.where(Coupling.id.in_(chosen))
        removed = int(session.execute(query).rowcount)  # type: ignore[attr-defined]
        jobs.add_counts(session, job.id, Counter(uncoupled=removed))
        jobs.finish_job(session, job.id)
    return removed


def _describe_link(
    ctx: SyncContext, mapping: CompiledMapping, row: Coupling, role: Role, record: Record
) -> None:
    link = couplings.link_of(row, role)
    link.connection = ctx.connection_name(role)
    link.entity = mapping.entity(role)
    key = ctx.connector(role).entity(mapping.entity(role)).natural_key
    link.natural_key = couplings.key_text(record.values.get(key)) if key else None


class _Matcher:
    """Finds the ``target`` role's record matching a ``source`` role record."""

    def __init__(self, ctx: SyncContext, mapping: CompiledMapping, source: Role, target: Role):
        self.mapping = mapping
        self.groups = match_groups(mapping)
        self.direction = to_role(target)
        self.target_role = target
        self.target = ctx.connector(target)
        self.entity = mapping.entity(target)
        self.filter = mapping.spec.filters.get(target)
        self.index: list[dict[tuple[Any, ...], list[str]]] | None = None

    def _name(self, rule: FieldRule) -> str:
        return rule.field(self.target_role) or ""

    def preload(self) -> None:
        if self.target.count(self.entity, self.filter) > PRELOAD_LIMIT:
            return
        fields = sorted({self._name(r) for g in self.groups for r in g})
        self.index = [defaultdict(list) for _ in self.groups]
        feed = self.target.read_changes(self.entity, ChangeQuery(filter=self.filter, fields=fields))
        for page in feed:
            for record in page.records:
                for index, group in zip(self.index, self.groups, strict=True):
                    key = tuple(
                        normalize(record.values.get(self._name(r)), r.spec.case_sensitive)
                        for r in group
                    )
                    index[key].append(record.id)

    def candidates(self, group_no: int, criteria: dict[str, Any]) -> list[str]:
        group = self.groups[group_no]
        if self.index is not None:
            key = tuple(normalize(criteria[self._name(r)], r.spec.case_sensitive) for r in group)
            return self.index[group_no].get(key, [])[:2]
        case_sensitive = all(r.spec.case_sensitive for r in group)
        found = self.target.find(
            self.entity, criteria, case_sensitive=case_sensitive, filter=self.filter, limit=2
        )
        return [r.id for r in found]

    def criteria(self, group_no: int, record: Record) -> dict[str, Any] | None:
        criteria: dict[str, Any] = {}
        for rule in self.groups[group_no]:
            try:
                value = rule.map_value(self.direction, record.values, {})
            except SkippableError:
                return None
            if is_blank(value):
                return None
            criteria[self._name(rule)] = value
        return criteria


def match_couple(
    ctx: SyncContext,
    mapping_name: str,
    *,
    source_ids: Iterable[str] | None = None,
    create_new: bool | None = None,
    report_unmatched: bool = True,
    source_role: Role | None = None,
) -> CouplingResult:
    """Couple uncoupled records of ``source_role`` (the template's first role by default) to
    unique matches of the other role (a coupling job).

    ``report_unmatched=False`` is for a full sync, whose passes then create what stayed
    unmatched: those records are not failures there.
    """
    mapping = ctx.mapping(mapping_name)
    mapping_id = ctx.mapping_id(mapping_name)
    source = source_role or mapping.roles[0]
    target = mapping.other(source)
    matcher = _Matcher(ctx, mapping, source, target)
    through = mapping.spec.couple_through
    if not matcher.groups and through is None:
        raise ConfigError(
            f"mapping {mapping_name} has no field with 'match: true'; "
            "mark the fields to match on in the template"
        )
    create = mapping.spec.create_new_if_no_match if create_new is None else create_new
    create = create and mapping.spec.creates
    result = CouplingResult(mapping_name, None)
    with ctx.db.session() as session:
        result.job_id = jobs.start_job(session, mapping_id, to_role(target), "coupling").id
    if through is None:
        matcher.preload()
    reader = ctx.connector(source)
    entity = mapping.entity(source)
    fields = mapping.fields_of(source)
    key_field = reader.entity(entity).natural_key
    if key_field and key_field not in fields:
        fields.append(key_field)
    if source_ids is None:
        query = ChangeQuery(filter=mapping.spec.filters.get(source), fields=fields)
        pages: Iterable[Sequence[Record]] = (p.records for p in reader.read_changes(entity, query))
    else:
        pages = [reader.get(entity, list(source_ids), fields)]
    unmatched: list[Record] = []
    committed = 0
    with ctx.db.new_session() as session:
        for records in pages:
            known = couplings.by_ids(session, mapping_id, source, [r.id for r in records])
            session.commit()
            fresh = [r for r in records if r.id not in known]
            if through is None:
                options = {r.id: _unique_candidates(matcher, r) for r in fresh}
            else:
                options = _coupled_through(ctx, session, through, source, target, fresh)
            for record in fresh:
                target_id = _first_free(options[record.id], session, mapping_id, target)
                if target_id is None:
                    unmatched.append(record)
                    continue
                row = couplings.new_coupling(mapping_id, **{source: record.id, target: target_id})
                _describe_link(ctx, mapping, row, source, record)
                _describe_link(ctx, mapping, row, target, Record(target_id, {}))
                session.add(row)
                session.flush()
                result.counts["coupled"] += 1
                result.coupled[source].append(record.id)
                result.coupled[target].append(target_id)
            jobs.add_counts(
                session, result.job_id, Counter(coupled=result.counts["coupled"] - committed)
            )
            committed = result.counts["coupled"]
            session.commit()
        result.counts["unmatched"] = len(unmatched)
        if not mapping.spec.creates:  # nothing to create, so nothing left undone: skipped
            result.counts["skipped"] += len(unmatched)
            result.counts["unmatched"] = 0
        elif report_unmatched or create:
            _finish_unmatched(ctx, mapping, mapping_id, session, result, unmatched, create, target)
        jobs.finish_job(session, result.job_id)
        session.commit()
    return result


def match_couple_each_role(
    ctx: SyncContext, mapping_name: str, *, create_new: bool | None = None
) -> CouplingResult:
    """Match-based coupling from each role the mapping reads from (the first role first),
    as one result (``coupled`` keeps the pairs aligned across roles). A role the mapping
    only writes to is matched against, never reported: its extra records are no concern."""
    total = CouplingResult(mapping_name, None)
    mapping = ctx.mapping(mapping_name)
    for role in (r for r in mapping.roles if to_role(mapping.other(r)) in mapping.directions()):
        part = match_couple(ctx, mapping_name, create_new=create_new, source_role=role)
        total.job_id = total.job_id or part.job_id
        total.counts.update(part.counts)
        for each, ids in part.coupled.items():
            total.coupled[each].extend(ids)
    return total


def _coupled_through(
    ctx: SyncContext, session: Any, through: str, source: Role, target: Role, fresh: list[Record]
) -> dict[str, list[str]]:
    """Per record, the ``target`` record mapping ``through`` coupled it to (the same records
    under the same ids; ``couple_through``), or none."""
    ids = [r.id for r in fresh]
    found = couplings.partners(session, ctx.mapping_id(through), source, target, ids)
    return {rid: [found[rid]] if rid in found else [] for rid in ids}


def _unique_candidates(matcher: _Matcher, record: Record) -> list[str]:
    """Per match group in priority order, its one candidate (groups with none or several
    are left out)."""
    unique = []
    for group_no in range(len(matcher.groups)):
        criteria = matcher.criteria(group_no, record)
        if criteria is None:
            continue
        found = matcher.candidates(group_no, criteria)
        if len(found) == 1:
            unique.append(found[0])
    return unique


def _first_free(candidates: list[str], session: Any, mapping_id: int, role: Role) -> str | None:
    """The first candidate not coupled yet."""
    for candidate in candidates:
        if not couplings.by_ids(session, mapping_id, role, [candidate]):
            return candidate
    return None


def _finish_unmatched(
    ctx: SyncContext,
    mapping: CompiledMapping,
    mapping_id: int,
    session: Any,
    result: CouplingResult,
    unmatched: list[Record],
    create: bool,
    target: Role,
) -> None:
    assert result.job_id is not None
    if not unmatched:
        return
    if create:
        processor = PageProcessor(
            ctx,
            mapping,
            mapping_id,
            to_role(target),
            session,
            result.job_id,
            force=False,
            create_uncoupled=True,
        )
        for start in range(0, len(unmatched), 1000):
            processor.process(unmatched[start : start + 1000], ())
        result.counts.update(processor.counts)
        return
    result.counts["failed"] += len(unmatched)
    jobs.add_counts(session, result.job_id, Counter(failed=len(unmatched)))
    jobs.add_error(
        session,
        result.job_id,
        mapping_id,
        f"Failed to couple {len(unmatched)} record(s), because no unique uncoupled matching "
        f"{mapping.entity(target)} record was found with the matching criteria "
        "(no criteria value, no match, several matches, or the match is already coupled).",
        detail=", ".join(r.id for r in unmatched[:50]),
    )
