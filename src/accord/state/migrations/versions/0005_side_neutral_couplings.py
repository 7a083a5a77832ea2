"""side-neutral couplings: one link per role; templates name their roles

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 13:00:00.000000

Until now an integration had a "local" (ERP) and a "remote" (CRM) side, wired into every
table. The sides become the roles ``erp`` and ``crm``:

* each coupling keeps its id (conflicts refer to it) and gets one ``coupling_links`` row per
  role that still has a record: its id, natural key, modified-on, hash, its half of every
  baseline pair (``synced``) and the result of the last pass that carried it to the other
  role (``to_remote`` results go to the erp link, ``from_remote`` ones to the crm link);
* the stored template: ``local``/``remote`` keys -> ``erp``/``crm``, directions
  ``bidirectional``/``to_remote``/``from_remote`` -> ``both``/``to_crm``/``to_erp``, filters
  and new-record defaults per role, option maps as pairs; field mapping ids are kept, so
  every baseline stays keyed as it was and nothing is re-coupled;
* the integration's two connection columns -> ``connections`` {role: connection};
* watermarks, jobs' directions and open conflicts are renamed the same way.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from accord.state.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ROLE = {"local": "erp", "remote": "crm"}
DIRECTION = {
    "bidirectional": "both",
    "both": "both",
    "to_remote": "to_crm",
    "from_remote": "to_erp",
}
_OLD_COUPLING_COLUMNS = (
    "local_id",
    "remote_id",
    "local_key",
    "remote_key",
    "local_modified_at",
    "remote_modified_at",
    "last_result_to_remote",
    "last_result_from_remote",
    "last_job_to_remote",
    "last_job_from_remote",
    "last_error_to_remote",
    "last_error_from_remote",
    "baseline",
    "local_hash",
    "remote_hash",
)


def role_field(old: dict[str, Any]) -> dict[str, Any]:
    """A field mapping of the local/remote form in the role form."""
    new = {k: v for k, v in old.items() if k not in ("local", "remote") and v is not None}
    for side, role in ROLE.items():
        if old.get(side) is not None:
            new[role] = old[side]
    new["direction"] = DIRECTION.get(old.get("direction") or "bidirectional", "both")
    new["transform_direction"] = DIRECTION.get(old.get("transform_direction") or "both", "both")
    new.pop("lookup_by", None)
    if old.get("lookup_by") == "key":
        new["lookup_by"] = {"erp": "key"}
    if isinstance(old.get("option_map"), dict):
        new["option_map"] = [{"erp": k, "crm": v} for k, v in old["option_map"].items()]
    return new


def role_mapping(old: dict[str, Any]) -> dict[str, Any]:
    """A table mapping of the local/remote form in the role form."""
    skip = {"local", "remote", "local_filter", "remote_filter", "fields"}
    skip |= {"new_local_defaults", "new_remote_defaults", "initial_master", "direction"}
    new = {k: v for k, v in old.items() if k not in skip}
    new["erp"], new["crm"] = old["local"], old["remote"]
    new["direction"] = DIRECTION.get(old.get("direction") or "bidirectional", "both")
    filters = {ROLE[s]: old.get(f"{s}_filter") for s in ROLE if old.get(f"{s}_filter")}
    if filters:
        new["filters"] = filters
    defaults = {ROLE[s]: old.get(f"new_{s}_defaults") for s in ROLE if old.get(f"new_{s}_defaults")}
    if defaults:
        new["new_record_defaults"] = defaults
    if old.get("initial_master"):
        new["initial_master"] = ROLE[old["initial_master"]]
    new["fields"] = [role_field(f) for f in old.get("fields", [])]
    return new


def role_template(old: dict[str, Any], systems: dict[str, str]) -> dict[str, Any]:
    """A stored template of the local/remote form in the role form."""
    return {
        "name": old.get("name", ""),
        "description": old.get("description", ""),
        "roles": {
            "erp": old.get("local_system") or systems.get("erp") or "business-central",
            "crm": old.get("remote_system") or systems.get("crm") or "dataverse",
        },
        "mappings": [role_mapping(m) for m in old.get("mappings", [])],
    }


def _renamed(value: Any) -> Any:
    """Conflict fields: ``{key: {field: {local, remote}, local, remote, baseline}}`` ->
    ``{key: {fields: {erp, crm}, values: {erp, crm}, baseline: {erp, crm}}}``."""
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if not isinstance(item, dict):
            out[key] = item
            continue
        out[key] = {
            "fields": {ROLE[s]: (item.get("field") or {}).get(s) for s in ROLE},
            "values": {ROLE[s]: item.get(s) for s in ROLE},
            "baseline": {ROLE[s]: (item.get("baseline") or {}).get(s) for s in ROLE},
        }
    return out


Spec = dict[str, Any]


def _integrations(bind: sa.engine.Connection, meta: sa.MetaData) -> dict[int, tuple[Spec, Spec]]:
    """Per table mapping id: (its role-form spec, role -> connection)."""
    integrations = sa.Table("integrations", meta, autoload_with=bind)
    connections = sa.Table("connections", meta, autoload_with=bind)
    tables = sa.Table("table_mappings", meta, autoload_with=bind)
    system_of = {r.name: r.system for r in bind.execute(sa.select(connections)).all()}
    found: dict[int, tuple[Spec, Spec]] = {}
    for row in bind.execute(sa.select(integrations)).mappings().all():
        named = {"erp": row["local_connection"], "crm": row["remote_connection"]}
        systems = {role: system_of.get(name, "") for role, name in named.items()}
        spec = role_template(row["spec"] or {}, systems)
        bind.execute(
            integrations.update()
            .where(integrations.c.id == row["id"])
            .values(spec=spec, connections=named)
        )
        by_name = {m["name"]: m for m in spec["mappings"]}
        for table in bind.execute(
            sa.select(tables).where(tables.c.integration_id == row["id"])
        ).mappings():
            found[table["id"]] = (by_name.get(table["name"], {}), named)
    return found


def _links(bind: sa.engine.Connection, meta: sa.MetaData, mappings: dict[int, Any]) -> None:
    couplings = sa.Table("couplings", meta, autoload_with=bind)
    links = sa.Table("coupling_links", meta, autoload_with=bind)
    rows = bind.execute(sa.select(couplings)).mappings().all()
    batch: list[dict[str, Any]] = []
    for row in rows:
        spec, named = mappings.get(row["mapping_id"], ({}, {}))
        baseline = row["baseline"] or {}
        for slot, (side, role) in enumerate(ROLE.items()):
            if row[f"{side}_id"] is None:
                continue
            outbound = "to_remote" if side == "local" else "from_remote"
            batch.append(
                {
                    "coupling_id": row["id"],
                    "mapping_id": row["mapping_id"],
                    "role": role,
                    "connection": named.get(role),
                    "entity": spec.get(role),
                    "record_id": row[f"{side}_id"],
                    "natural_key": row[f"{side}_key"],
                    "version": row[f"{side}_modified_at"],
                    "content_hash": row[f"{side}_hash"],
                    "synced": {k: v[slot] for k, v in baseline.items() if isinstance(v, list)},
                    "last_result": row[f"last_result_{outbound}"],
                    "last_job": row[f"last_job_{outbound}"],
                    "last_error": row[f"last_error_{outbound}"],
                }
            )
        if len(batch) >= 5000:
            bind.execute(links.insert(), batch)
            batch = []
    if batch:
        bind.execute(links.insert(), batch)


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "coupling_links",
        sa.Column(
            "coupling_id",
            sa.Integer(),
            sa.ForeignKey("couplings.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("role", sa.String(20), primary_key=True),
        sa.Column(
            "mapping_id", sa.Integer(), sa.ForeignKey("table_mappings.id", ondelete="CASCADE")
        ),
        sa.Column("connection", sa.String(100)),
        sa.Column("entity", sa.String(100)),
        sa.Column("record_id", sa.String(100)),
        sa.Column("natural_key", sa.String(200)),
        sa.Column("version", UTCDateTime()),
        sa.Column("content_hash", sa.String(64)),
        sa.Column("synced", sa.JSON(), nullable=False),
        sa.Column("last_result", sa.String(20)),
        sa.Column("last_job", sa.String(36)),
        sa.Column("last_error", sa.Text()),
        sa.UniqueConstraint("mapping_id", "role", "record_id", name="uq_link_record"),
    )
    op.create_index("ix_link_key", "coupling_links", ["mapping_id", "role", "natural_key"])
    op.create_index("ix_link_result", "coupling_links", ["mapping_id", "role", "last_result"])
    with op.batch_alter_table("integrations") as batch_op:
        batch_op.add_column(sa.Column("connections", sa.JSON(), nullable=True))
    meta = sa.MetaData()
    mappings = _integrations(bind, meta)
    _links(bind, meta, mappings)
    with op.batch_alter_table("integrations") as batch_op:
        batch_op.drop_column("local_connection")
        batch_op.drop_column("remote_connection")
    with op.batch_alter_table("couplings") as batch_op:
        batch_op.add_column(sa.Column("deleted_role", sa.String(20)))
    bind.execute(
        sa.text(
            "UPDATE couplings SET deleted_role = CASE deleted_side "
            "WHEN 'local' THEN 'erp' WHEN 'remote' THEN 'crm' END"
        )
    )
    for index in ("ix_coupling_local_key", "ix_coupling_remote_key", "ix_coupling_results"):
        op.drop_index(index, table_name="couplings")
    with op.batch_alter_table("couplings") as batch_op:
        batch_op.drop_constraint("uq_coupling_local", type_="unique")
        batch_op.drop_constraint("uq_coupling_remote", type_="unique")
        for column in (*_OLD_COUPLING_COLUMNS, "deleted_side"):
            batch_op.drop_column(column)
        batch_op.create_index("ix_coupling_mapping_state", ["mapping_id", "state"])
    with op.batch_alter_table("watermarks") as batch_op:
        batch_op.alter_column("side", new_column_name="role", type_=sa.String(20))
    for side, role in ROLE.items():
        bind.execute(
            sa.text("UPDATE watermarks SET role = :r WHERE role = :s"), {"r": role, "s": side}
        )
    for old, new in DIRECTION.items():
        bind.execute(
            sa.text("UPDATE jobs SET direction = :n WHERE direction = :o"), {"n": new, "o": old}
        )
    conflicts = sa.Table("conflicts", sa.MetaData(), autoload_with=bind)
    for row in bind.execute(sa.select(conflicts.c.id, conflicts.c.fields)).all():
        bind.execute(
            conflicts.update().where(conflicts.c.id == row.id).values(fields=_renamed(row.fields))
        )


SIDE = {role: side for side, role in ROLE.items()}


def _side_template(spec: dict[str, Any]) -> dict[str, Any]:
    """The role form back in the local/remote form (for a downgrade)."""
    roles = spec.get("roles") or {}
    back = {"both": "bidirectional", "to_crm": "to_remote", "to_erp": "from_remote"}
    mappings = []
    for m in spec.get("mappings", []):
        old = {k: v for k, v in m.items() if k not in ("erp", "crm", "filters", "fields")}
        old.pop("new_record_defaults", None)
        old["local"], old["remote"] = m.get("erp"), m.get("crm")
        old["direction"] = back.get(m.get("direction", "both"), "bidirectional")
        for role, side in SIDE.items():
            old[f"{side}_filter"] = (m.get("filters") or {}).get(role)
            old[f"new_{side}_defaults"] = (m.get("new_record_defaults") or {}).get(role, {})
        if m.get("initial_master"):
            old["initial_master"] = SIDE[m["initial_master"]]
        old["fields"] = []
        for f in m.get("fields", []):
            field = {k: v for k, v in f.items() if k not in ("erp", "crm", "lookup_by")}
            field["local"], field["remote"] = f.get("erp"), f.get("crm")
            field["direction"] = back.get(f.get("direction", "both"), "bidirectional")
            field["transform_direction"] = {"both": "both"}.get(
                f.get("transform_direction", "both"), back.get(f.get("transform_direction"))
            )
            field["lookup_by"] = "key" if (f.get("lookup_by") or {}).get("erp") == "key" else "id"
            if isinstance(f.get("option_map"), list):
                field["option_map"] = {str(p.get("erp")): p.get("crm") for p in f["option_map"]}
            old["fields"].append(field)
        mappings.append(old)
    return {
        "name": spec.get("name", ""),
        "description": spec.get("description", ""),
        "local_system": roles.get("erp", ""),
        "remote_system": roles.get("crm", ""),
        "mappings": mappings,
    }


def downgrade() -> None:
    """Fold the erp/crm links back into local/remote columns (other roles cannot be)."""
    bind = op.get_bind()
    meta = sa.MetaData()
    integrations = sa.Table("integrations", meta, autoload_with=bind)
    rows = bind.execute(sa.select(integrations)).mappings().all()
    for row in rows:
        if set(row["connections"] or {}) - set(SIDE):
            raise RuntimeError(
                f"integration {row['name']!r} has roles other than erp and crm; "
                "it cannot be represented before revision 0005"
            )
    with op.batch_alter_table("integrations") as batch_op:
        batch_op.add_column(sa.Column("local_connection", sa.String(100)))
        batch_op.add_column(sa.Column("remote_connection", sa.String(100)))
    integrations = sa.Table("integrations", sa.MetaData(), autoload_with=bind)
    for row in rows:
        named = row["connections"] or {}
        bind.execute(
            integrations.update()
            .where(integrations.c.id == row["id"])
            .values(
                local_connection=named.get("erp"),
                remote_connection=named.get("crm"),
                spec=_side_template(row["spec"] or {}),
            )
        )
    with op.batch_alter_table("integrations") as batch_op:
        batch_op.drop_column("connections")
    with op.batch_alter_table("couplings") as batch_op:
        batch_op.drop_index("ix_coupling_mapping_state")
        for column in ("local_id", "remote_id"):
            batch_op.add_column(sa.Column(column, sa.String(100)))
        for column in ("last_job_to_remote", "last_job_from_remote"):
            batch_op.add_column(sa.Column(column, sa.String(36)))
        for column in ("local_key", "remote_key"):
            batch_op.add_column(sa.Column(column, sa.String(200)))
        for column in ("local_modified_at", "remote_modified_at"):
            batch_op.add_column(sa.Column(column, UTCDateTime()))
        for column in ("last_result_to_remote", "last_result_from_remote"):
            batch_op.add_column(sa.Column(column, sa.String(20)))
        for column in ("last_error_to_remote", "last_error_from_remote"):
            batch_op.add_column(sa.Column(column, sa.Text()))
        for column in ("local_hash", "remote_hash"):
            batch_op.add_column(sa.Column(column, sa.String(64)))
        batch_op.add_column(sa.Column("baseline", sa.JSON()))
        batch_op.add_column(sa.Column("deleted_side", sa.String(10)))
    couplings = sa.Table("couplings", sa.MetaData(), autoload_with=bind)
    links = sa.Table("coupling_links", sa.MetaData(), autoload_with=bind)
    by_coupling: dict[int, dict[str, Any]] = {}
    for link in bind.execute(sa.select(links)).mappings():
        by_coupling.setdefault(link["coupling_id"], {})[link["role"]] = link
    for coupling in bind.execute(sa.select(couplings.c.id, couplings.c.deleted_role)).all():
        found = by_coupling.get(coupling.id, {})
        values: dict[str, Any] = {"deleted_side": SIDE.get(coupling.deleted_role or "")}
        for role, side in SIDE.items():
            if role not in found:
                continue
            link = found[role]
            outbound = "to_remote" if side == "local" else "from_remote"
            values[f"{side}_id"] = link["record_id"]
            values[f"{side}_key"] = link["natural_key"]
            values[f"{side}_modified_at"] = link["version"]
            values[f"{side}_hash"] = link["content_hash"]
            values[f"last_result_{outbound}"] = link["last_result"]
            values[f"last_job_{outbound}"] = link["last_job"]
            values[f"last_error_{outbound}"] = link["last_error"]
        erp, crm = (dict((found.get(r) or {}).get("synced") or {}) for r in ("erp", "crm"))
        values["baseline"] = {k: [erp[k], crm[k]] for k in erp if k in crm}
        bind.execute(couplings.update().where(couplings.c.id == coupling.id).values(**values))
    op.drop_table("coupling_links")
    with op.batch_alter_table("couplings") as batch_op:
        batch_op.drop_column("deleted_role")
        batch_op.create_unique_constraint("uq_coupling_local", ["mapping_id", "local_id"])
        batch_op.create_unique_constraint("uq_coupling_remote", ["mapping_id", "remote_id"])
        batch_op.create_index("ix_coupling_local_key", ["mapping_id", "local_key"])
        batch_op.create_index("ix_coupling_remote_key", ["mapping_id", "remote_key"])
        batch_op.create_index(
            "ix_coupling_results",
            ["mapping_id", "last_result_to_remote", "last_result_from_remote"],
        )
    for role, side in SIDE.items():
        bind.execute(
            sa.text("UPDATE watermarks SET role = :s WHERE role = :r"), {"r": role, "s": side}
        )
    with op.batch_alter_table("watermarks") as batch_op:
        batch_op.alter_column("role", new_column_name="side", type_=sa.String(10))
    for new, old in (("to_crm", "to_remote"), ("to_erp", "from_remote")):
        bind.execute(
            sa.text("UPDATE jobs SET direction = :o WHERE direction = :n"), {"n": new, "o": old}
        )
    conflicts = sa.Table("conflicts", sa.MetaData(), autoload_with=bind)
    for held in bind.execute(sa.select(conflicts.c.id, conflicts.c.fields)).all():
        bind.execute(
            conflicts.update().where(conflicts.c.id == held.id).values(fields=_sided(held.fields))
        )


def _sided(value: Any) -> Any:
    """The inverse of :func:`_renamed`."""
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if not isinstance(item, dict) or "values" not in item:
            out[key] = item
            continue
        out[key] = {
            "field": {SIDE[r]: (item.get("fields") or {}).get(r) for r in SIDE},
            **{SIDE[r]: (item.get("values") or {}).get(r) for r in SIDE},
            "baseline": {SIDE[r]: (item.get("baseline") or {}).get(r) for r in SIDE},
        }
    return out
