from __future__ import annotations

from types import SimpleNamespace

import pytest

from accord.connectors.business_central.connector import BusinessCentralSettings
from accord.testing.sandbox import settings_from_sandbox, system_of


def handle(base_url: str, **extra: object) -> SimpleNamespace:
    return SimpleNamespace(
        base_url=base_url,
        token_url="https://127.0.0.1:1/t/oauth2/v2.0/token",
        client_id="c",
        client_secret="s",
        scope="x/.default",
        ca_cert="/tmp/ca.pem",
        **extra,
    )


def test_business_central_settings_default_to_the_sandbox_company() -> None:
    bc = handle(
        "https://127.0.0.1:1/v2.0/t/production/api/v2.0",
        system="business-central",
        company_name="CRONUS",
    )
    settings = settings_from_sandbox(bc, page_size=5)
    assert isinstance(settings, BusinessCentralSettings)
    assert settings.company == "CRONUS" and dict(settings.options) == {"page_size": 5}
    assert settings.ca_cert == "/tmp/ca.pem" and settings.auth.scope == "x/.default"  # type: ignore[union-attr]
    other = settings_from_sandbox(bc, company="Other")
    assert other.company == "Other"  # type: ignore[attr-defined]


def test_the_system_is_named_by_the_handle_never_guessed_from_its_url() -> None:
    dv = handle("https://127.0.0.1:2/api/data/v9.2", system="dataverse")
    assert settings_from_sandbox(dv, name="crm").name == "crm"
    assert system_of(dv) == "dataverse"
    with pytest.raises(ValueError, match=r"names no system.*registered systems: business-central"):
        system_of(handle("https://127.0.0.1:2/api/data/v9.2"))
