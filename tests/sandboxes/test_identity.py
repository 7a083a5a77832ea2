"""Microsoft identity emulation: msal over TLS, error bodies, token expiry on both APIs."""

from __future__ import annotations

import httpx
import msal
import pytest

from accord.sandboxes import SandboxHandle, SandboxSet
from tests.sandboxes.conftest import tls, token_for


@pytest.fixture(autouse=True)
def _no_ca_bundle_override(monkeypatch: pytest.MonkeyPatch) -> None:
    # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a session's ``verify``
    # (psf/requests#3829), which would hide msal's ``verify=<ca.pem>``.
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


@pytest.mark.parametrize("name", ["business-central", "dataverse"])
def test_msal_gets_a_token_over_tls(sandboxes: SandboxSet, name: str) -> None:
    """The real msal client: discovery + client credentials against the sandbox."""
    sx = sandboxes[name]
    app = msal.ConfidentialClientApplication(
        sx.client_id,
        client_credential=sx.client_secret,
        authority=sx.token_url.removesuffix("/oauth2/v2.0/token"),
        instance_discovery=False,
        verify=sx.ca_cert,
    )
    result = app.acquire_token_for_client(scopes=[sx.scope])
    assert "access_token" in result, result
    assert result["token_type"].lower() == "bearer"
    resp = httpx.get(
        f"{sx.base_url}/{'companies' if sx.company_id else 'accounts'}",
        headers={"Authorization": f"Bearer {result['access_token']}"},
        params={"$top": "1"},
        verify=tls(sx),
    )
    assert resp.status_code == 200


@pytest.mark.parametrize("name", ["business-central", "dataverse"])
def test_msal_wrong_secret_is_invalid_client(sandboxes: SandboxSet, name: str) -> None:
    sx = sandboxes[name]
    app = msal.ConfidentialClientApplication(
        sx.client_id,
        client_credential="wrong",
        authority=sx.authority,
        instance_discovery=False,
        verify=sx.ca_cert,
    )
    result = app.acquire_token_for_client(scopes=[sx.scope])
    assert result.get("error") == "invalid_client"
    assert "AADSTS7000215" in result["error_description"]


def test_token_endpoint_errors(bc: SandboxHandle) -> None:
    base = {
        "grant_type": "client_credentials",
        "client_id": bc.client_id,
        "client_secret": bc.client_secret,
    }
    bad_scope = httpx.post(
        bc.token_url, data={**base, "scope": "https://x/user.read"}, verify=tls(bc)
    )
    assert bad_scope.status_code == 400 and bad_scope.json()["error"] == "invalid_scope"
    bad_client = httpx.post(
        bc.token_url, data={**base, "client_id": "nobody", "scope": bc.scope}, verify=tls(bc)
    )
    assert bad_client.status_code == 401 and bad_client.json()["error"] == "invalid_client"
    origin_scope = httpx.post(
        bc.token_url, data={**base, "scope": f"{bc.origin}/.default"}, verify=tls(bc)
    )
    assert origin_scope.status_code == 200
    assert origin_scope.json()["expires_in"] == 3600


def test_discovery_document(dv: SandboxHandle) -> None:
    doc = httpx.get(f"{dv.authority}/v2.0/.well-known/openid-configuration", verify=tls(dv)).json()
    assert doc["token_endpoint"] == dv.token_url
    assert doc["authorization_endpoint"].startswith("https://")
    assert doc["issuer"] == f"{dv.authority}/v2.0"


def test_missing_and_expired_tokens(bc: SandboxHandle, dv: SandboxHandle) -> None:
    bc_tok, dv_tok = token_for(bc), token_for(dv)
    none = httpx.get(f"{bc.base_url}/companies", verify=tls(bc))
    assert none.status_code == 401
    assert none.json()["error"]["code"] == "Authentication_InvalidCredentials"
    bc.clock.advance(3601)
    dv.clock.advance(3601)
    try:
        expired_bc = httpx.get(
            f"{bc.base_url}/companies",
            verify=tls(bc),
            headers={"Authorization": f"Bearer {bc_tok}"},
        )
        expired_dv = httpx.get(
            f"{dv.base_url}/accounts", verify=tls(dv), headers={"Authorization": f"Bearer {dv_tok}"}
        )
    finally:
        bc.clock.advance(-3601)
        dv.clock.advance(-3601)
    assert expired_bc.status_code == 401
    assert expired_dv.status_code == 401
    assert expired_dv.headers["www-authenticate"].startswith("Bearer")
    fresh = token_for(dv)
    dv.expire_tokens()
    revoked = httpx.get(
        f"{dv.base_url}/accounts", verify=tls(dv), headers={"Authorization": f"Bearer {fresh}"}
    )
    assert revoked.status_code == 401


def test_set_credentials(dv: SandboxHandle) -> None:
    old_id, old_secret = dv.client_id, dv.client_secret
    dv.set_credentials(old_id, "rotated")
    try:
        stale = httpx.post(
            dv.token_url,
            verify=tls(dv),
            data={
                "grant_type": "client_credentials",
                "client_id": old_id,
                "client_secret": old_secret,
                "scope": dv.scope,
            },
        )
        assert stale.status_code == 401
        assert token_for(dv)
    finally:
        dv.set_credentials(old_id, old_secret)
