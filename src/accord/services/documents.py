"""Document use cases shared by the CLI and the API: run a document mapping (on demand or
automatically), give its settings values, retry held documents, read a document's history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accord.config.dependencies import dependency_order
from accord.config.documents import DocumentMappingSpec
from accord.documents.engine import run_documents
from accord.documents.outcomes import DocumentRun, is_automatic, settings_for
from accord.documents.status import follows_status, run_status
from accord.documents.values import roles
from accord.errors import ConfigError
from accord.services.hub import Hub
from accord.state import documents as state
from accord.state.store import IntegrationConfig, load_integration
from accord.sync.context import SyncContext

TRANSFERRED = ("created", "completed", "already", "updated", "converted")
"""A transfer's outcomes whose document is coupled: the status pass follows it."""


def _spec(config: IntegrationConfig, name: str) -> DocumentMappingSpec:
    for doc in config.template.documents:
        if doc.name == name:
            return doc
    valid = ", ".join(d.name for d in config.template.documents) or "(none)"
    raise ConfigError(f"no document mapping {name!r}; valid: {valid}")


def default_mapping(hub: Hub, entity: str, integration: str | None = None) -> str:
    """The document mapping whose source documents are ``entity`` (``salesorders``): what
    ``accord orders`` runs when no ``--mapping`` is given."""
    with hub.db.session() as session:
        config = load_integration(session, integration)
    found = [
        d.name
        for d in config.template.documents
        if any(d.entity(r) == entity for r in d.per_role if r != d.target)
    ]
    if len(found) != 1:
        raise ConfigError(
            f"{len(found)} document mappings take {entity}; name one with --mapping"
            + (f" ({', '.join(found)})" if found else "")
        )
    return found[0]


def run(
    hub: Hub,
    mapping: str,
    identities: Sequence[str] = (),
    *,
    integration: str | None = None,
    automatic: bool | None = None,
) -> DocumentRun:
    """Run one document mapping: the documents named by ``identities``, else every
    triggered one when the trigger is automatic (stopped transfers resume first)."""
    with hub.context(integration) as ctx:
        return run_documents(ctx, mapping, identities, automatic=automatic)


def transfer_and_follow(
    ctx: SyncContext,
    mapping: str,
    identities: Sequence[str] = (),
    *,
    automatic: bool | None = None,
) -> tuple[DocumentRun, DocumentRun | None]:
    """Run one document mapping, then its status pass (its ``after: pass`` write-backs: an
    invoice paid since set Paid; posts; fields back) over the transferred documents, or
    only over those named and transferred now; None when there was nothing to follow."""
    transfer = run_documents(ctx, mapping, identities, automatic=automatic)
    taken = [o.identity for o in transfer.outcomes if o.status in TRANSFERRED]
    if identities and not taken:
        return transfer, None
    followed = run_status(ctx, mapping, taken if identities else ())
    followed.outcomes = [o for o in followed.outcomes if o.status != "not_found"]
    return transfer, (followed if followed.job_id is not None else None)


def run_and_follow(
    hub: Hub,
    mapping: str,
    identities: Sequence[str] = (),
    *,
    integration: str | None = None,
    automatic: bool | None = None,
) -> list[DocumentRun]:
    """:func:`run`, then the mapping's status pass (:func:`transfer_and_follow`): both runs."""
    with hub.context(integration) as ctx:
        transfer, followed = transfer_and_follow(ctx, mapping, identities, automatic=automatic)
    return [transfer] if followed is None else [transfer, followed]


def run_automatic(hub: Hub, integration: str | None = None) -> list[DocumentRun]:
    """Each enabled document mapping whose trigger is automatic (a sync's documents), each
    followed by its status pass; the status pass of the others that follow their documents."""
    runs: list[DocumentRun] = []
    with hub.context(integration) as ctx:
        for doc in run_order(ctx.config.template.documents):
            if not doc.enabled or doc.mode != "transfer":
                continue
            with ctx.db.session() as session:
                mid = state.mapping_row_id(session, ctx.config.name, doc.name)
            if is_automatic(doc, settings_for(ctx, doc, mid)):
                transfer, followed = transfer_and_follow(ctx, doc.name)
                runs.append(transfer)
            elif follows_status(doc):
                found = run_status(ctx, doc.name)
                followed = found if found.job_id is not None else None
            else:
                continue
            if followed is not None:
                runs.append(followed)
    return runs


