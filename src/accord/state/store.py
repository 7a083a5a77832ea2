"""Saving and loading integrations, mappings and connections (the configuration side of state)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.config.spec import FieldMappingSpec, TableMappingSpec, TemplateSpec
from accord.errors import ConfigError
from accord.state.connections import load_connection as load_connection  # re-exported
from accord.state.connections import save_connection as save_connection  # re-exported
from accord.state.models import FieldMapping, Integration, TableMapping

_FIELD_COLUMNS = {
    "local": "local_field",
    "remote": "remote_field",
    "direction": "direction",
    "constant": "constant",
    "transform": "transform",
    "transform_direction": "transform_direction",
    "option_map": "option_map",
    "lookup": "lookup",
    "lookup_by": "lookup_by",
    "clear_on_failed_lookup": "clear_on_failed_lookup",
    "not_null": "not_null",
    "on_create_only": "on_create_only",
    "match": "match",
    "match_priority": "match_priority",
    "case_sensitive": "case_sensitive",
    "enabled": "enabled",
}
_TABLE_COLUMNS = (
    "direction",
    "local_filter",
    "remote_filter",
    "sync_only_coupled",
    "depends_on",
    "conflict",
    "deletion",
    "create_new_if_no_match",
    "sync_after_coupling",
    "interval_seconds",
    "overlap_seconds",
    "new_local_defaults",
    "new_remote_defaults",
    "enabled",
)


def save_integration(
    session: Session,
    name: str,
    template: TemplateSpec,
    local_connection: str,
    remote_connection: str,
) -> Integration:
    """Create or replace an integration and its mappings from a template."""
    row = session.scalar(select(Integration).where(Integration.name == name))
    if row is None:
        row = Integration(name=name)
        session.add(row)
    row.template = template.name
    row.local_connection = local_connection
    row.remote_connection = remote_connection
    session.flush()
    existing = {
        m.name: m
        for m in session.scalars(select(TableMapping).where(TableMapping.integration_id == row.id))
    }
    for position, spec in enumerate(template.mappings):
        mapping = existing.pop(spec.name, None) or TableMapping(
            integration_id=row.id, name=spec.name
        )
        _fill_table(mapping, spec, position)
        session.add(mapping)
    for stale in existing.values():
        session.delete(stale)
    return row


def _fill_table(row: TableMapping, spec: TableMappingSpec, position: int) -> None:
    row.position = position
    row.local_entity = spec.local
    row.remote_entity = spec.remote
    for column in _TABLE_COLUMNS:
        setattr(row, column, getattr(spec, column))
    row.fields = [
        FieldMapping(position=i, **{col: getattr(f, attr) for attr, col in _FIELD_COLUMNS.items()})
        for i, f in enumerate(spec.fields)
    ]


@dataclass(frozen=True)
class IntegrationConfig:
    """An integration as stored: its template spec and the ids of its mappings."""

    name: str
    template: TemplateSpec
    local_connection: str
    remote_connection: str
    mapping_ids: dict[str, int]


def load_integration(session: Session, name: str | None = None) -> IntegrationConfig:
    """Load an integration (the only one when ``name`` is None)."""
    rows = session.scalars(select(Integration)).all()
    if name is None:
        if len(rows) != 1:
            raise ConfigError(
                "no integration set up yet; run 'accord init'"
                if not rows
                else "several integrations exist; name one: " + ", ".join(r.name for r in rows)
            )
        row = rows[0]
    else:
        found = [r for r in rows if r.name == name]
        if not found:
            raise ConfigError(
                f"no integration named {name!r}; known: "
                f"{', '.join(r.name for r in rows) or '(none)'}"
            )
        row = found[0]
    mappings = session.scalars(
        select(TableMapping)
        .where(TableMapping.integration_id == row.id)
        .order_by(TableMapping.position)
    ).all()
    specs = [_table_spec(m) for m in mappings]
    template = TemplateSpec.model_construct(
        name=row.template, description="", local_system="", remote_system="", mappings=specs
    )
    return IntegrationConfig(
        row.name,
        template,
        row.local_connection,
        row.remote_connection,
        {m.name: m.id for m in mappings},
    )


def _table_spec(row: TableMapping) -> TableMappingSpec:
    fields = [
        FieldMappingSpec(**{attr: getattr(f, col) for attr, col in _FIELD_COLUMNS.items()})
        for f in row.fields
    ]
    return TableMappingSpec(
        name=row.name,
        local=row.local_entity,
        remote=row.remote_entity,
        fields=fields,
        **{column: getattr(row, column) for column in _TABLE_COLUMNS},
    )
