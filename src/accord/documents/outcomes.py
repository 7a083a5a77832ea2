"""What a document run reports (one outcome per document) and what it reads first: the
document mapping by name, its settings' values, and whether its trigger is automatic."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from accord.config.documents import DocumentMappingSpec
from accord.connectors.base import Record, WriteResult
from accord.documents.values import Scope, roles
from accord.errors import ConfigError
from accord.state import documents as state
from accord.state.couplings import link_of
from accord.state.models import Coupling
from accord.sync.context import SyncContext


@dataclass(slots=True)
class Outcome:
    """What became of one source document in a run."""

    source_id: str
    identity: str
    status: str
    """``created``, ``completed`` (a stopped transfer finished), ``already`` (transferred
    before), ``updated`` (transferred before; a write-back after a pass was due, or a status
    pass posted or wrote back), ``converted`` (an action made it into another mapping's
    document, coupled there), ``waiting`` (an action waits for a related record), ``held``,
    ``failed`` (stopped by an error; the next run resumes it) or ``not_found`` /
    ``not_triggered`` (asked for on demand); a status pass also reports ``unchanged`` or
    ``finished`` (its status is no longer followed)."""
    target_id: str | None = None
    messages: list[str] = field(default_factory=list)


@dataclass
class DocumentRun:
    mapping: str
    job_id: str | None
    outcomes: list[Outcome] = field(default_factory=list)
    kind: str = "transfer"
    """``transfer`` (the engine's run) or ``status`` (the status pass after transfers)."""

    @property
    def counts(self) -> Counter[str]:
        return Counter(o.status for o in self.outcomes)

    def job_counts(self) -> Counter[str]:
        """The outcomes as the job log's counters."""
        names = {
            "created": "inserted",
            "completed": "modified",
            "already": "unchanged",
            "updated": "modified",  # a status pass posted or wrote back
            "finished": "modified",
            "unchanged": "unchanged",
            "converted": "modified",
        }
        return Counter(
            names.get(o.status, "failed" if o.status in ("held", "failed") else "skipped")
            for o in self.outcomes
        )

    @property
    def ok(self) -> bool:
        failed = ("held", "failed", "not_found", "not_triggered")
        return not any(o.status in failed for o in self.outcomes)


def document_spec(ctx: SyncContext, name: str) -> DocumentMappingSpec:
    for doc in ctx.config.template.documents:
        if doc.name == name:
            return doc
    valid = ", ".join(d.name for d in ctx.config.template.documents) or "(none)"
    raise ConfigError(f"no document mapping {name!r}; valid: {valid}")


def settings_for(ctx: SyncContext, doc: DocumentMappingSpec, mapping_id: int) -> dict[str, Any]:
    """The mapping's settings: the template's defaults, then the integration's values."""
    with ctx.db.session() as session:
        given = state.settings_of(session, mapping_id)
    return {name: s.default for name, s in doc.settings.items()} | given


def is_automatic(doc: DocumentMappingSpec, settings: dict[str, Any]) -> bool:
    automatic = doc.trigger.automatic
    if isinstance(automatic, str):
        return bool(Scope(settings).render(automatic))
    return automatic


class MappingWork:
    """What a run over one document mapping starts from: its roles, its state row, its
    settings and (once started) its job."""

    def __init__(self, ctx: SyncContext, doc: DocumentMappingSpec) -> None:
        self.ctx, self.doc = ctx, doc
        self.source, self.target = roles(doc)
        with ctx.db.session() as session:
            self.mapping_id = state.mapping_row_id(session, ctx.config.name, doc.name)
        self.settings = settings_for(ctx, doc, self.mapping_id)
        self.job_id: str | None = None

    def created(self, session: Session, row: Coupling, result: WriteResult, **more: Any) -> None:
        """What the target made for ``row``, in the caller's transaction: the new id on the
        target's link and the ``created`` event (with the fields the status pass records)."""
        assert result.id is not None
        link_of(row, self.target).record_id = result.id
        detail = created_detail(self.doc, self.target, result.id, result.record, **more)
        state.add_event(
            session, self.mapping_id, row.id, "created", role=self.target, detail=detail,
            job_id=self.job_id,
        )  # fmt: skip


def plain(value: Any) -> Any:
    """A value as a JSON document keeps it (dates, decimals and the like as text)."""
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def created_detail(
    doc: DocumentMappingSpec, role: str, made_id: str, record: Record | None, **more: Any
) -> dict[str, Any]:
    """The ``created`` event's detail: the new id and the fields the status pass records
    (``events.record``) as the target answered them, so a document the target removes
    before its first status pass (an order shipped and invoiced at once) is still known by
    them (its number finds its posted documents)."""
    names = doc.events.record.get(role, [])
    detail: dict[str, Any] = {"id": made_id, **more}
    if names and record is not None:
        detail["values"] = {n: plain(record.values.get(n)) for n in names}
    return detail
