"""Revision 0005: local/remote state becomes side-neutral -- one link per role -- keeping
every coupling (its id, both records, natural keys, hashes, baselines and last results), so
nothing is re-coupled."""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from accord.state import couplings
from accord.state.db import MIGRATIONS_DIR, Database, make_engine
from accord.state.models import Conflict, Coupling, Job, Watermark
from accord.state.store import load_integration

OLD_SPEC = {
    "name": "bc-sales",
    "local_system": "",
    "remote_system": "",
    "mappings": [
        {
            "name": "CUSTOMER",
            "local": "customers",
            "remote": "accounts",
            "direction": "bidirectional",
            "local_filter": {"field": "blocked", "op": "eq", "value": " "},
            "remote_filter": None,
            "new_local_defaults": {},
            "new_remote_defaults": {"customertypecode": 3},
            "initial_master": "local",
            "fields": [
                {"id": "number:accountnumber", "local": "number", "remote": "accountnumber"},
                {
                    "id": "type:customertypecode",
                    "local": "type",
                    "remote": "customertypecode",
                    "direction": "to_remote",
                    "option_map": {"Company": 3},
                },
                {
                    "id": "salespersonCode:_ownerid_value",
                    "local": "salespersonCode",
                    "remote": "_ownerid_value",
                    "direction": "to_remote",
                    "lookup": "CUSTOMER",
                    "lookup_by": "key",
                },
            ],
        }
    ],
}
T = "'2026-01-01 00:00:00'"


def _alembic(connection: object) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def _old_state(conn: sa.Connection) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO integrations (id, name, template, local_connection, remote_connection, "
            f"spec, created_at) VALUES (1, 'main', 'bc-sales', 'bc', 'crm', :spec, {T})"
        ),
        {"spec": json.dumps(OLD_SPEC)},
    )
    conn.execute(
        sa.text(
            "INSERT INTO table_mappings (id, integration_id, name, position) "
            "VALUES (7, 1, 'CUSTOMER', 0)"
        )
    )
    rows = [
        # coupled, a failed push and a successful pull
        "(11, 7, 'L1', 'R1', '10000', 'A-1', 'coupled', false, "
        "'{\"number:accountnumber\": [\"10000\", \"A-1\"]}', 'h-l', 'h-r', "
        "'failure', 'success', 'boom', NULL, 'j1', 'j2', NULL)",
        # an intent recorded before a create
        "(12, 7, 'L2', NULL, '20000', NULL, 'creating', false, '{}', NULL, NULL, "
        "NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
        # the marker left when the remote record was deleted under 'uncouple'
        "(13, 7, 'L3', NULL, '30000', NULL, 'uncoupled', false, '{}', NULL, NULL, "
        "NULL, NULL, NULL, NULL, NULL, NULL, 'remote')",
    ]
    for values in rows:
        conn.execute(
            sa.text(
                "INSERT INTO couplings (id, mapping_id, local_id, remote_id, local_key, "
                "remote_key, state, skipped, baseline, local_hash, remote_hash, "
                "last_result_to_remote, last_result_from_remote, last_error_to_remote, "
                "last_error_from_remote, last_job_to_remote, last_job_from_remote, "
                f"deleted_side, created_at, updated_at) VALUES {values[:-1]}, {T}, {T})"
            )
        )
    conn.execute(
        sa.text(
            "INSERT INTO conflicts (id, mapping_id, coupling_id, fields, detected_at) VALUES "
            f"(1, 7, 11, :fields, {T})"
        ),
        {
            "fields": json.dumps(
                {
                    "number:accountnumber": {
                        "field": {"local": "number", "remote": "accountnumber"},
                        "local": "10000",
                        "remote": "10001",
                        "baseline": {"local": None, "remote": None},
                    }
                }
            )
        },
    )
    conn.execute(
        sa.text(
            "INSERT INTO watermarks (mapping_id, side, since, updated_at) "
            f"VALUES (7, 'local', {T}, {T})"
        )
    )
    conn.execute(
        sa.text(
            "INSERT INTO jobs (id, mapping_id, direction, kind, status, dry_run, started_at, "
            "inserted, modified, deleted, unchanged, skipped, failed, coupled, uncoupled, "
            f"conflicts) VALUES ('j1', 7, 'from_remote', 'full', 'success', false, {T}, "
            "0, 0, 0, 0, 0, 0, 0, 0, 0)"
        )
    )


