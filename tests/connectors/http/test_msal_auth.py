"""msal-based auth: client credentials against the sandbox's token endpoint over TLS, device
code against a small in-process identity endpoint."""

from __future__ import annotations

import base64
import json
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from accord.connectors.http import ClientCredentialsAuth, DeviceCodeAuth, HttpClient
from accord.connectors.http.auth import MsalClientCredentials
from accord.errors import AuthError, ConfigError, TransientError
from accord.sandboxes import SandboxHandle, run_sandboxes


@pytest.fixture(scope="module")
def bc() -> Iterator[SandboxHandle]:
    with run_sandboxes(["business-central"], records=3) as sx:
        yield sx["business-central"]


def credentials(bc: SandboxHandle, secret: str | None = None) -> ClientCredentialsAuth:
    return ClientCredentialsAuth(
        bc.token_url, bc.client_id, secret or bc.client_secret, bc.scope, bc.ca_cert
    )


def test_client_credentials_renew_an_expired_token_once(bc: SandboxHandle) -> None:
    auth = credentials(bc)
    with HttpClient(bc.base_url, connection="bc", auth=auth, ca_cert=bc.ca_cert) as http:
        assert http.get("companies").status_code == 200
        assert http.get("companies").status_code == 200
        assert auth.tokens_acquired == 1 and http.request_count == 2
        bc.expire_tokens()
        assert http.get("companies").status_code == 200
        assert auth.tokens_acquired == 2 and http.request_count == 4  # 401, then the resend


def test_a_second_401_raises_auth_error_naming_the_connection(bc: SandboxHandle) -> None:
    auth = credentials(bc)
    with HttpClient(bc.base_url, connection="bc", auth=auth, ca_cert=bc.ca_cert) as http:
        http.get("companies")
        secret = bc.client_secret
        bc.set_credentials(bc.client_id, None)  # revoke: new tokens are refused
        bc.expire_tokens()
        try:
            with pytest.raises(AuthError, match=r"credentials for connection 'bc' were refused"):
                http.get("companies")
        finally:
            bc.set_credentials(bc.client_id, secret)


def test_a_wrong_secret_is_refused_without_showing_it(bc: SandboxHandle) -> None:
    secret = "not-the-right-secret-123"
    auth = credentials(bc, secret)
    http = HttpClient(bc.base_url, connection="bc", auth=auth, ca_cert=bc.ca_cert)
    with http, pytest.raises(AuthError, match=r"connection 'bc'.*invalid_client") as err:
        http.get("companies")
    assert secret not in str(err.value) and secret not in repr(auth) and secret not in str(auth)


def test_an_untrusted_token_endpoint_is_a_tls_config_error(bc: SandboxHandle) -> None:
    auth = ClientCredentialsAuth(bc.token_url, bc.client_id, bc.client_secret, bc.scope, None)
    with pytest.raises(ConfigError, match="TLS verification failed for token endpoint"):
        auth.header_value()


def test_a_missing_scope_is_named(bc: SandboxHandle) -> None:
    auth = ClientCredentialsAuth(bc.token_url, bc.client_id, bc.client_secret, None, bc.ca_cert)
    auth.connection = "bc"
    with pytest.raises(ConfigError, match=r"connection 'bc': no OAuth scope configured"):
        auth.header_value()


def test_the_former_name_still_works() -> None:
    assert MsalClientCredentials is ClientCredentialsAuth


# -- device code against an in-process identity -------------------------------------------
AUTHORITY = "https://login.example.test/tenant1"
TOKEN_URL = f"{AUTHORITY}/oauth2/v2.0/token"
SCOPE = "https://erp.example.test/.default"


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


class Identity:
    """Discovery, device authorization and token grants (device code and refresh token)."""

    def __init__(self) -> None:
        self.polls = 0
        self.grants: list[str] = []
        self.refresh_tokens: set[str] = set()
        self.down = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("openid-configuration"):
            return httpx.Response(
                200,
                json={
                    "issuer": f"{AUTHORITY}/v2.0",
                    "authorization_endpoint": f"{AUTHORITY}/oauth2/v2.0/authorize",
                    "token_endpoint": TOKEN_URL,
                    "device_authorization_endpoint": f"{AUTHORITY}/oauth2/v2.0/devicecode",
                },
            )
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if path.endswith("/devicecode"):
            return httpx.Response(
                200,
                json={
                    "device_code": "dev-1",
                    "user_code": "ABCD-EFGH",
                    "verification_uri": "https://login.example.test/device",
                    "expires_in": 900,
                    "interval": 0,
                    "message": "Open https://login.example.test/device and enter ABCD-EFGH",
                },
            )
        if self.down:
            return httpx.Response(503, json={"error": "temporarily_unavailable"})
        grant = form["grant_type"]
        self.grants.append(grant.rsplit(":", 1)[-1])
        if grant.endswith("device_code"):
            self.polls += 1
            if self.polls == 1:
                return httpx.Response(400, json={"error": "authorization_pending"})
        elif form.get("refresh_token") not in self.refresh_tokens:
            return httpx.Response(400, json={"error": "invalid_grant"})
        return httpx.Response(200, json=self.tokens(form["client_id"]))

    def tokens(self, client_id: str) -> dict[str, object]:
        now = int(time.time())
        refresh = f"rt-{len(self.grants)}"
        self.refresh_tokens.add(refresh)
        claims = {
            "iss": f"{AUTHORITY}/v2.0",
            "aud": client_id,
            "sub": "user-1",
            "oid": "user-1",
            "tid": "tenant1",
            "preferred_username": "ada@example.test",
            "iat": now,
            "exp": now + 3600,
        }
        return {
            "token_type": "Bearer",
            "access_token": f"at-{len(self.grants)}",
            "refresh_token": refresh,
            "expires_in": 3600,
            "scope": SCOPE,
            "id_token": f"{_b64({'alg': 'none'})}.{_b64(claims)}.",
            "client_info": _b64({"uid": "user-1", "utid": "tenant1"}),
        }


def device_auth(identity: Identity, cache: Path, prompts: list[str]) -> DeviceCodeAuth:
    return DeviceCodeAuth(
        TOKEN_URL,
        "public-app",
        SCOPE,
        cache,
        prompts.append,
        transport=httpx.MockTransport(identity.handle),
    )


def test_device_code_asks_once_then_renews_silently(tmp_path: Path) -> None:
    identity, prompts = Identity(), []
    cache = tmp_path / "cache" / "tokens.json"
    auth = device_auth(identity, cache, prompts)
    assert auth.header_value() == "Bearer at-2"  # one pending poll, then the token
    assert prompts == ["Open https://login.example.test/device and enter ABCD-EFGH"]
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    auth.invalidate()
    assert auth.header_value() == "Bearer at-3" and identity.grants[-1] == "refresh_token"
    # a restart reads the cache: silent acquisition first, no new prompt
    again = device_auth(identity, cache, prompts)
    assert again.header_value().startswith("Bearer at-") and len(prompts) == 1
    assert "rt-" not in repr(again) and "at-" not in repr(again)


def test_device_code_endpoint_trouble_is_transient(tmp_path: Path) -> None:
    identity = Identity()
    identity.down = True
    auth = device_auth(identity, tmp_path / "t.json", [])
    with pytest.raises(TransientError, match="temporarily unavailable"):
        auth.header_value()


def test_a_corrupt_cache_is_named(tmp_path: Path) -> None:
    cache = tmp_path / "t.json"
    cache.write_text("{not json")
    auth = device_auth(Identity(), cache, [])
    with pytest.raises(ConfigError, match=r"token cache .*t.json is not a valid msal cache"):
        auth.header_value()
