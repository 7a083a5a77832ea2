"""Coupling: manual couple / uncouple and match-based coupling by prioritized field groups.

Match-based coupling follows Microsoft's engine (§1.10): for each uncoupled local record try
the match groups in ascending priority; a group matches when exactly one remote record has
equal values (text compared case-insensitively unless the field says otherwise, blank values
never used) and that record is not coupled yet. Unmatched records are created on the remote
side when the mapping says so, else reported in one aggregate error.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from accord.connectors.base import ChangeQuery, Record
from accord.errors import ConfigError, SkippableError
from accord.mapping.fields import CompiledMapping, FieldRule, Side, is_blank
from accord.mapping.values import canonical
from accord.state import couplings, jobs
from accord.state.models import Coupling
from accord.sync.context import SyncContext
from accord.sync.pages import PageProcessor

PRELOAD_LIMIT = 5000
"""Remote tables up to this size are read once and matched in memory."""


@dataclass
class CouplingResult:
    """What a coupling job did."""

    mapping: str
    job_id: str | None
    counts: Counter[str] = field(default_factory=Counter)
    coupled_local_ids: list[str] = field(default_factory=list)
    coupled_remote_ids: list[str] = field(default_factory=list)
    message: str | None = None


def couple(ctx: SyncContext, mapping_name: str, local_id: str, remote_id: str) -> None:
    """Couple two records by hand; refuses ids already coupled to something else."""
    mapping_id = ctx.mapping_id(mapping_name)
    mapping = ctx.mapping(mapping_name)
    local = ctx.connector("local").get(mapping.entity("local"), [local_id])
    remote = ctx.connector("remote").get(mapping.entity("remote"), [remote_id])
    if not local:
        raise ConfigError(f"{mapping.entity('local')} record {local_id} not found")
    if not remote:
        raise ConfigError(f"{mapping.entity('remote')} record {remote_id} not found")
    with ctx.db.session() as session:
        row = Coupling(
            mapping_id=mapping_id,
            local_id=local_id,
            remote_id=remote_id,
            local_key=_natural_key(ctx, mapping, "local", local[0]),
            remote_key=_natural_key(ctx, mapping, "remote", remote[0]),
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            raise ConfigError(
                f"cannot couple: {local_id} or {remote_id} is already coupled in {mapping_name}; "
                "uncouple it first"
            ) from None


def uncouple(
    ctx: SyncContext, mapping_name: str, ids: Sequence[str] = (), *, everything: bool = False
) -> int:
    """Remove couplings (by either side's id, or all of a mapping); data stays untouched."""
    mapping_id = ctx.mapping_id(mapping_name)
    with ctx.db.session() as session:
        job = jobs.start_job(session, mapping_id, "both", "uncoupling")
        query = delete(Coupling).where(Coupling.mapping_id == mapping_id)
        if not everything:
            query = query.where(Coupling.local_id.in_(ids) | Coupling.remote_id.in_(ids))
        removed = int(session.execute(query).rowcount)  # type: ignore[attr-defined]
        jobs.add_counts(session, job.id, Counter(uncoupled=removed))
        jobs.finish_job(session, job.id)
    return removed


def _natural_key(
    ctx: SyncContext, mapping: CompiledMapping, side: Side, record: Record
) -> str | None:
    key = ctx.connector(side).entity(mapping.entity(side)).natural_key
    return couplings.key_text(record.values.get(key)) if key else None


def match_groups(mapping: CompiledMapping) -> list[list[FieldRule]]:
    """Match fields grouped by priority, highest (lowest number) first."""
    groups: dict[int, list[FieldRule]] = defaultdict(list)
    for rule in mapping.rules:
        if rule.spec.match and rule.spec.enabled and rule.spec.local and rule.spec.remote:
            groups[rule.spec.match_priority].append(rule)
    return [groups[p] for p in sorted(groups)]


def _fold(value: Any, case_sensitive: bool) -> Any:
    value = canonical(value)
    return value if case_sensitive or not isinstance(value, str) else value.casefold()


class _Matcher:
    def __init__(self, ctx: SyncContext, mapping: CompiledMapping):
        self.ctx = ctx
        self.mapping = mapping
        self.groups = match_groups(mapping)
        self.remote = ctx.connector("remote")
        self.entity = mapping.entity("remote")
        self.index: list[dict[tuple[Any, ...], list[str]]] | None = None

    def preload(self) -> None:
        if self.remote.count(self.entity, self.mapping.spec.remote_filter) > PRELOAD_LIMIT:
            return
        fields = sorted({r.spec.remote for g in self.groups for r in g if r.spec.remote})
        self.index = [defaultdict(list) for _ in self.groups]
        feed = self.remote.read_changes(
            self.entity, ChangeQuery(filter=self.mapping.spec.remote_filter, fields=fields)
        )
        for page in feed:
            for record in page.records:
                for index, group in zip(self.index, self.groups, strict=True):
                    key = tuple(
                        _fold(record.values.get(r.spec.remote or ""), r.spec.case_sensitive)
                        for r in group
                    )
                    index[key].append(record.id)

    def candidates(self, group_no: int, criteria: dict[str, Any]) -> list[str]:
        group = self.groups[group_no]
        if self.index is not None:
            key = tuple(
                _fold(criteria[r.spec.remote], r.spec.case_sensitive)  # type: ignore[index]
                for r in group
            )
            return self.index[group_no].get(key, [])[:2]
        case_sensitive = all(r.spec.case_sensitive for r in group)
        found = self.remote.find(
            self.entity,
            criteria,
            case_sensitive=case_sensitive,
            filter=self.mapping.spec.remote_filter,
            limit=2,
        )
        return [r.id for r in found]

    def criteria(self, group_no: int, record: Record) -> dict[str, Any] | None:
        criteria: dict[str, Any] = {}
        for rule in self.groups[group_no]:
            try:
                value = rule.map_value("to_remote", record.values, {})
            except SkippableError:
                return None
            if is_blank(value):
                return None
            criteria[rule.spec.remote] = value  # type: ignore[index]
        return criteria


def match_couple(
    ctx: SyncContext,
    mapping_name: str,
    *,
    local_ids: Iterable[str] | None = None,
    create_new: bool | None = None,
    report_unmatched: bool = True,
) -> CouplingResult:
    """Couple uncoupled local records to unique remote matches (a coupling job).

    ``report_unmatched=False`` is for a full sync, whose passes then create what stayed
    unmatched: those records are not failures there.
    """
    mapping = ctx.mapping(mapping_name)
    mapping_id = ctx.mapping_id(mapping_name)
    matcher = _Matcher(ctx, mapping)
    if not matcher.groups:
        raise ConfigError(
            f"mapping {mapping_name} has no field with 'match: true'; "
            "mark the fields to match on in the template"
        )
    create = mapping.spec.create_new_if_no_match if create_new is None else create_new
    result = CouplingResult(mapping_name, None)
    with ctx.db.session() as session:
        result.job_id = jobs.start_job(session, mapping_id, "to_remote", "coupling").id
    matcher.preload()
    local = ctx.connector("local")
    fields = mapping.fields_of("local")
    key_field = local.entity(mapping.entity("local")).natural_key
    if key_field and key_field not in fields:
        fields.append(key_field)
    if local_ids is None:
        pages: Iterable[Sequence[Record]] = (
            p.records
            for p in local.read_changes(
                mapping.entity("local"),
                ChangeQuery(filter=mapping.spec.local_filter, fields=fields),
            )
        )
    else:
        pages = [local.get(mapping.entity("local"), list(local_ids), fields)]
    unmatched: list[Record] = []
    committed = 0
    with ctx.db.new_session() as session:
        for records in pages:
            known = couplings.by_ids(session, mapping_id, "local", [r.id for r in records])
            for record in records:
                if record.id in known:
                    continue
                remote_id = _first_match(matcher, record, session, mapping_id)
                if remote_id is None:
                    unmatched.append(record)
                    continue
                session.add(
                    Coupling(
                        mapping_id=mapping_id,
                        local_id=record.id,
                        remote_id=remote_id,
                        local_key=_natural_key(ctx, mapping, "local", record),
                    )
                )
                session.flush()
                result.counts["coupled"] += 1
                result.coupled_local_ids.append(record.id)
                result.coupled_remote_ids.append(remote_id)
            jobs.add_counts(
                session, result.job_id, Counter(coupled=result.counts["coupled"] - committed)
            )
            committed = result.counts["coupled"]
            session.commit()
        result.counts["unmatched"] = len(unmatched)
        if report_unmatched or create:
            _finish_unmatched(ctx, mapping, mapping_id, session, result, unmatched, create)
        jobs.finish_job(session, result.job_id)
        session.commit()
    return result


def _first_match(matcher: _Matcher, record: Record, session: Any, mapping_id: int) -> str | None:
    for group_no in range(len(matcher.groups)):
        criteria = matcher.criteria(group_no, record)
        if criteria is None:
            continue
        found = matcher.candidates(group_no, criteria)
        if len(found) != 1:
            continue
        taken = session.scalar(
            select(Coupling.id).where(
                Coupling.mapping_id == mapping_id, Coupling.remote_id == found[0]
            )
        )
        if taken is None:
            return found[0]
    return None


def _finish_unmatched(
    ctx: SyncContext,
    mapping: CompiledMapping,
    mapping_id: int,
    session: Any,
    result: CouplingResult,
    unmatched: list[Record],
    create: bool,
) -> None:
    assert result.job_id is not None
    if not unmatched:
        return
    if create:
        processor = PageProcessor(
            ctx,
            mapping,
            mapping_id,
            "to_remote",
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
        f"{mapping.entity('remote')} record was found with the matching criteria "
        "(no criteria value, no match, several matches, or the match is already coupled).",
        detail=", ".join(r.id for r in unmatched[:50]),
    )
