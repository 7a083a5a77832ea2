"""integration spec as one JSON document; field mapping ids

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 12:00:00.000000

The mappings of an integration were mirrored in table_mappings and field_mappings columns.
They become one validated JSON document on the integration (``integrations.spec``), with
each field mapping's id set to the key its baselines already use, so nothing is re-coupled
and no baseline is rewritten. table_mappings keeps only the identity rows that couplings,
jobs and watermarks refer to.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

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
_COMPARISON = re.compile(
    r"^\s*(?P<field>[A-Za-z_][A-Za-z0-9_]*)\s+(?P<op>eq|ne|gt|ge|lt|le)\s+"
    r"(?P<value>'(?:[^']|'')*'|true|false|null|-?\d+(?:\.\d+)?)\s*$"
)


def _typed_filter(text: str | None) -> Any:
    """An OData filter of comparisons joined by 'and', as a typed filter; else as it was
    (loading then names the mapping whose filter needs rewriting by hand)."""
    if not text:
        return None
    parts = re.split(r"\s+and\s+", text.strip())
    typed = []
    for part in parts:
        found = _COMPARISON.match(part)
        if found is None:
            return text
        raw = found["value"]
        value: Any
        if raw.startswith("'"):
            value = raw[1:-1].replace("''", "'")
        elif raw in ("true", "false"):
            value = raw == "true"
        elif raw == "null":
            value = None
        else:
            value = float(raw) if "." in raw else int(raw)
        typed.append({"field": found["field"], "op": found["op"], "value": value})
    return typed[0] if len(typed) == 1 else {"all": typed}


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("integrations") as batch_op:
        batch_op.add_column(sa.Column("spec", sa.JSON(), nullable=True))
    meta = sa.MetaData()
    integrations = sa.Table("integrations", meta, autoload_with=bind)
    tables = sa.Table("table_mappings", meta, autoload_with=bind)
    fields = sa.Table("field_mappings", meta, autoload_with=bind)
    for integration in bind.execute(sa.select(integrations)).mappings().all():
        mappings = []
        rows = bind.execute(
            sa.select(tables)
            .where(tables.c.integration_id == integration["id"])
            .order_by(tables.c.position)
        ).mappings()
        for table in rows:
            spec: dict[str, Any] = {
                "name": table["name"],
                "local": table["local_entity"],
                "remote": table["remote_entity"],
                **{column: table[column] for column in _TABLE_COLUMNS},
            }
            spec["local_filter"] = _typed_filter(spec["local_filter"])
            spec["remote_filter"] = _typed_filter(spec["remote_filter"])
            spec["fields"] = []
            for field in bind.execute(
                sa.select(fields)
                .where(fields.c.table_mapping_id == table["id"])
                .order_by(fields.c.position)
            ).mappings():
                item = {attr: field[column] for attr, column in _FIELD_COLUMNS.items()}
                item["id"] = f"{item['local'] or '='}:{item['remote'] or '='}"
                spec["fields"].append(item)
            mappings.append(spec)
        document = {
            "name": integration["template"],
            "local_system": "",
            "remote_system": "",
            "mappings": mappings,
        }
        bind.execute(
            integrations.update()
            .where(integrations.c.id == integration["id"])
            .values(spec=document)
        )
    op.drop_table("field_mappings")
    with op.batch_alter_table("table_mappings") as batch_op:
        for column in ("local_entity", "remote_entity", *_TABLE_COLUMNS):
            batch_op.drop_column(column)


def downgrade() -> None:
    raise RuntimeError("revision 0003 is one-way: the spec document is not split back into columns")
