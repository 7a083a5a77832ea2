"""Typed connection settings: auth variants, per-system fields, errors that list valid values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from accord.connectors.assemble import assemble_settings, settable_fields
from accord.connectors.business_central.connector import BusinessCentralSettings
from accord.connectors.dataverse.connector import DataverseSettings
from accord.connectors.settings import AUTH_KINDS, ConnectionSettings, auth_model
from accord.errors import ConfigError

TOKEN_URL = "https://login.example.test/t/oauth2/v2.0/token"
BC_URL = "https://bc.example.test/v2.0/t/production/api/v2.0"


def bc(**auth: Any) -> BusinessCentralSettings:
    return BusinessCentralSettings.model_validate(
        {
            "name": "erp",
            "base_url": BC_URL,
            "auth": auth
            or {
                "kind": "client_credentials",
                "token_url": TOKEN_URL,
                "client_id": "app",
                "client_secret": "s3cret",
            },
        }
    )


def test_auth_kinds_are_the_seven_variants() -> None:
    assert AUTH_KINDS == (
        "client_credentials",
        "device_code",
        "jwt_bearer",
        "refresh_token",
        "api_key",
        "basic",
        "session_login",
    )
    with pytest.raises(ValueError, match="unknown auth kind 'oauth1'; valid: client_credentials"):
        auth_model("oauth1")


def test_secrets_are_secret_and_scope_defaults_per_system() -> None:
    settings = bc()
    assert isinstance(settings.auth.client_secret, SecretStr)  # type: ignore[union-attr]
    assert "s3cret" not in repr(settings) and "s3cret" not in settings.model_dump_json()
    assert settings.auth.scope == "https://api.businesscentral.dynamics.com/.default"  # type: ignore[union-attr]
    assert settings.system == "business-central" and settings.company is None
    dv = DataverseSettings.model_validate(
        {
            "name": "crm",
            "base_url": "https://org.example.test:8443/api/data/v9.2",
            "auth": {
                "kind": "device_code",
                "token_url": TOKEN_URL,
                "client_id": "app",
            },
        }
    )
    assert dv.auth.scope == "https://org.example.test:8443/.default"  # type: ignore[union-attr]


def test_an_auth_kind_the_system_does_not_accept_is_refused_with_the_valid_ones() -> None:
    with pytest.raises(ValidationError) as caught:
        bc(kind="basic", username="u", password="p")
    assert (
        "auth kind 'basic' is not accepted by business-central; "
        "valid: client_credentials, device_code"
    ) in str(caught.value)


def test_missing_and_unknown_fields_are_named() -> None:
    with pytest.raises(ValidationError, match=r"auth\.client_credentials\.client_secret"):
        bc(kind="client_credentials", token_url=TOKEN_URL, client_id="a")
    with pytest.raises(ValidationError, match="does not match any of the expected tags"):
        bc(kind="kerberos")
    with pytest.raises(ValidationError, match="tenant"):
        BusinessCentralSettings.model_validate(
            {"name": "erp", "base_url": BC_URL, "tenant": "x", "auth": bc().auth}
        )


def test_legacy_company_and_environment_options_become_fields() -> None:
    document = {
        "name": "erp",
        "base_url": BC_URL,
        "auth": bc().auth,
        "options": {"company": "CRONUS", "environment": "sandbox", "page_size": 5},
    }
    settings = BusinessCentralSettings.model_validate(document)
    assert (settings.company, settings.environment) == ("CRONUS", "sandbox")
    assert dict(settings.options) == {"page_size": 5}


def test_every_variant_builds_an_httpx_auth() -> None:
    variants: list[dict[str, Any]] = [
        {"kind": "api_key", "header": "X-Api-Key", "key": "k1", "prefix": ""},
        {"kind": "basic", "username": "u", "password": "p"},
        {
            "kind": "session_login",
            "login_url": "https://erp.example.test/login",
            "username": "u",
            "password": "p",
        },
        {
            "kind": "refresh_token",
            "token_url": TOKEN_URL,
            "client_id": "c",
            "refresh_token": "r",
        },
    ]
    for auth in variants:
        settings = ConnectionSettings.model_validate(
            {"name": "any", "system": "generic", "base_url": "https://x.test", "auth": auth}
        )
        made = settings.build_auth()
        assert isinstance(made, httpx.Auth), auth["kind"]


def test_microsoft_and_jwt_variants_build_their_auth_with_the_settings(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from accord.connectors.http.auth import (
        ClientCredentialsAuth,
        DeviceCodeAuth,
        JwtBearerAuth,
    )

    credentials = bc().build_auth()
    assert isinstance(credentials, ClientCredentialsAuth)
    assert credentials.scope == "https://api.businesscentral.dynamics.com/.default"
    device = bc(kind="device_code", token_url=TOKEN_URL, client_id="app").model_copy(
        update={"cache_dir": tmp_path / "tokens" / "erp", "ca_cert": "/tmp/ca.pem"}
    )
    made = device.build_auth()
    assert isinstance(made, DeviceCodeAuth) and made.ca_cert == "/tmp/ca.pem"
    assert made.cache_path == tmp_path / "tokens" / "erp" / "device-code-tokens.json"
    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    jwt = ConnectionSettings.model_validate(
        {
            "name": "sf",
            "system": "generic",
            "base_url": "https://sf.example.test",
            "auth": {
                "kind": "jwt_bearer",
                "token_url": "https://login.example.test/services/oauth2/token",
                "client_id": "c",
                "username": "u@example.test",
                "private_key": pem,
                "audience": "https://login.example.test",
            },
        }
    )
    assert isinstance(jwt.build_auth(), JwtBearerAuth)
    assert "PRIVATE KEY" not in jwt.model_dump_json()


def test_settings_of_one_system_refuse_another_system_name() -> None:
    with pytest.raises(ValidationError, match="system 'dataverse' does not match"):
        BusinessCentralSettings.model_validate(
            {"name": "erp", "system": "dataverse", "base_url": BC_URL, "auth": bc().auth}
        )


def test_principal_names_who_signs_in_without_revealing_keys() -> None:
    assert bc().principal == "app"
    keyed = ConnectionSettings.model_validate(
        {
            "name": "o",
            "system": "generic",
            "base_url": "https://x.test",
            "auth": {"kind": "api_key", "key": "very-secret"},
        }
    )
    assert keyed.principal and "very-secret" not in keyed.principal


def test_assemble_from_key_values_and_options() -> None:
    settings = assemble_settings(
        "erp",
        "business-central",
        {
            "base_url": BC_URL,
            "token_url": TOKEN_URL,
            "client_id": "app",
            "client_secret": "s",
            "company": "CRONUS",
            "options.page_size": "500",
            "options.retry": '{"max_attempts": 2}',
        },
    )
    assert isinstance(settings, BusinessCentralSettings)
    assert settings.company == "CRONUS" and settings.auth.kind == "client_credentials"
    assert dict(settings.options) == {"page_size": 500, "retry": {"max_attempts": 2}}


def test_assemble_names_the_bad_key_and_lists_valid_ones() -> None:
    with pytest.raises(ConfigError, match=r"'company' is not a setting of dataverse") as caught:
        assemble_settings("crm", "dataverse", {"company": "x"})
    assert "valid: base_url, ca_cert, token_url, client_id, client_secret, scope" in str(
        caught.value
    )
    with pytest.raises(ConfigError, match="not accepted by dataverse; valid: client_cred"):
        assemble_settings("crm", "dataverse", {}, auth_kind="basic")
    with pytest.raises(ConfigError, match=r"connection 'crm'.*auth\.device_code\.client_id"):
        assemble_settings(
            "crm",
            "dataverse",
            {"base_url": "https://o.test", "token_url": TOKEN_URL},
            auth_kind="device_code",
        )
    assert "company" in settable_fields("business-central", "device_code")
