"""The secret key lives with the state: beside a SQLite file, in the home for PostgreSQL;
the layout before (key in the home, SQLite elsewhere) still opens; nothing is made early."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from accord.config.settings import Settings
from accord.connectors.dataverse.connector import DataverseSettings
from accord.errors import ConfigError
from accord.services.hub import Hub
from accord.state.location import NoStateError, check_state, key_box
from accord.state.secrets import KEY_FILE, SecretBox


def crm_settings(options: dict[str, Any] | None = None) -> DataverseSettings:
    return DataverseSettings.model_validate(
        {
            "options": options or {},
            "name": "crm",
            "base_url": "https://org.example.test/api/data/v9.2",
            "auth": {
                "kind": "client_credentials",
                "token_url": "https://login.example.test/t/oauth2/v2.0/token",
                "client_id": "app",
                "client_secret": "s3cr3t",
            },
        }
    )


def save_and_load(hub: Hub) -> str:
    from accord.services import setup

    try:
        setup.connect(hub, crm_settings(), check=False)
        loaded = hub.connection("crm")
    finally:
        hub.close()
    secret = loaded.auth.client_secret  # type: ignore[union-attr]
    assert isinstance(secret, SecretStr)
    return secret.get_secret_value()


def test_the_key_is_made_beside_the_sqlite_file(tmp_path: Path) -> None:
    home, state = tmp_path / "home", tmp_path / "state"
    state.mkdir()
    hub = Hub(Settings(home=home), database_url=f"sqlite:///{state / 'accord.db'}")
    assert not (state / KEY_FILE).exists()  # made when a secret is first sealed
    assert save_and_load(hub) == "s3cr3t"
    assert (state / KEY_FILE).exists() and not (home / KEY_FILE).exists()
    assert (state / KEY_FILE).stat().st_mode & 0o777 == 0o600
    # another home (another working folder) opens the same state and its secrets
    other = Hub(Settings(home=tmp_path / "elsewhere"), database_url=hub.db.url)
    try:
        assert other.connection("crm").auth.client_secret.get_secret_value() == "s3cr3t"  # type: ignore[union-attr]
    finally:
        other.close()
    assert not (tmp_path / "elsewhere").exists()


def test_the_layout_before_still_opens(tmp_path: Path) -> None:
    home, state = tmp_path / "home", tmp_path / "state"
    state.mkdir()
    legacy = SecretBox.from_settings(None, home)  # the key as it used to be made
    assert legacy.existing_file() == home / KEY_FILE
    url = f"sqlite:///{state / 'accord.db'}"
    box = key_box(url, home, None)
    assert box.existing_file() == home / KEY_FILE
    assert box.decrypt(legacy.encrypt("old")) == "old"
    assert not (state / KEY_FILE).exists()


def test_a_key_beside_the_file_does_not_hide_the_older_one(tmp_path: Path) -> None:
    home, state = tmp_path / "home", tmp_path / "state"
    sealed = SecretBox.from_settings(None, home).encrypt("old")  # sealed before, key in home
    SecretBox.from_settings(None, state)  # a key made beside the file since
    box = key_box(f"sqlite:///{state / 'accord.db'}", home, None)
    assert box.decrypt(sealed) == "old"
    assert box.decrypt(box.encrypt("new")) == "new"
    assert SecretBox.from_settings(None, state).decrypt(box.encrypt("x")) == "x"  # sealed beside


def test_postgresql_keeps_its_key_in_the_home(tmp_path: Path, postgres_url: str) -> None:
    home = tmp_path / "home"
    assert save_and_load(Hub(Settings(home=home), database_url=postgres_url)) == "s3cr3t"
    assert (home / KEY_FILE).exists()


def test_a_missing_or_wrong_key_names_where_it_was_looked_for(tmp_path: Path) -> None:
    box = key_box(f"sqlite:///{tmp_path / 'a.db'}", tmp_path / "home", None)
    with pytest.raises(ConfigError, match=str(tmp_path / KEY_FILE)):
        box.decrypt("token")
    sealed = SecretBox.from_settings(None, tmp_path / "one").encrypt("x")
    other = SecretBox.from_settings(None, tmp_path / "two")
    with pytest.raises(ConfigError, match=str(tmp_path / "two" / KEY_FILE)):
        other.decrypt(sealed)


def test_a_read_only_look_creates_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with pytest.raises(NoStateError, match="no state yet"):
        Hub(Settings(home=home), create=False)
    assert not home.exists()
    url = f"sqlite:///{tmp_path / 'missing' / 'x.db'}"
    with pytest.raises(ConfigError, match=str(tmp_path / "missing")):
        check_state(url, home, create=True)
    assert not (tmp_path / "missing").exists()
    check_state(f"sqlite:///{home / 'accord.db'}", home, create=True)  # the home is made
    assert home.is_dir()