def run_order(docs: Sequence[DocumentMappingSpec]) -> list[DocumentMappingSpec]:
    """The template's document mappings in their order, except that a mapping whose action
    ``couples_to`` another runs before it (a won quote makes the BC order before order
    intake would make its own), through any chain of such makers."""
    by_name = {d.name: d for d in docs}
    before: dict[str, list[str]] = {d.name: [] for d in docs}
    for doc in docs:
        for action in doc.actions:
            if action.couples_to in before:
                before[action.couples_to].append(doc.name)
    return [by_name[name] for name in dependency_order(before)]


def status(
    hub: Hub, mapping: str, identities: Sequence[str] = (), *, integration: str | None = None
) -> DocumentRun:
    """The status pass of one document mapping: its transferred documents (or those named)
    told what happened to them in the target (posts, write-backs, fulfilment)."""
    with hub.context(integration) as ctx:
        return run_status(ctx, mapping, identities)


def retry_held(
    hub: Hub, mapping: str | None = None, *, integration: str | None = None
) -> list[DocumentRun]:
    """Run the held and stopped documents of every document mapping (or ``mapping``) once
    more: what ``accord retry`` does for documents after the cause was fixed."""
    with hub.db.session() as session:
        config = load_integration(session, integration)
        names = [d.name for d in config.template.documents if d.enabled]
        if mapping is not None:
            names = [n for n in names if n == mapping]
        waiting = []
        for name in names:
            mid = state.mapping_row_id(session, config.name, name)
            source, _ = roles(_spec(config, name))
            if state.unfinished(session, mid, source, held=True, limit=1):
                waiting.append(name)
    if not waiting:
        return []
    with hub.context(integration) as ctx:
        return [run_documents(ctx, name, automatic=False, held=True) for name in waiting]


def set_setting(
    hub: Hub, mapping: str, name: str, value: Any, *, integration: str | None = None
) -> dict[str, Any]:
    """Give a document mapping's setting a value; the settings as they are now."""
    with hub.db.session() as session:
        config = load_integration(session, integration)
        doc = _spec(config, mapping)
        if name not in doc.settings:
            valid = ", ".join(sorted(doc.settings)) or "(none)"
            raise ConfigError(f"{mapping} has no setting {name!r}; valid: {valid}")
        mid = state.mapping_row_id(session, config.name, mapping)
        state.set_setting(session, mid, name, value)
        given = state.settings_of(session, mid)
    return {key: s.default for key, s in doc.settings.items()} | given


@dataclass
class HistoryEntry:
    name: str
    role: str | None
    source: str
    reason: str | None
    detail: dict[str, Any]
    occurred_at: datetime


@dataclass
class DocumentHistory:
    state: str
    held: bool
    records: dict[str, str | None]
    """Role -> the document's id there."""
    events: list[HistoryEntry]


def history(
    hub: Hub, mapping: str, key: str, *, integration: str | None = None
) -> list[DocumentHistory]:
    """The history of the documents whose identity or id is ``key``."""
    with hub.db.session() as session:
        config = load_integration(session, integration)
        _spec(config, mapping)
        mid = state.mapping_row_id(session, config.name, mapping)
        return [
            DocumentHistory(
                coupling.state,
                bool(coupling.skipped),
                {role: link.record_id for role, link in sorted(coupling.links.items())},
                [
                    HistoryEntry(e.name, e.role, e.source, e.reason, dict(e.detail), e.occurred_at)
                    for e in events
                ],
            )
            for coupling, events in state.history(session, mid, key)
        ]


@dataclass
class BusinessEvent:
    """A business event a document raised (``order.shipped``), as listeners read it."""

    id: int
    event: str
    mapping: str
    identity: str
    records: dict[str, str | None]
    values: dict[str, Any]
    occurred_at: datetime


def business_events(
    hub: Hub,
    mapping: str | None = None,
    *,
    after: int = 0,
    name: str | None = None,
    limit: int = 500,
    integration: str | None = None,
) -> list[BusinessEvent]:
    """The business events raised by the integration's documents (or one mapping's) after
    event id ``after``, oldest first."""
    with hub.db.session() as session:
        config = load_integration(session, integration)
        names = [mapping] if mapping else [d.name for d in config.template.documents]
        if mapping:
            _spec(config, mapping)
        ids = {state.mapping_row_id(session, config.name, n): n for n in names}
        return [
            BusinessEvent(
                e.id,
                str(e.detail.get("event") or e.name.removeprefix("event:")),
                ids[e.mapping_id],
                str(e.detail.get("identity") or ""),
                dict(e.detail.get("records") or {}),
                dict(e.detail.get("values") or {}),
                e.occurred_at,
            )
            for e in state.business_events(session, ids, after=after, name=name, limit=limit)
        ]
