from __future__ import annotations

from types import SimpleNamespace

import pytest

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
    bc = handle("https://127.0.0.1:1/v2.0/t/production/api/v2.0", company_name="CRONUS")
    settings = settings_from_sandbox(bc, page_size=5)
    assert settings.system == "business-central"
    assert dict(settings.options) == {"company": "CRONUS", "page_size": 5}
    assert settings.ca_cert == "/tmp/ca.pem" and settings.scope == "x/.default"
    assert settings_from_sandbox(bc, company="Other").options["company"] == "Other"


def test_dataverse_settings_and_explicit_system_names() -> None:
    dv = handle("https://127.0.0.1:2/api/data/v9.2")
    assert settings_from_sandbox(dv, name="crm").name == "crm"
    assert system_of(dv) == "dataverse"
    assert system_of(handle("https://x/odd", system="business-central")) == "business-central"
    with pytest.raises(ValueError, match="cannot tell"):
        system_of(handle("https://x/odd"))
