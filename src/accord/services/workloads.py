"""Workload handlers over the sync operations, and the executor a hub should use.

Each handler runs one workload kind with the same service the CLI calls, and returns a
small JSON summary (the jobs it ran, their status and counts) stored as the result.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from accord.errors import TransientError
from accord.mapping.fields import PassDirection
from accord.runtime.executor import Handler, LocalExecutor, Submitted
from accord.runtime.workloads import (
    Couple,
    DrainInbox,
    Reconcile,
    RenewSubscriptions,
    RunDocuments,
    SyncPart,
    SyncPass,
    SyncRecords,
    Workload,
    new_key,
)
from accord.services import documents, inbox, operations
from accord.services.hub import Hub
from accord.sync.full import MappingRun, prepare, recommend
from accord.sync.passes import PassOptions, PassResult, partition_full_pass, run_pass


def _pass(result: PassResult) -> dict[str, Any]:
    return {
        "mapping": result.mapping,
        "direction": result.direction,
        "job_id": result.job_id,
        "status": result.status,
        "counts": {k: v for k, v in result.counts.items() if v},
        "message": result.message,
    }


def _failed(passes: list[dict[str, Any]]) -> str | None:
    bad = [
        f"{p['mapping']} {p['direction']}: {p['message'] or p['status']}"
        for p in passes
        if p["status"] == "failed"
    ]
    return "; ".join(bad) or None


def handlers(hub: Hub) -> dict[str, Handler]:
    """A handler per workload kind, bound to ``hub``."""

    def sync_pass(w: Workload) -> dict[str, Any]:
        assert isinstance(w, SyncPass)
        with hub.kept_context(w.integration) as ctx:
            mapping = ctx.mapping(w.mapping)
            directions = [w.direction] if w.direction else mapping.directions()
            passes = [
                _pass(run_pass(ctx, w.mapping, d, PassOptions(kind="incremental")))
                for d in directions
            ]
        return _checked({"passes": passes})

    def sync_records(w: Workload) -> dict[str, Any]:
        assert isinstance(w, SyncRecords)
        result = operations.sync_now(
            hub, w.mapping, w.record_ids, w.direction, integration=w.integration
        )
        return _checked({"passes": [_pass(result)]})

    def sync_part(w: Workload) -> dict[str, Any]:
        assert isinstance(w, SyncPart)
        options = PassOptions(
            kind="records", record_ids=w.record_ids, create_uncoupled=w.create_new, part=w.part
        )
        with hub.kept_context(w.integration) as ctx:
            result = run_pass(ctx, w.mapping, w.direction, options)
        return _checked({"passes": [_pass(result)]})

    def couple(w: Workload) -> dict[str, Any]:
        assert isinstance(w, Couple)
        if w.records:
            operations.couple_records(hub, w.mapping, w.records, integration=w.integration)
            return {"coupled": dict(w.records)}
        result, passes = operations.couple_by_match(
            hub,
            w.mapping,
            create_new=w.create_new,
            sync_after=w.sync_after,
            integration=w.integration,
        )
        return _checked({"counts": dict(result.counts), "passes": [_pass(p) for p in passes]})

    def reconcile(w: Workload) -> dict[str, Any]:
        assert isinstance(w, Reconcile)
        runs = operations.sync_full(hub, w.mappings or None, integration=w.integration)
        passes = [_pass(p) for run in runs for p in run.passes]
        summary = {
            "mappings": {r.mapping: {"status": r.status, "message": r.message} for r in runs},
            "passes": passes,
        }
        return _checked(summary)

    def drain_inbox(w: Workload) -> dict[str, Any]:
        assert isinstance(w, DrainInbox)
        drained = inbox.drain(hub)
        return _checked({"changes": drained.changes, "passes": [_pass(p) for p in drained.passes]})

    def renew_subscriptions(w: Workload) -> dict[str, Any]:
        assert isinstance(w, RenewSubscriptions)
        counts = inbox.renew_due(hub, timedelta(seconds=w.within_seconds))
        if counts["failed"]:
            raise TransientError(f"{counts['failed']} subscription renewal(s) failed")
        return {"renewed": counts["renewed"]}

    def run_documents_now(w: Workload) -> dict[str, Any]:
        assert isinstance(w, RunDocuments)
        with hub.kept_context(w.integration) as ctx:
            run, followed = documents.transfer_and_follow(ctx, w.mapping)
        summary: dict[str, Any] = {"documents": dict(run.counts), "job_id": run.job_id}
        if followed is not None:  # what became of the transferred ones
            summary["status"] = dict(followed.counts)
        return summary

    return {
        "run_documents": run_documents_now,
        "sync_pass": sync_pass,
        "sync_records": sync_records,
        "sync_part": sync_part,
        "couple": couple,
        "reconcile": reconcile,
        "drain_inbox": drain_inbox,
        "renew_subscriptions": renew_subscriptions,
    }


def _checked(summary: dict[str, Any]) -> dict[str, Any]:
    """A summary whose passes all ran; a failed pass fails the workload with its reason."""
    reason = _failed(summary.get("passes", []))
    if reason:
        raise TransientError(reason)
    return summary


def local_executor(hub: Hub, *, background: bool = False, attempts: int = 3) -> LocalExecutor:
    """The embedded executor: workloads run in this process."""
    return LocalExecutor(hub.db, handlers(hub), background=background, attempts=attempts)


PART_SIZE = 100
"""Source records per part of a split full sync (one read and one write batch each)."""


def submit_full_parts(
    hub: Hub,
    submit: Callable[[Workload], Submitted],
    mapping: str,
    direction: PassDirection,
    *,
    part_size: int = PART_SIZE,
    create_new: bool | None = None,
    integration: str | None = None,
) -> list[Submitted]:
    """A full sync of one direction of ``mapping`` as parts any number of workers share.

    Here: the recommendation, the watermarks reset, match-based coupling where both sides
    hold records, and one read of the source's ids; then one ``sync_part`` workload per
    ``part_size`` records. A mapping that syncs both ways needs the second direction
    submitted after the first's parts finished (as a full sync runs them one after the
    other). Creates cannot happen twice: each record's create intent is unique (ADR 0007)."""
    with hub.context(integration) as ctx:
        run = MappingRun(mapping, recommend(ctx, mapping))
        if run.recommendation == "none":
            return []
        create = prepare(ctx, run, create_new)
        parts = partition_full_pass(ctx, mapping, direction, part_size)
        name = ctx.config.name
    batch = new_key()[:10]
    return [
        submit(
            SyncPart(
                key=f"part:{name}:{mapping}:{direction}:{batch}.{n}",
                integration=name,
                mapping=mapping,
                direction=direction,
                record_ids=ids,
                part=f"{batch}.{n}",
                create_new=True if create is None else create,
            )
        )
        for n, ids in enumerate(parts)
    ]
