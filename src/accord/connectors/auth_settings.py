"""The auth variants a connection can use, one pydantic model each, told apart by ``kind``.

Each variant's ``build(ca_cert, cache_dir)`` makes the ``httpx.Auth`` that signs requests,
from the classes of :mod:`accord.connectors.http.auth` (imported on first use).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from accord.errors import ConfigError

__all__ = [
    "ApiKey",
    "AuthSettings",
    "Basic",
    "ClientCredentials",
    "DeviceCode",
    "JwtBearer",
    "RefreshToken",
    "SessionLogin",
    "stderr_prompt",
]

DEVICE_CODE_CACHE = "device-code-tokens.json"
"""File name of the device-code token cache inside a connection's cache folder."""


def stderr_prompt(message: str) -> None:
    """Show a device-code sign-in instruction to the person at the terminal."""
    print(message, file=sys.stderr, flush=True)


def _secret(value: SecretStr | None) -> str | None:
    return None if value is None else value.get_secret_value()


class _Auth(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClientCredentials(_Auth):
    """OAuth 2.0 client credentials (Microsoft Entra ID through msal)."""

    kind: Literal["client_credentials"] = "client_credentials"
    token_url: str = Field(min_length=1)
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    scope: str | None = None

    def build(self, ca_cert: str | None, cache_dir: Path | None) -> httpx.Auth:
        if not self.scope:
            raise ConfigError("auth.scope is required for client_credentials (none by default)")
        from accord.connectors.http.auth import ClientCredentialsAuth

        return ClientCredentialsAuth(
            self.token_url,
            self.client_id,
            self.client_secret.get_secret_value(),
            self.scope,
            ca_cert=ca_cert,
        )


class DeviceCode(_Auth):
    """Delegated sign-in as a user with msal's device-code flow; tokens cached on disk."""

    kind: Literal["device_code"] = "device_code"
    token_url: str = Field(min_length=1)
    client_id: str = Field(min_length=1)
    scope: str | None = None

    def build(self, ca_cert: str | None, cache_dir: Path | None) -> httpx.Auth:
        if not self.scope:
            raise ConfigError("auth.scope is required for device_code (none by default)")
        from accord.connectors.http.auth import DeviceCodeAuth

        return DeviceCodeAuth(
            self.token_url,
            self.client_id,
            self.scope,
            cache_dir / DEVICE_CODE_CACHE if cache_dir else None,
            stderr_prompt,
            ca_cert=ca_cert,
        )


class JwtBearer(_Auth):
    """OAuth 2.0 JWT bearer grant (Salesforce): a signed assertion for ``username``."""

    kind: Literal["jwt_bearer"] = "jwt_bearer"
    token_url: str = Field(min_length=1)
    client_id: str = Field(min_length=1)
    username: str = Field(min_length=1)
    private_key: SecretStr
    audience: str = Field(min_length=1)

    def build(self, ca_cert: str | None, cache_dir: Path | None) -> httpx.Auth:
        from accord.connectors.http.auth import JwtBearerAuth

        return JwtBearerAuth(
            self.token_url,
            self.client_id,
            self.username,
            self.private_key.get_secret_value(),
            self.audience,
            ca_cert=ca_cert,
        )


class RefreshToken(_Auth):
    """OAuth 2.0 refresh-token grant (a long-lived token from an earlier sign-in)."""

    kind: Literal["refresh_token"] = "refresh_token"
    token_url: str = Field(min_length=1)
    client_id: str = Field(min_length=1)
    refresh_token: SecretStr
    client_secret: SecretStr | None = None

    def build(self, ca_cert: str | None, cache_dir: Path | None) -> httpx.Auth:
        from accord.connectors.http.auth import RefreshTokenAuth

        return RefreshTokenAuth(
            self.token_url,
            self.client_id,
            self.refresh_token.get_secret_value(),
            client_secret=_secret(self.client_secret),
            ca_cert=ca_cert,
        )


class ApiKey(_Auth):
    """A key sent in a header on every request (``prefix`` before it, e.g. ``Bearer ``)."""

    kind: Literal["api_key"] = "api_key"
    header: str = Field(default="Authorization", min_length=1)
    key: SecretStr
    prefix: str = ""

    def build(self, ca_cert: str | None, cache_dir: Path | None) -> httpx.Auth:
        from accord.connectors.http.auth import ApiKeyAuth

        return ApiKeyAuth(self.header, self.key.get_secret_value(), prefix=self.prefix)


class Basic(_Auth):
    """HTTP basic authentication."""

    kind: Literal["basic"] = "basic"
    username: str = Field(min_length=1)
    password: SecretStr

    def build(self, ca_cert: str | None, cache_dir: Path | None) -> httpx.Auth:
        from accord.connectors.http.auth import BasicAuth

        return BasicAuth(self.username, self.password.get_secret_value())


class SessionLogin(_Auth):
    """A login call that returns a session token (``token_field`` of its JSON answer)."""

    kind: Literal["session_login"] = "session_login"
    login_url: str = Field(min_length=1)
    username: str = Field(min_length=1)
    password: SecretStr
    token_field: str = Field(default="token", min_length=1)

    def build(self, ca_cert: str | None, cache_dir: Path | None) -> httpx.Auth:
        from accord.connectors.http.auth import SessionLoginAuth

        return SessionLoginAuth(
            self.login_url,
            self.username,
            self.password.get_secret_value(),
            token_field=self.token_field,
            ca_cert=ca_cert,
        )


AuthSettings = (
    ClientCredentials | DeviceCode | JwtBearer | RefreshToken | ApiKey | Basic | SessionLogin
)
"""One auth variant; a connection's ``auth`` field discriminates on ``kind``."""
