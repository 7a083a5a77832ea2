"""Revision 0008 adds the workloads and api_tokens tables and takes them away again."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from accord.state.db import MIGRATIONS_DIR, make_engine


def _alembic(connection: object) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def test_upgrade_and_downgrade(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            command.upgrade(_alembic(conn), "0008")
            tables = set(sa.inspect(conn).get_table_names())
            assert {"workloads", "api_tokens"} <= tables
            columns = {c["name"] for c in sa.inspect(conn).get_columns("api_tokens")}
            assert "token_hash" in columns and "token" not in columns
            command.downgrade(_alembic(conn), "0007")
            tables = set(sa.inspect(conn).get_table_names())
            assert not {"workloads", "api_tokens"} & tables
            assert "couplings" in tables
    finally:
        engine.dispose()
