"""Connections stored as one settings document with sealed secrets, on both databases; the
0004 migration moves rows of the earlier column layout into that document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from pydantic import SecretStr
from sqlalchemy import text

from accord.connectors.business_central.connector import BusinessCentralSettings
from accord.connectors.dataverse.connector import DataverseSettings
from accord.errors import ConfigError
from accord.services.connections import load_connection, save_connection
from accord.state.connections import connection_names, seal, unseal
from accord.state.db import MIGRATIONS_DIR, Database, make_engine, normalize_url
from accord.state.secrets import SecretBox

TOKEN_URL = "https://login.example.test/t/oauth2/v2.0/token"


@pytest.fixture
def box(tmp_path: Path) -> SecretBox:
    return SecretBox.from_settings(None, tmp_path / "keys")


def bc_settings() -> BusinessCentralSettings:
    return BusinessCentralSettings.model_validate(
        {
            "name": "erp",
            "base_url": "https://bc.example.test/api/v2.0",
            "company": "CRONUS",
            "auth": {
                "kind": "client_credentials",
                "token_url": TOKEN_URL,
                "client_id": "app",
                "client_secret": "s3cr3t-value",
            },
            "options": {"page_size": 50},
        }
    )


def test_seal_and_unseal_every_secret_in_a_document(box: SecretBox) -> None:
    document = {"a": SecretStr("one"), "b": [{"c": SecretStr("two")}], "d": 3}
    sealed = seal(document, box)
    assert "one" not in json.dumps(sealed) and set(sealed["a"]) == {"$secret"}
    assert unseal(sealed, box) == {"a": "one", "b": [{"c": "two"}], "d": 3}


def test_round_trip_keeps_the_type_and_encrypts_secrets(
    database_url: str, box: SecretBox, tmp_path: Path
) -> None:
    db = Database(database_url)
    device = DataverseSettings.model_validate(
        {
            "name": "crm",
            "base_url": "https://org.example.test/api/data/v9.2",
            "auth": {"kind": "device_code", "token_url": TOKEN_URL, "client_id": "app"},
        }
    )
    with db.session() as s:
        save_connection(s, box, bc_settings())
        save_connection(s, box, device)
    with db.engine.connect() as conn:
        raw = conn.execute(text("select settings from connections where name = 'erp'")).scalar()
    assert "s3cr3t-value" not in str(raw)
    with db.session() as s:
        erp = load_connection(s, box, "erp")
        crm = load_connection(s, box, "crm")
        assert connection_names(s) == ["crm", "erp"]
    assert erp == bc_settings()
    assert isinstance(erp, BusinessCentralSettings) and erp.company == "CRONUS"
    assert isinstance(crm, DataverseSettings) and crm.auth.kind == "device_code"
    unknown = "no connection named 'x'; known connections: crm, erp"
    with pytest.raises(ConfigError, match=unknown), db.session() as s:
        load_connection(s, box, "x")
    with pytest.raises(ConfigError, match="cannot be decrypted"), db.session() as s:
        load_connection(s, SecretBox.from_settings(None, tmp_path / "other"), "erp")
    db.dispose()


def _alembic(connection: object) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def test_migration_0004_moves_existing_rows_into_the_document(
    database_url: str, box: SecretBox
) -> None:
    engine = make_engine(normalize_url(database_url))
    with engine.begin() as conn:
        command.upgrade(_alembic(conn), "0003")
        conn.execute(
            text(
                "insert into connections (name, system, base_url, token_url, client_id, "
                "secret_encrypted, scope, ca_cert, options, created_at) values (:name, "
                ":system, :base_url, :token_url, :client_id, :secret, :scope, :ca_cert, "
                ":options, CURRENT_TIMESTAMP)"
            ),
            {
                "name": "erp",
                "system": "business-central",
                "base_url": "https://bc.example.test/api/v2.0",
                "token_url": TOKEN_URL,
                "client_id": "app",
                "secret": box.encrypt("s3cr3t-value"),
                "scope": None,
                "ca_cert": "/tmp/ca.pem",
                "options": json.dumps({"company": "CRONUS", "page_size": 50}),
            },
        )
        command.upgrade(_alembic(conn), "0004")
    db = Database(database_url)
    with db.session() as s:
        loaded = load_connection(s, box, "erp")
    assert isinstance(loaded, BusinessCentralSettings)
    assert loaded.company == "CRONUS" and dict(loaded.options) == {"page_size": 50}
    assert loaded.ca_cert == "/tmp/ca.pem" and loaded.auth.kind == "client_credentials"
    assert loaded.auth.client_secret.get_secret_value() == "s3cr3t-value"  # type: ignore[union-attr]
    assert loaded.auth.scope == "https://api.businesscentral.dynamics.com/.default"  # type: ignore[union-attr]
    db.dispose()
    with engine.begin() as conn:
        command.downgrade(_alembic(conn), "0003")
        row = conn.execute(text("select client_id, secret_encrypted from connections")).one()
    assert row.client_id == "app" and box.decrypt(row.secret_encrypted) == "s3cr3t-value"
    engine.dispose()


def test_downgrade_refuses_connections_it_cannot_represent(
    database_url: str, box: SecretBox
) -> None:
    db = Database(database_url)
    with db.session() as s:
        save_connection(
            s,
            box,
            DataverseSettings.model_validate(
                {
                    "name": "crm",
                    "base_url": "https://org.example.test/api/data/v9.2",
                    "auth": {"kind": "device_code", "token_url": TOKEN_URL, "client_id": "a"},
                }
            ),
        )
    with db.engine.begin() as conn, pytest.raises(RuntimeError, match="crm use an auth kind"):
        command.downgrade(_alembic(conn), "0003")
    db.dispose()
