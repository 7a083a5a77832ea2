"""Full synchronization of an integration: the mappings as a dependency DAG.

Per mapping a recommendation (Microsoft §1.11): nothing on either side -> nothing to do; data
on one side only -> full sync; data on both -> couple by match (from each role in turn), then a
full sync of what is coupled. Records that stayed unmatched are reported in one aggregate error
per role and counted failed -- created only where the mapping sets ``create_new_if_no_match``
("Create New If Unable to Find a Match"), since creating them is how duplicates are made when
both systems hold the same customers under slightly different names. ``initial_sync`` on a
mapping overrides the recommendation. A mapping starts when everything it depends on has
finished; a mapping whose dependency failed outright is held.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

from accord.errors import AccordError
from accord.sync.context import SyncContext
from accord.sync.couple import CouplingResult, match_couple_each_role
from accord.sync.matching import match_groups
from accord.sync.passes import PassOptions, PassResult, reset_watermarks, run_pass
from accord.sync.plan import dependency_order

Recommendation = Literal["full", "couple", "none"]


@dataclass
class MappingRun:
    """One mapping's part in a full sync."""

    mapping: str
    recommendation: Recommendation
    status: str = "waiting"
    coupling: CouplingResult | None = None
    passes: list[PassResult] = field(default_factory=list)
    message: str | None = None


def recommend(ctx: SyncContext, mapping_name: str) -> Recommendation:
    """What a first synchronization of this mapping should do."""
    mapping = ctx.mapping(mapping_name)
    spec = mapping.spec
    if spec.initial_sync != "auto":
        return spec.initial_sync
    with ThreadPoolExecutor(len(mapping.roles)) as pool:  # both sides at once
        counts = list(
            pool.map(
                lambda role: ctx.connector(role).count(spec.entity(role), spec.filters.get(role)),
                mapping.roles,
            )
        )
    if not any(counts):
        return "none"
    if all(counts) and match_groups(mapping):
        return "couple"
    return "full"


def full_sync(
    ctx: SyncContext, mappings: Sequence[str] | None = None, *, create_new: bool | None = None
) -> list[MappingRun]:
    """Run a full synchronization of ``mappings`` (all by default) in dependency order;
    ``create_new`` overrides each mapping's ``create_new_if_no_match``."""
    template = ctx.config.template
    wanted = set(mappings) if mappings else {m.name for m in template.mappings}
    for name in wanted:
        template.mapping(name)
    order = [
        n
        for n in dependency_order({m.name: m.depends_on for m in template.mappings})
        if n in wanted
    ]
    runs: dict[str, MappingRun] = {}
    for name in order:
        spec = ctx.mapping(name).spec
        if not spec.enabled:
            runs[name] = MappingRun(name, "none", "disabled", message="mapping is disabled")
            continue
        blocked = [d for d in spec.depends_on if d in runs and runs[d].status == "failed"]
        if blocked:
            runs[name] = MappingRun(
                name, "full", "held", message=f"held: dependency {', '.join(blocked)} failed"
            )
            continue
        run = MappingRun(name, recommend(ctx, name))
        runs[name] = run
        try:
            _run_mapping(ctx, run, create_new)
        except AccordError as exc:
            run.status = "failed"
            run.message = str(exc)
    return list(runs.values())


def _run_mapping(ctx: SyncContext, run: MappingRun, create_new: bool | None) -> None:
    if run.recommendation == "none":
        run.status = "success"
        run.message = "no records on either side"
        return
    create = prepare(ctx, run, create_new)
    options = PassOptions(kind="full", create_uncoupled=create)
    for direction in ctx.mapping(run.mapping).directions():
        run.passes.append(run_pass(ctx, run.mapping, direction, options))
    failed = any(p.status == "failed" for p in run.passes)
    errors = any(p.status == "error" for p in run.passes)
    if run.coupling is not None and run.coupling.counts["failed"]:
        errors = True
    run.status = "failed" if failed else ("error" if errors else "success")


def prepare(ctx: SyncContext, run: MappingRun, create_new: bool | None) -> bool | None:
    """What a full sync of a mapping does before its passes: forget the watermarks and, where
    both sides hold records, couple by match. Returns whether the passes create what no
    match coupled (None: the mapping's default)."""
    with ctx.db.session() as session:
        reset_watermarks(session, ctx.mapping_id(run.mapping))
    create: bool | None = None
    if run.recommendation == "couple":
        create = ctx.mapping(run.mapping).spec.create_new_if_no_match
        if create_new is not None:
            create = create_new
        run.coupling = match_couple_each_role(ctx, run.mapping, create_new=create)
        unmatched = run.coupling.counts["unmatched"]
        if unmatched and not create:
            run.message = (
                f"{unmatched} record(s) had no unique match and were not created; "
                "see `accord errors`, couple them by hand or set create_new_if_no_match"
            )
    return create


def incremental_sync(
    ctx: SyncContext, mappings: Sequence[str] | None = None, *, dry_run: bool = False
) -> list[PassResult]:
    """One incremental pass of each mapping and direction, in dependency order."""
    template = ctx.config.template
    order = dependency_order({m.name: m.depends_on for m in template.mappings})
    if mappings:
        for name in mappings:
            template.mapping(name)
        order = [n for n in order if n in set(mappings)]
    results: list[PassResult] = []
    for name in order:
        mapping = ctx.mapping(name)
        if not mapping.spec.enabled:
            continue
        for direction in mapping.directions():
            results.append(
                run_pass(ctx, name, direction, PassOptions(kind="incremental", dry_run=dry_run))
            )
    return results
