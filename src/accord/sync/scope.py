"""What every stage of one pass shares: the mapping, the two roles, their connectors."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accord.connectors.base import Connector, EntityInfo, Record
from accord.mapping.fields import CompiledMapping, PassDirection, Role
from accord.state import couplings
from accord.state.ledger import Ledger
from accord.state.models import Coupling, CouplingLink
from accord.sync.context import SyncContext
from accord.sync.decide import CouplingView, FieldChange


@dataclass
class PreviewRow:
    """What a pass would do to one record (dry run)."""

    mapping: str
    direction: str
    source_id: str
    destination_id: str | None
    action: str
    changes: list[FieldChange] = field(default_factory=list)
    conflicts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


class PassScope:
    """One pass of one mapping in one direction: its roles, connectors and counters."""

    def __init__(
        self,
        ctx: SyncContext,
        mapping: CompiledMapping,
        mapping_id: int,
        direction: PassDirection,
        session: Session,
        job_id: str | None,
        *,
        force: bool,
        create_uncoupled: bool,
        dry_run: bool = False,
    ):
        self.ctx = ctx
        self.mapping = mapping
        self.mapping_id = mapping_id
        self.direction = direction
        self.session = session
        self.job_id = job_id
        self.force = force
        self.create_uncoupled = create_uncoupled
        self.dry_run = dry_run
        self.source_role, self.dest_role = mapping.pass_roles(direction)
        self.source: Connector = ctx.connector(self.source_role)
        self.dest: Connector = ctx.connector(self.dest_role)
        self.source_info: EntityInfo = self.source.entity(mapping.entity(self.source_role))
        self.dest_info: EntityInfo = self.dest.entity(mapping.entity(self.dest_role))
        self.counts: Counter[str] = Counter()
        self.preview: list[PreviewRow] = []
        self.ledger = Ledger(session)

    def info(self, role: Role) -> EntityInfo:
        """What ``role``'s connector says of its entity."""
        return self.source_info if role == self.source_role else self.dest_info

    def natural_key(self, role: Role, values: Mapping[str, Any]) -> tuple[bool, str | None]:
        """Whether ``values`` hold ``role``'s natural key, and that key as stored."""
        key = self.info(role).natural_key
        if key and key in values:
            return True, couplings.key_text(values[key])
        return False, None

    def fields_to_read(self, role: Role) -> list[str]:
        """The mapped fields of ``role``, and its natural key."""
        fields = self.mapping.fields_of(role)
        key = self.info(role).natural_key
        return [*fields, key] if key and key not in fields else fields

    def source_fields(self) -> list[str]:
        return self.fields_to_read(self.source_role)

    def dest_fields(self) -> list[str]:
        return self.fields_to_read(self.dest_role)

    def source_id(self, row: Coupling) -> str | None:
        return couplings.record_id(row, self.source_role)

    def dest_id(self, row: Coupling) -> str | None:
        return couplings.record_id(row, self.dest_role)

    def view(self, row: Coupling) -> CouplingView:
        """What a decision needs to know of ``row`` for this pass."""
        link = couplings.link_of(row, self.source_role)
        return CouplingView(
            row.id,
            couplings.baseline(row),
            link.content_hash,
            link.last_result == "failure",
            row.skipped,
        )

    def new_link(
        self, row: Coupling, role: Role, record_id: str | None, record: Record | None = None
    ) -> CouplingLink:
        """A link of ``row`` for ``role``'s record, not yet stored: the ledger inserts it
        (:meth:`Ledger.insert_links`). It is attached to ``row`` at once."""
        _, natural = self.natural_key(role, record.values if record is not None else {})
        link = CouplingLink(
            coupling_id=row.id if row.id is not None else 0,
            role=role,
            mapping_id=self.mapping_id,
            connection=self.ctx.connection_name(role),
            entity=self.mapping.entity(role),
            record_id=record_id,
            natural_key=natural,
            synced={},
        )
        couplings.attach(row, link)
        return link

    def link_if_free(
        self,
        row: Coupling,
        role: Role,
        record: Record,
        coupled_with: dict[str, dict[str, Any]] | None = None,
    ) -> bool:
        """Link ``record`` as ``role``'s record of ``row`` -- with ``coupled_with``, coupled
        with that baseline -- unless another coupling holds it (another worker coupled it
        meanwhile: then ``row`` is read again, and False)."""
        try:
            with self.session.begin_nested():
                self.link_record(row, role, record)
                if coupled_with is not None:
                    row.state = "coupled"
                    couplings.store_baseline(row, coupled_with)
                self.session.flush()
        except IntegrityError:
            self.session.refresh(row)
            return False
        return True

    def link_record(self, row: Coupling, role: Role, record: Record) -> None:
        """Make ``record`` ``role``'s record of ``row``: its id, connection, entity and (when
        it carries one) natural key."""
        link = couplings.link_of(row, role)
        link.record_id = record.id
        link.connection = self.ctx.connection_name(role)
        link.entity = self.mapping.entity(role)
        present, natural = self.natural_key(role, record.values)
        if present:
            link.natural_key = natural

    def preview_row(
        self,
        source_id: str,
        dest_id: str | None,
        action: str,
        changes: list[FieldChange] | None = None,
        conflicts: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        self.preview.append(
            PreviewRow(
                self.mapping.name,
                self.direction,
                source_id,
                dest_id,
                action,
                changes or [],
                conflicts or {},
                error,
            )
        )
