"""Webhook secrets (``webhook_key``, ``webhook_secret``) are sealed at rest like credentials,
masked wherever settings are shown, and an older state's plain ones are sealed when a hub
opens it; on both databases."""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import select, text

from accord.config.settings import Settings
from accord.connectors.dataverse.connector import DataverseSettings
from accord.services.connections import save_connection, seal_plain_options
from accord.services.hub import Hub
from accord.services.setup import connection_summary
from accord.state.db import Database
from accord.state.models import Connection
from accord.state.secrets import SecretBox
from tests.state.test_location import crm_settings

KEY, SIGNING = "k3y-in-clear", "whsec_c2lnbmluZyBzZWNyZXQ="


def crm() -> DataverseSettings:
    return crm_settings({"page_size": 50, "webhook_key": KEY, "webhook_secret": SIGNING})


def raw_settings(db: Database) -> str:
    with db.engine.connect() as conn:
        return str(conn.execute(text("select settings from connections")).scalar())


def test_secret_options_are_sealed_masked_and_read_back(database_url: str) -> None:
    key = Fernet.generate_key().decode()
    box = SecretBox(key)
    db = Database(database_url)
    try:
        with db.session() as s:
            save_connection(s, box, crm())
        raw = raw_settings(db)
        assert KEY not in raw and SIGNING not in raw and "$secret" in raw
        hub = Hub(Settings(secret_key=key), database_url=database_url)
        loaded = hub.connection("crm")
        assert isinstance(loaded.options["webhook_key"], SecretStr)
        assert loaded.secret_option("webhook_key") == KEY
        assert loaded.secret_option("webhook_secret") == SIGNING
        assert loaded.options["page_size"] == 50
        shown = str(connection_summary(loaded, checked=False))
        assert KEY not in shown and SIGNING not in shown and "**********" in shown
        hub.close()
    finally:
        db.dispose()


def test_an_older_state_has_its_plain_webhook_secrets_sealed_on_open(
    database_url: str, tmp_path: Path
) -> None:
    key = Fernet.generate_key().decode()
    box = SecretBox(key)
    db = Database(database_url)
    with db.session() as s:
        save_connection(s, box, crm())
        row = s.scalar(select(Connection))
        assert row is not None  # as an Accord before ADR 0025 stored it: options in clear
        row.settings = {
            **row.settings,
            "options": {"page_size": 50, "webhook_key": KEY, "webhook_secret": SIGNING},
        }
    assert KEY in raw_settings(db)
    with db.session() as s:  # without a key at hand nothing is sealed (nor a key made)
        assert seal_plain_options(s, SecretBox(None, path=tmp_path / "none.key")) == 0
    assert KEY in raw_settings(db) and not (tmp_path / "none.key").exists()
    hub = Hub(Settings(home=tmp_path, secret_key=key), database_url=database_url)
    try:
        raw = raw_settings(db)
        assert KEY not in raw and SIGNING not in raw
        loaded = hub.connection("crm")
        assert loaded.secret_option("webhook_key") == KEY
        assert loaded.secret_option("webhook_secret") == SIGNING
        with db.session() as s:  # a second open changes nothing
            assert seal_plain_options(s, box) == 0
    finally:
        hub.close()
        db.dispose()
