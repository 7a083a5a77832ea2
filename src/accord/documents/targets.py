"""What a document run reads before writing and how it finds the target's header: the
values of header and lines (with lookups) and the problems that hold a document before
its first write; the header found again by its identity field, else created."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from accord.config.documents import DocumentMappingSpec
from accord.connectors.base import Record, WriteOp
from accord.documents import deep_insert, dependencies, lines
from accord.documents.steps import StepWork
from accord.documents.values import Lookups, Problem, Scope, field_values, given, plan_lines
from accord.errors import AccordError
from accord.mapping.fields import is_blank
from accord.state.couplings import owners
from accord.state.models import Coupling
from accord.sync.context import SyncContext


class Refused(AccordError):
    """The target refused the document's header for what it holds (not a passing error)."""


class TargetWork(StepWork):
    """A document run's reads and its header write."""

    def __init__(self, ctx: SyncContext, doc: DocumentMappingSpec) -> None:
        super().__init__(ctx, doc)
        self.identity_source = doc.identity[self.source]
        self.identity_target = doc.identity[self.target]

    def prepare(
        self,
        record: Record,
        coupling: Coupling | None,
        source_lines: Sequence[Mapping[str, Any]] | None = None,
        found: Lookups | None = None,
    ) -> tuple[list[Problem], dict[str, Any], list[Any]]:
        """Everything the target needs, read and looked up before anything is written
        (``source_lines`` and ``found``: already read and looked up for a chunk)."""
        doc = self.doc
        if source_lines is None:
            source_lines = (
                [r.values for r in lines.read_lines(self.ctx, doc, self.source, record.id)]
                if doc.lines
                else []
            )
        if found is None:
            found = dependencies.resolve_for(self.ctx, doc, [record.values], source_lines)
        scope = Scope(self.settings, source=record.values)
        header, problems = field_values(doc, doc.header, record.values, found, scope)
        header[self.identity_target] = record.values.get(self.identity_source)
        problems += self.identity_problems(record)
        planned: list[Any] = []
        if doc.lines:
            positions = (
                lines.recorded_positions(self.ctx, coupling.id)
                if coupling is not None and coupling.state != "rebuilding"
                else {}
            )
            info = self.ctx.connector(self.target).entity(str(doc.lines.per_role[self.target]))
            planned, more = plan_lines(
                doc,
                source_lines,
                found,
                scope,
                lambda name: info.fields[name].max_length if name in info.fields else None,
                positions,
            )
            problems += more
        return problems, header, planned

    def identity_problems(self, record: Record) -> list[Problem]:
        """An identity that cannot find the target's document again: blank, or longer than
        the target field keeps (where the target describes its length)."""
        value = record.values.get(self.identity_source)
        where = f"{self.target}.{self.identity_target}"
        problem = None if not is_blank(value) else f"is blank; {where} needs it"
        info = self.ctx.connector(self.target).entity(self.doc.entity(self.target))
        limit = getattr(info.fields.get(self.identity_target), "max_length", None)
        if problem is None and limit is not None and len(str(value)) > limit:
            problem = f"{len(str(value))} characters; {where} keeps {limit}: shorten it"
        return [Problem(None, self.identity_source, problem)] if problem else []

    def header(
        self, coupling: Coupling, identity: str, values: dict[str, Any], planned: list[Any]
    ) -> tuple[str, bool]:
        """The target's header id: found again by its identity field (False), else created
        (True)."""
        connector = self.ctx.connector(self.target)
        entity = self.doc.entity(self.target)
        found = connector.find(entity, {self.identity_target: identity}, limit=2)
        if len(found) > 1:
            raise Refused(
                f"{len(found)} {entity} have {self.identity_target} {identity!r}; "
                "keep one and run again"
            )
        if found:
            with self.ctx.db.session() as session:
                owner = owners(session, self.mapping_id, self.target, [found[0].id])
            if owner.get(found[0].id, coupling.id) != coupling.id:
                raise Refused(
                    f"{entity} {found[0].id} with {self.identity_target} {identity!r} belongs "
                    f"to another {self.doc.entity(self.source)} of the same "
                    f"{self.identity_source}; give this one its own {self.identity_source}"
                )
            self.event(coupling, "found_again", self.target, detail={"id": found[0].id})
            return found[0].id, False
        if deep_insert.applies(self.doc):
            return deep_insert.create_one(self, coupling, values, planned), True
        given_values = given(values)  # blank: the target's default
        [result] = connector.write(entity, [WriteOp("create", "header", given_values)])
        if not result.ok or result.id is None:
            error = AccordError if result.retryable else Refused
            raise error(f"{self.target} refused the {entity}: {result.error}")
        with self.ctx.db.session() as session:
            row = session.get(Coupling, coupling.id)
            assert row is not None
            self.created(session, row, result)
        return result.id, True
