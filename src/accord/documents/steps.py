"""The recorded steps of one document's transfer: moving its coupling to a step, logging an
event, holding it with an error, and deleting the target's incomplete copy of a document
held while its lines were written (nothing half-written stays)."""

from __future__ import annotations

from typing import Any

from accord.connectors.base import Record, WriteOp
from accord.documents.outcomes import MappingWork, Outcome
from accord.documents.values import Problem
from accord.state import documents as state
from accord.state.couplings import link_of, record_id
from accord.state.jobs import add_error
from accord.state.models import Coupling


class StepWork(MappingWork):
    """A document run's state writes, each in its own committed session."""

    def step(
        self,
        coupling: Coupling,
        to: str,
        target_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        with self.ctx.db.session() as session:
            row = session.get(Coupling, coupling.id)
            assert row is not None
            row.state, row.skipped = to, False
            if target_id is not None:
                link_of(row, self.target).record_id = target_id
            for link in row.links.values():
                link.last_result, link.last_error, link.last_job = "success", None, self.job_id
            state.add_event(
                session, self.mapping_id, coupling.id, to, detail=detail, job_id=self.job_id
            )
        coupling.state = to

    def event(self, coupling: Coupling, name: str, role: str, **more: Any) -> None:
        with self.ctx.db.session() as session:
            state.add_event(
                session, self.mapping_id, coupling.id, name, role=role, job_id=self.job_id, **more
            )

    def discard(self, coupling: Coupling) -> str:
        """Delete the target's copy of a document whose lines could not all be written, so
        that nothing half-written stays; the next run makes it again."""
        target_id = record_id(coupling, self.target)
        entity = self.doc.entity(self.target)
        assert target_id is not None
        [result] = self.ctx.connector(self.target).write(
            entity, [WriteOp("delete", "discard", id=target_id)]
        )
        if not result.ok and not result.not_found:
            return f"its incomplete {entity} {target_id} could not be deleted: {result.error}"
        with self.ctx.db.session() as session:
            row = session.get(Coupling, coupling.id)
            assert row is not None
            row.state = "creating"
            link_of(row, self.target).record_id = None
            state.forget_lines(session, coupling.id)
            state.add_event(
                session,
                self.mapping_id,
                coupling.id,
                "discarded",
                role=self.target,
                detail={"id": target_id},
                job_id=self.job_id,
            )
        coupling.state = "creating"
        coupling.links[self.target].record_id = None
        return f"its incomplete {entity} {target_id} was deleted; it is made again after the fix"

    def hold(
        self,
        record: Record,
        coupling: Coupling | None,
        identity: str,
        problems: list[Problem],
    ) -> Outcome:
        name = f"{self.doc.entity(self.source)} {identity}"
        texts = [p.text(name) for p in problems]
        if coupling is not None and coupling.state == "lines":
            texts.append(f"document {name}: {self.discard(coupling)}")
        with self.ctx.db.session() as session:
            if coupling is None:
                coupling = state.intend(
                    session, self.mapping_id, (self.source, self.target), record.id, identity
                )
            row = session.get(Coupling, coupling.id)
            assert row is not None
            row.skipped = self.doc.missing_dependency != "wait"
            link = link_of(row, self.source)
            link.last_result, link.last_error, link.last_job = (
                "failure",
                "\n".join(texts)[:4000],
                self.job_id,
            )
            for text in texts:
                if self.job_id is not None:
                    add_error(
                        session,
                        self.job_id,
                        self.mapping_id,
                        text,
                        source_id=record.id,
                        destination_id=record_id(row, self.target),
                    )
            state.add_event(
                session,
                self.mapping_id,
                row.id,
                "held",
                role=self.source,
                reason="\n".join(texts)[:4000],
                job_id=self.job_id,
            )
        return Outcome(record.id, identity, "held", record_id(coupling, self.target), texts)
