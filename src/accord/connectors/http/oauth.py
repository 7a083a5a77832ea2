"""Token grants without msal: JWT bearer (RFC 7523), refresh token, and session login."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from accord.connectors.http.credentials import (
    CredentialAuth,
    TokenEndpoint,
    lifetime_of,
    token_from,
)
from accord.errors import ConfigError

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME = 180
"""Seconds an assertion stays valid (Salesforce accepts at most three minutes)."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _load_rsa_key(pem: str, where: str) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"private_key_pem is not an unencrypted PEM private key ({type(exc).__name__})",
            location=where,
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(
            f"private_key_pem must be an RSA key for RS256, got {type(key).__name__}",
            location=where,
        )
    return key


def signed_assertion(
    key: rsa.RSAPrivateKey, issuer: str, subject: str, audience: str, now: float
) -> str:
    """A compact JWT signed with RS256: ``iss``, ``sub``, ``aud`` and ``exp``."""
    header = _b64url(json.dumps({"alg": "RS256", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "iat": int(now),
        "exp": int(now) + ASSERTION_LIFETIME,
    }
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{payload}.{_b64url(signature)}"


class JwtBearerAuth(CredentialAuth):
    """OAuth 2.0 JWT bearer grant (RFC 7523), as Salesforce's server-to-server flow expects.

    Each token request carries a fresh assertion signed with the connected app's key;
    ``instance_url`` from the answer (when given) is kept for the connector.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        username: str,
        private_key_pem: str,
        audience: str,
        ca_cert: str | None = None,
        *,
        connection: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(connection=connection)
        self.token_url = token_url
        self.client_id = client_id
        self.username = username
        self.audience = audience
        self._key = _load_rsa_key(private_key_pem, f"connection {connection or '?'!r}")
        self._endpoint = TokenEndpoint(token_url, ca_cert, transport=transport)
        self.instance_url: str | None = None

    def fetch(self) -> tuple[str, float | None]:
        assertion = signed_assertion(
            self._key, self.client_id, self.username, self.audience, time.time()
        )
        body = self._endpoint.post(
            self.name, data={"grant_type": JWT_BEARER_GRANT, "assertion": assertion}
        )
        token = token_from(body, "access_token", self.token_url, self.name)
        self.instance_url = str(body.get("instance_url") or "") or self.instance_url
        self.tokens_acquired += 1
        return f"Bearer {token}", lifetime_of(body)

    def close(self) -> None:
        self._endpoint.close()

    def __repr__(self) -> str:
        return (
            f"JwtBearerAuth(token_url={self.token_url!r}, client_id={self.client_id!r}, "
            f"username={self.username!r}, connection={self.connection!r})"
        )


class RefreshTokenAuth(CredentialAuth):
    """Access tokens from a long-lived refresh token (rotated when the server issues a new one)."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        refresh_token: str,
        client_secret: str | None = None,
        ca_cert: str | None = None,
        *,
        connection: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(connection=connection)
        self.token_url = token_url
        self.client_id = client_id
        self._refresh_token = refresh_token
        self._secret = client_secret
        self._endpoint = TokenEndpoint(token_url, ca_cert, transport=transport)
        self.instance_url: str | None = None

    def fetch(self) -> tuple[str, float | None]:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self._refresh_token,
            "client_id": self.client_id,
        }
        if self._secret is not None:
            form["client_secret"] = self._secret
        body = self._endpoint.post(self.name, data=form)
        token = token_from(body, "access_token", self.token_url, self.name)
        rotated = body.get("refresh_token")
        if isinstance(rotated, str) and rotated:
            self._refresh_token = rotated
        self.instance_url = str(body.get("instance_url") or "") or self.instance_url
        self.tokens_acquired += 1
        return f"Bearer {token}", lifetime_of(body)

    def close(self) -> None:
        self._endpoint.close()

    def __repr__(self) -> str:
        return (
            f"RefreshTokenAuth(token_url={self.token_url!r}, client_id={self.client_id!r}, "
            f"connection={self.connection!r})"
        )


class SessionLoginAuth(CredentialAuth):
    """Log in by POSTing JSON credentials; send the returned token; log in again on a 401.

    ``token_field`` may be a dotted path into the answer (``"data.token"``).
    """

    def __init__(
        self,
        login_url: str,
        username: str,
        password: str,
        token_field: str = "token",
        header: str = "Authorization",
        prefix: str = "Bearer ",
        ca_cert: str | None = None,
        *,
        connection: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(header=header, connection=connection)
        self.login_url = login_url
        self.username = username
        self._password = password
        self.token_field = token_field
        self.prefix = prefix
        self._endpoint = TokenEndpoint(login_url, ca_cert, transport=transport)

    def fetch(self) -> tuple[str, float | None]:
        body: Any = self._endpoint.post(
            self.name, json={"username": self.username, "password": self._password}
        )
        *parents, leaf = self.token_field.split(".")
        for part in parents:
            inner = body.get(part) if isinstance(body, dict) else None
            body = inner if isinstance(inner, dict) else {}
        token = token_from(body, leaf, self.login_url, self.name)
        self.tokens_acquired += 1
        return f"{self.prefix}{token}", None

    def close(self) -> None:
        self._endpoint.close()

    def __repr__(self) -> str:
        return (
            f"SessionLoginAuth(login_url={self.login_url!r}, username={self.username!r}, "
            f"connection={self.connection!r})"
        )