def test_couplings_become_one_link_per_role(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.begin() as conn:
        command.upgrade(_alembic(conn), "0004")
        _old_state(conn)
    engine.dispose()
    db = Database(database_url)
    try:
        with db.session() as s:
            config = load_integration(s)
            assert config.connections == {"erp": "bc", "crm": "crm"}
            spec = config.template.mapping("CUSTOMER")
            assert config.template.roles == {"erp": "business-central", "crm": "dataverse"}
            assert (spec.entity("erp"), spec.entity("crm"), spec.direction) == (
                "customers",
                "accounts",
                "both",
            )
            assert set(spec.filters) == {"erp"} and spec.initial_master == "erp"
            assert spec.new_record_defaults == {"crm": {"customertypecode": 3}}
            kept = [f.id for f in spec.fields]
            assert kept == ["number:accountnumber", "type:customertypecode", OLD_OWNER]
            assert spec.fields[1].direction == "to_crm"
            assert spec.fields[1].option_map == [{"erp": "Company", "crm": 3}]
            assert spec.fields[2].lookup_by == {"erp": "key"}

            coupled, intent, marker = (s.get(Coupling, i) for i in (11, 12, 13))
            assert coupled is not None and intent is not None and marker is not None
            erp, crm = coupled.links["erp"], coupled.links["crm"]
            assert (erp.record_id, erp.natural_key, erp.content_hash) == ("L1", "10000", "h-l")
            assert (crm.record_id, crm.natural_key, crm.content_hash) == ("R1", "A-1", "h-r")
            assert (erp.connection, erp.entity, crm.connection, crm.entity) == (
                "bc",
                "customers",
                "crm",
                "accounts",
            )
            # results of carrying each record to the other role
            assert (erp.last_result, erp.last_error, erp.last_job) == ("failure", "boom", "j1")
            assert (crm.last_result, crm.last_job) == ("success", "j2")
            assert couplings.baseline(coupled) == {
                "number:accountnumber": {"erp": "10000", "crm": "A-1"}
            }
            assert (intent.state, set(intent.links)) == ("creating", {"erp"})
            assert (marker.state, set(marker.links), marker.deleted_role) == (
                "uncoupled",
                {"erp"},
                "crm",
            )
            assert set(couplings.by_ids(s, 7, "crm", ["R1"])) == {"R1"}
            assert sorted(couplings.retry_first(s, 7, "erp")) == ["L1", "L2"]

            conflict = s.get(Conflict, 1)
            assert conflict is not None
            assert conflict.fields["number:accountnumber"] == {
                "fields": {"erp": "number", "crm": "accountnumber"},
                "values": {"erp": "10000", "crm": "10001"},
                "baseline": {"erp": None, "crm": None},
            }
            assert s.get(Watermark, (7, "erp")) is not None
            job = s.get(Job, "j1")
            assert job is not None and job.direction == "to_erp"
    finally:
        db.dispose()


OLD_OWNER = "salespersonCode:_ownerid_value"


def test_a_downgrade_folds_the_links_back(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":  # as Database.migrate does: rebuilds must not cascade
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        conn.begin()
        command.upgrade(_alembic(conn), "0004")
        _old_state(conn)
        command.upgrade(_alembic(conn), "0005")
        command.downgrade(_alembic(conn), "0004")
        row = conn.execute(
            sa.text(
                "SELECT local_id, remote_id, local_key, remote_hash, last_result_to_remote, "
                "last_result_from_remote, baseline FROM couplings WHERE id = 11"
            )
        ).one()
        marker = conn.execute(
            sa.text("SELECT local_id, remote_id, deleted_side FROM couplings WHERE id = 13")
        ).one()
        integration = conn.execute(
            sa.text("SELECT local_connection, remote_connection, spec FROM integrations")
        ).one()
        direction = conn.execute(sa.text("SELECT direction FROM jobs")).scalar_one()
        side = conn.execute(sa.text("SELECT side FROM watermarks")).scalar_one()
        conn.rollback()
    engine.dispose()
    assert row[:6] == ("L1", "R1", "10000", "h-r", "failure", "success")
    baseline = row.baseline if isinstance(row.baseline, dict) else json.loads(row.baseline)
    assert baseline == {"number:accountnumber": ["10000", "A-1"]}
    assert tuple(marker) == ("L3", None, "remote")
    assert (integration[0], integration[1]) == ("bc", "crm")
    spec = integration[2] if isinstance(integration[2], dict) else json.loads(integration[2])
    customer = spec["mappings"][0]
    assert (customer["local"], customer["remote"], customer["direction"]) == (
        "customers",
        "accounts",
        "bidirectional",
    )
    assert customer["fields"][1]["option_map"] == {"Company": 3}
    assert customer["fields"][2]["lookup_by"] == "key"
    assert (direction, side) == ("from_remote", "local")
