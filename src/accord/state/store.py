"""Saving and loading integrations and their mappings (the configuration side of state)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.config.loader import parse_template
from accord.config.spec import TemplateSpec
from accord.errors import ConfigError
from accord.state.models import Integration, TableMapping


def save_integration(
    session: Session,
    name: str,
    template: TemplateSpec,
    connections: dict[str, str],
) -> Integration:
    """Create or replace an integration from a template with a connection per role;
    mappings (table and document mappings alike) keep their ids by name."""
    row = session.scalar(select(Integration).where(Integration.name == name))
    if row is None:
        row = Integration(name=name)
        session.add(row)
    row.template = template.name
    row.connections = dict(connections)
    row.spec = template.with_field_ids().model_dump(mode="json")
    session.flush()
    existing = {
        m.name: m
        for m in session.scalars(select(TableMapping).where(TableMapping.integration_id == row.id))
    }
    names = [m.name for m in template.mappings] + [d.name for d in template.documents]
    for position, name in enumerate(names):
        mapping = existing.pop(name, None) or TableMapping(integration_id=row.id, name=name)
        mapping.position = position
        session.add(mapping)
    for stale in existing.values():
        session.delete(stale)
    return row


@dataclass(frozen=True)
class IntegrationConfig:
    """An integration as stored: its template spec and the ids of its mappings."""

    name: str
    template: TemplateSpec
    connections: dict[str, str]
    """Role -> connection name."""
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
    template = parse_template(row.spec, f"integration {row.name!r} (stored spec)")
    return IntegrationConfig(
        row.name,
        template,
        dict(row.connections or {}),
        {m.name: m.id for m in mappings},
    )
