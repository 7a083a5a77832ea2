"""Deep insert (``writes: deep_insert``): a document created with all its lines in one
request, which the target applies whole or not at all (Business Central's sales documents).

The guarantees are the header-then-lines ones (ADR 0021) with one step less: the intent and
every planned line are recorded before the write; the target is searched by identity first
(a deep insert made before a crash is found again and its lines matched by position, as
after any crash); the header's id, state ``writing_back`` and the lines' ids (from the
response, matched by position) are recorded together after it. A refused document has
nothing in the target: it is held with the error, naming its line where the error shows
which one, and made again on retry.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from accord.config.documents import DocumentMappingSpec
from accord.connectors.base import DeepInsert, DeepInserter, Record, WriteResult
from accord.documents.lines import record_planned, recorded
from accord.documents.values import PlannedLine, Problem, given, roles
from accord.errors import AccordError, ConfigError
from accord.state.models import Coupling
from accord.sync.context import SyncContext

if TYPE_CHECKING:
    from accord.documents.outcomes import MappingWork

PART = 100
"""Documents deep-inserted and recorded together in a chunk (one ``$batch``): their answers,
which carry every line, are not all held at once."""
Item = tuple[int, dict[str, Any], Sequence[PlannedLine]]
"""A document to make: its coupling id, header values and planned lines."""


class RefusedLines(AccordError):
    """The target refused a document with its lines (nothing of it was written)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def applies(doc: DocumentMappingSpec) -> bool:
    """Whether ``doc`` creates its documents with their lines in one request."""
    return doc.writes == "deep_insert" and doc.lines is not None


def check(ctx: SyncContext, doc: DocumentMappingSpec) -> None:
    """Refuse ``writes: deep_insert`` where the target's connector cannot do it."""
    if doc.writes != "deep_insert":
        return
    target = roles(doc)[1]
    if not isinstance(ctx.connector(target), DeepInserter):
        raise ConfigError(
            f"document mapping {doc.name}: writes deep_insert needs a {target} connector that "
            "creates a document with its lines in one request; this one cannot: use "
            "writes header_then_lines"
        )


def record(ctx: SyncContext, items: Sequence[tuple[int, Sequence[PlannedLine]]]) -> None:
    """The intent of the lines: each recorded at its position before the write."""
    with ctx.db.session() as session:
        record_planned(session, items)


def send(ctx: SyncContext, doc: DocumentMappingSpec, items: Sequence[Item]) -> list[WriteResult]:
    """Create ``items`` in the target with their lines, in batches; one result each."""
    assert doc.lines is not None
    target = roles(doc)[1]
    connector = ctx.connector(target)
    assert isinstance(connector, DeepInserter)
    documents = [
        DeepInsert(
            str(cid),
            given(header),  # blank: the target's default
            [line.values for line in planned],
        )
        for cid, header, planned in items
    ]
    lines = str(doc.lines.per_role[target])
    return connector.deep_insert(doc.entity(target), lines, documents) if documents else []


Made = tuple[int, Sequence[PlannedLine], Sequence[Record]]
"""A document made: its coupling id, planned lines, and the lines the target returned."""


def confirm(session: Session, doc: DocumentMappingSpec, items: Sequence[Made]) -> None:
    """Record the target ids of deep-inserted documents' lines: matched by position, or in
    order where the template names no position field. A line the response leaves out keeps
    no id: it is found by its position when next needed, as after a crash."""
    rows = recorded(session, [cid for cid, _, _ in items])
    for cid, planned, made in items:
        hashes = {line.position: line.hash for line in planned}
        for position, found in _matched(doc, planned, made).items():
            rows[(cid, position)].target_id = found.id
            rows[(cid, position)].content_hash = hashes[position]


def _matched(
    doc: DocumentMappingSpec, planned: Sequence[PlannedLine], made: Sequence[Record]
) -> dict[int, Record]:
    assert doc.lines is not None
    position_field = doc.lines.position.get(roles(doc)[1])
    if position_field:
        by_position = {
            int(r.values[position_field]): r for r in made if r.values.get(position_field)
        }
    else:
        by_position = {line.position: r for line, r in zip(planned, made, strict=False)}
    wanted = {line.position for line in planned}
    return {p: r for p, r in by_position.items() if p in wanted}


def problems(
    doc: DocumentMappingSpec, planned: Sequence[PlannedLine], result: WriteResult
) -> list[Problem]:
    """Why the target refused a document and its lines: per line the error names (by a value
    of the line, an item number say), else one problem for the document."""
    target = roles(doc)[1]
    error = str(result.error)
    named = [line for line in planned if line.kind == "line" and _names(error, line)]
    if named:
        text = f"{target} refused it: {error} (nothing of the document was written)"
        return [Problem(line.label, "line", text) for line in named]
    text = f"{target} refused the {doc.entity(target)} with its lines: {error}"
    return [Problem(None, "lines", text)]


def _names(error: str, line: PlannedLine) -> bool:
    """Whether ``error`` shows one of ``line``'s text values as a whole word."""
    return any(
        isinstance(value, str)
        and len(value) > 1
        and re.search(rf"(?<![\w.]){re.escape(value)}(?![\w])", error) is not None
        for value in line.values.values()
    )


def create_one(
    run: MappingWork, coupling: Coupling, header: dict[str, Any], planned: Sequence[PlannedLine]
) -> str:
    """The one-by-one engine's create: lines recorded, the document and its lines made in
    one request, then the header's id, the lines' ids and the ``created`` event recorded
    together; the target's new id. Raises :class:`RefusedLines` (nothing written) or a
    passing :class:`AccordError`."""
    record(run.ctx, [(coupling.id, planned)])
    [result] = send(run.ctx, run.doc, [(coupling.id, header, planned)])
    entity = run.doc.entity(run.target)
    if not result.ok or result.id is None:
        if result.retryable:
            raise AccordError(f"{run.target} refused the {entity}: {result.error}")
        raise RefusedLines(problems(run.doc, planned, result))
    with run.ctx.db.session() as session:
        confirm(session, run.doc, [(coupling.id, planned, result.lines)])
        row = session.get(Coupling, coupling.id)
        assert row is not None
        run.created(session, row, result, lines=len(planned))
    return result.id
