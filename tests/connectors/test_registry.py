"""Connector plugins come from the ``accord.connectors`` entry points, and only from there."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.connectors import registry
from accord.connectors.business_central.connector import BusinessCentralSettings
from accord.errors import ConfigError
from tests.fake_plugin import SYSTEM, install_plugin


def test_the_built_in_systems_are_registered_through_entry_points() -> None:
    assert registry.systems() == ["business-central", "dataverse"]
    found = registry.plugin("business-central")
    assert found.settings_model is BusinessCentralSettings


def test_an_unknown_system_lists_the_registered_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        registry.plugin("sap-r3", location="connection 'x'")
    assert str(caught.value) == (
        "connection 'x': unknown system 'sap-r3'; registered systems: business-central, dataverse"
    )


def test_a_plugin_installed_beside_accord_is_discovered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_plugin(tmp_path / "site", monkeypatch)
    assert registry.systems() == ["business-central", "dataverse", SYSTEM]
    settings = registry.settings_from_document(
        {
            "name": "books",
            "system": SYSTEM,
            "base_url": "https://erp.example.test/api",
            "account": "A-1",
            "auth": {"kind": "api_key", "header": "X-Api-Key", "key": "k"},
        }
    )
    connector = registry.build_connector(settings)
    connector.check()
    import echo_plugin  # type: ignore[import-not-found]

    assert echo_plugin.CHECKED[-1] == "A-1"


def test_document_errors_name_the_connection_and_the_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_plugin(tmp_path / "site", monkeypatch)
    with pytest.raises(ConfigError) as caught:
        registry.settings_from_document(
            {
                "name": "books",
                "system": SYSTEM,
                "base_url": "https://erp.example.test/api",
                "auth": {"kind": "client_credentials"},
            }
        )
    message = str(caught.value)
    assert message.startswith("connection 'books': ")
    assert "account: Field required" in message
    assert "auth.client_credentials.token_url: Field required" in message
    with pytest.raises(ConfigError) as caught:
        registry.settings_from_document(
            {
                "name": "books",
                "system": SYSTEM,
                "base_url": "https://erp.example.test/api",
                "account": "A-1",
                "auth": {"kind": "device_code", "token_url": "https://t", "client_id": "c"},
            }
        )
    assert "auth kind 'device_code' is not accepted by echo-erp; valid: api_key, basic" in str(
        caught.value
    )
    with pytest.raises(ConfigError, match="settings name no system"):
        registry.settings_from_document({"name": "n"})


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        (f"{SYSTEM} = echo_plugin:NOT_A_PLUGIN", "is a object, not a ConnectorPlugin"),
        ("other-name = echo_plugin:PLUGIN", "says its system is 'echo-erp', not 'other-name'"),
        (f"{SYSTEM} = echo_plugin:MISSING", "cannot load the connector plugin"),
    ],
)
def test_a_broken_registration_names_the_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entry: str, complaint: str
) -> None:
    install_plugin(tmp_path / "site", monkeypatch, entry=entry)
    with pytest.raises(ConfigError) as caught:
        registry.systems()
    assert complaint in str(caught.value)
    assert f"entry point {entry.split(' =')[0]} = echo_plugin:" in str(caught.value)
