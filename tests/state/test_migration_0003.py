"""Revision 0003: an integration's mappings move from columns into one spec document, with
field mapping ids equal to the keys baselines already use: nothing re-coupled, no baseline
rewritten."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from accord.state.couplings import baseline
from accord.state.db import MIGRATIONS_DIR, Database, make_engine
from accord.state.models import Coupling
from accord.state.store import load_integration


def _alembic(connection: object) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def test_stored_mappings_become_a_spec_document(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.begin() as conn:
        command.upgrade(_alembic(conn), "0002")
        conn.execute(
            sa.text(
                "INSERT INTO integrations (id, name, template, local_connection, "
                "remote_connection, created_at) VALUES (1, 'main', 'bc-sales', 'bc', 'crm', "
                "'2026-01-01 00:00:00')"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO table_mappings (id, integration_id, name, position, local_entity, "
                "remote_entity, direction, local_filter, remote_filter, sync_only_coupled, "
                "depends_on, conflict, deletion, create_new_if_no_match, sync_after_coupling, "
                "interval_seconds, overlap_seconds, new_local_defaults, new_remote_defaults, "
                "enabled) VALUES (7, 1, 'CONTACT', 0, 'contacts', 'contacts', 'bidirectional', "
                "'type eq ''Person''', NULL, false, '[]', 'newest_wins', 'uncouple', false, "
                "true, 300, 60, '{}', '{}', true)"
            )
        )
        for position, (local, remote, direction) in enumerate(
            [("email", "emailaddress1", "bidirectional"), ("jobTitle", "jobtitle", "to_remote")]
        ):
            conn.execute(
                sa.text(
                    "INSERT INTO field_mappings (table_mapping_id, position, local_field, "
                    "remote_field, direction, transform_direction, lookup_by, "
                    "clear_on_failed_lookup, not_null, on_create_only, match, match_priority, "
                    "case_sensitive, enabled) VALUES (7, :p, :l, :r, :d, 'both', 'id', false, "
                    "false, false, :m, 0, false, true)"
                ),
                {"p": position, "l": local, "r": remote, "d": direction, "m": position == 0},
            )
        conn.execute(
            sa.text(
                "INSERT INTO couplings (mapping_id, local_id, remote_id, state, skipped, "
                "baseline, created_at, updated_at) VALUES (7, 'L1', 'R1', 'coupled', false, "
                '\'{"email:emailaddress1": ["a@b.c", "a@b.c"]}\', \'2026-01-01 00:00:00\', '
                "'2026-01-01 00:00:00')"
            )
        )
    engine.dispose()
    db = Database(database_url)
    try:
        with db.session() as session:
            config = load_integration(session)
            coupling = session.scalars(sa.select(Coupling)).one()
        mapping = config.template.mapping("CONTACT")
        assert config.mapping_ids == {"CONTACT": 7}
        assert [f.id for f in mapping.fields] == ["email:emailaddress1", "jobTitle:jobtitle"]
        assert mapping.fields[0].match and mapping.conflict == "newest_wins"
        # revision 0005 then names the roles
        assert mapping.filters["erp"] is not None
        assert set(baseline(coupling)) == {mapping.fields[0].key}
    finally:
        db.dispose()
