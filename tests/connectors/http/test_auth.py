"""Auth variants without msal, each against a tiny in-process token or login endpoint."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from urllib.parse import parse_qs

import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from accord.connectors.http import (
    ApiKeyAuth,
    BasicAuth,
    CredentialAuth,
    HttpClient,
    JwtBearerAuth,
    RefreshTokenAuth,
    SessionLoginAuth,
)
from accord.errors import AuthError, ConfigError, TransientError

API = "https://api.example.test/v1"
TOKEN_URL = "https://login.example.test/services/oauth2/token"
SECRETS = ("pw-Very-Secret", "rt-Very-Secret", "key-Very-Secret", "cs-Very-Secret")


def api(valid: Callable[[str], bool]) -> httpx.MockTransport:
    """An API accepting requests whose Authorization (or X-Api-Key) header passes ``valid``."""

    def handle(request: httpx.Request) -> httpx.Response:
        header = request.headers.get("Authorization") or request.headers.get("X-Api-Key", "")
        if valid(header):
            return httpx.Response(200, json={"ok": True})
        return httpx.Response(401, json=[{"errorCode": "INVALID_SESSION_ID", "message": "no"}])

    return httpx.MockTransport(handle)


def client(auth: CredentialAuth, valid: Callable[[str], bool]) -> HttpClient:
    return HttpClient(API, connection="crm", auth=auth, transport=api(valid))


def assert_no_secret(auth: CredentialAuth, *errors: BaseException) -> None:
    shown = [repr(auth), str(auth), *(str(e) for e in errors)]
    assert not [s for s in SECRETS for text in shown if s in text]


def b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


# -- fixed credentials ----------------------------------------------------------------------
def test_api_key_goes_in_its_header_and_a_401_fails_at_once() -> None:
    auth = ApiKeyAuth("X-Api-Key", "key-Very-Secret")
    http = client(auth, lambda h: h == "key-Very-Secret")
    assert http.get("orders").status_code == 200
    bearer = ApiKeyAuth("Authorization", "wrong", prefix="Bearer ")
    refused = client(bearer, lambda h: False)
    with pytest.raises(AuthError, match=r"connection 'crm'.*INVALID_SESSION_ID") as err:
        refused.get("orders")
    assert refused.request_count == 1  # a fixed key is not sent twice
    assert_no_secret(auth, err.value)


def test_api_key_needs_a_header_name() -> None:
    with pytest.raises(ConfigError, match="needs a header name"):
        ApiKeyAuth(" ", "k")


def test_basic_auth() -> None:
    auth = BasicAuth("ada", "pw-Very-Secret")
    expected = "Basic " + base64.b64encode(b"ada:pw-Very-Secret").decode()
    assert client(auth, lambda h: h == expected).get("x").status_code == 200
    assert_no_secret(auth)


# -- session login ----------------------------------------------------------------------
def login_endpoint(tokens: list[str], status: int = 200) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body != {"username": "ada", "password": "pw-Very-Secret"}:
            return httpx.Response(401, json={"message": "bad credentials"})
        if status != 200:
            return httpx.Response(status, json={"message": "down"})
        tokens.append(f"session-{len(tokens) + 1}")
        return httpx.Response(200, json={"data": {"token": tokens[-1]}})

    return httpx.MockTransport(handle)


def test_session_login_logs_in_again_on_a_401() -> None:
    tokens: list[str] = []
    auth = SessionLoginAuth(
        "https://erp.example.test/login",
        "ada",
        "pw-Very-Secret",
        token_field="data.token",
        header="X-Session",
        prefix="",
        transport=login_endpoint(tokens),
    )
    current = {"valid": "session-1"}
    http = HttpClient(
        API,
        connection="erp",
        auth=auth,
        transport=httpx.MockTransport(
            lambda r: httpx.Response(200 if r.headers.get("X-Session") == current["valid"] else 401)
        ),
    )
    assert http.get("x").status_code == 200 and tokens == ["session-1"]
    current["valid"] = "session-2"  # the server ended the session
    assert http.get("x").status_code == 200 and tokens == ["session-1", "session-2"]
    assert http.request_count == 3
    assert_no_secret(auth)


def test_session_login_refused_and_missing_token_are_named() -> None:
    wrong = SessionLoginAuth(
        "https://erp.example.test/login",
        "ada",
        "pw-Very-Secret-but-wrong",
        transport=login_endpoint([]),
        connection="erp",
    )
    with pytest.raises(AuthError, match=r"connection 'erp' were refused by .*login") as err:
        wrong.header_value()
    assert "pw-Very-Secret" not in str(err.value)
    no_field = SessionLoginAuth(
        "https://erp.example.test/login",
        "ada",
        "pw-Very-Secret",
        token_field="token",
        transport=login_endpoint([]),
        connection="erp",
    )
    with pytest.raises(AuthError, match=r"without a 'token' \(fields: data\)"):
        no_field.header_value()


def test_login_endpoint_trouble_is_transient() -> None:
    auth = SessionLoginAuth(
        "https://erp.example.test/login",
        "ada",
        "pw-Very-Secret",
        transport=login_endpoint([], status=503),
    )
    with pytest.raises(TransientError, match="temporarily unavailable"):
        auth.header_value()


# -- refresh token ----------------------------------------------------------------------
def test_refresh_token_is_used_and_rotated() -> None:
    seen: list[dict[str, str]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        seen.append(form)
        if form["refresh_token"] not in ("rt-Very-Secret", "rt-2"):
            return httpx.Response(400, json={"error": "invalid_grant", "error_description": "x"})
        return httpx.Response(
            200,
            json={
                "access_token": f"at-{len(seen)}",
                "refresh_token": "rt-2",
                "expires_in": 3600,
                "instance_url": "https://org.example.test",
            },
        )

    auth = RefreshTokenAuth(
        TOKEN_URL,
        "app",
        "rt-Very-Secret",
        client_secret="cs-Very-Secret",
        transport=httpx.MockTransport(handle),
    )
    http = client(auth, lambda h: h == "Bearer at-2")
    assert http.get("x").status_code == 200  # at-1 refused, renewed with the rotated token
    assert [f["refresh_token"] for f in seen] == ["rt-Very-Secret", "rt-2"]
    assert seen[0]["grant_type"] == "refresh_token" and seen[0]["client_secret"] == "cs-Very-Secret"
    assert auth.instance_url == "https://org.example.test" and auth.tokens_acquired == 2
    assert_no_secret(auth)


def test_refused_refresh_token_names_the_grant_error() -> None:
    auth = RefreshTokenAuth(
        TOKEN_URL,
        "app",
        "rt-Very-Secret",
        transport=httpx.MockTransport(
            lambda r: httpx.Response(
                400, json={"error": "invalid_grant", "error_description": "expired"}
            )
        ),
        connection="sf",
    )
    with pytest.raises(AuthError, match=r"'sf' were refused by .*invalid_grant: expired") as err:
        auth.header_value()
    assert err.value.detail == "invalid_grant"
    assert_no_secret(auth, err.value)


# -- JWT bearer ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def test_jwt_bearer_posts_an_rs256_assertion_the_server_can_verify(
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    claims_seen: list[dict[str, object]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
        header, payload, signature = form["assertion"].split(".")
        try:
            rsa_key.public_key().verify(
                b64url_decode(signature),
                f"{header}.{payload}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature:
            return httpx.Response(400, json={"error": "invalid_grant", "error_description": "sig"})
        assert json.loads(b64url_decode(header)) == {"alg": "RS256", "typ": "JWT"}
        claims_seen.append(json.loads(b64url_decode(payload)))
        return httpx.Response(
            200, json={"access_token": "at-1", "instance_url": "https://org.example.test"}
        )

    auth = JwtBearerAuth(
        TOKEN_URL,
        "consumer-key",
        "ada@example.test",
        pem(rsa_key),
        "https://login.example.test",
        transport=httpx.MockTransport(handle),
    )
    assert client(auth, lambda h: h == "Bearer at-1").get("x").status_code == 200
    (claims,) = claims_seen
    assert (claims["iss"], claims["sub"], claims["aud"]) == (
        "consumer-key",
        "ada@example.test",
        "https://login.example.test",
    )
    assert 0 < int(str(claims["exp"])) - int(str(claims["iat"])) <= 180
    assert auth.instance_url == "https://org.example.test"
    assert "PRIVATE KEY" not in repr(auth)


def test_jwt_bearer_rejects_a_key_it_cannot_use() -> None:
    with pytest.raises(ConfigError, match=r"connection 'sf': private_key_pem is not an unencr"):
        JwtBearerAuth(TOKEN_URL, "c", "u", "garbage", "aud", connection="sf")
    with pytest.raises(ConfigError, match="must be an RSA key for RS256"):
        JwtBearerAuth(TOKEN_URL, "c", "u", pem(ec.generate_private_key(ec.SECP256R1())), "aud")


def test_an_unreachable_token_endpoint_is_transient() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    auth = RefreshTokenAuth(
        TOKEN_URL, "app", "rt-Very-Secret", transport=httpx.MockTransport(refuse)
    )
    with pytest.raises(TransientError, match=r"token endpoint .* is unreachable: ConnectError"):
        auth.header_value()
