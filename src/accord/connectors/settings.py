"""Typed connection settings: the fields every connection has, plus one auth variant.

A connector subclasses :class:`ConnectionSettings` with its own fields and the auth kinds it
accepts; the CLI's ``connect`` options and the stored settings document come from that model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from accord.connectors.auth_settings import (
    ApiKey,
    AuthSettings,
    Basic,
    ClientCredentials,
    DeviceCode,
    JwtBearer,
    RefreshToken,
    SessionLogin,
)

if TYPE_CHECKING:
    import httpx

__all__ = [
    "AUTH_KINDS",
    "SECRET_OPTIONS",
    "ApiKey",
    "AuthSettings",
    "Basic",
    "ClientCredentials",
    "ConnectionSettings",
    "DeviceCode",
    "JwtBearer",
    "RefreshToken",
    "SessionLogin",
    "auth_model",
]

_VARIANTS: tuple[type[BaseModel], ...] = (
    ClientCredentials,
    DeviceCode,
    JwtBearer,
    RefreshToken,
    ApiKey,
    Basic,
    SessionLogin,
)
SECRET_OPTIONS = frozenset({"webhook_key", "webhook_secret"})
"""Options that are secrets (a receiver's key, a signing secret): held as ``SecretStr``, so
they are sealed at rest like credentials and masked wherever settings are shown."""
AUTH_KINDS: tuple[str, ...] = tuple(v.model_fields["kind"].default for v in _VARIANTS)
"""Every auth kind, in the order the CLI lists them."""


def auth_model(kind: str) -> type[BaseModel]:
    """The auth settings model of ``kind``; the error lists the valid kinds."""
    for variant in _VARIANTS:
        if variant.model_fields["kind"].default == kind:
            return variant
    raise ValueError(f"unknown auth kind {kind!r}; valid: {', '.join(AUTH_KINDS)}")


class ConnectionSettings(BaseModel):
    """Everything needed to reach one system; secrets are ``SecretStr``, encrypted at rest.

    ``base_url`` is the API root; ``auth`` one variant of :data:`AuthSettings`; ``options``
    carries tuning choices (``page_size``, ``batch_size``, ``retry``, ``rate_limit``, ...).
    Subclasses add typed fields and narrow ``accepted_auth``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    accepted_auth: ClassVar[tuple[str, ...]] = AUTH_KINDS
    """The auth kinds this system accepts, the default first."""

    name: str = Field(min_length=1)
    system: str = Field(min_length=1)
    base_url: str = Field(min_length=1)
    ca_cert: str | None = None
    auth: Annotated[AuthSettings, Field(discriminator="kind")]
    options: Mapping[str, Any] = Field(default_factory=dict)
    cache_dir: Path | None = Field(default=None, exclude=True)
    """Where token caches live (device code); set by the hub, never stored."""

    @field_validator("options", mode="after")
    @classmethod
    def _secret_options(cls, options: Mapping[str, Any]) -> Mapping[str, Any]:
        """Secret options become ``SecretStr`` (also when an older state stored them plain)."""
        if not SECRET_OPTIONS & set(options):
            return options
        return {
            k: SecretStr(str(v)) if k in SECRET_OPTIONS and not isinstance(v, SecretStr) else v
            for k, v in options.items()
        }

    def secret_option(self, name: str) -> str | None:
        """The plain value of the secret option ``name``, or None when it is not set."""
        value = self.options.get(name)
        if isinstance(value, SecretStr):
            return value.get_secret_value() or None
        return str(value) if value else None

    def default_scope(self) -> str | None:
        """The OAuth scope requested when the auth settings name none."""
        return None

    @model_validator(mode="after")
    def _system_and_auth_fit(self) -> ConnectionSettings:
        own = type(self).model_fields["system"].default
        if isinstance(own, str) and self.system != own:
            raise ValueError(f"system {self.system!r} does not match {own!r} settings")
        kind = self.auth.kind
        if kind not in self.accepted_auth:
            raise ValueError(
                f"auth kind {kind!r} is not accepted by {self.system}; "
                f"valid: {', '.join(self.accepted_auth)}"
            )
        scope = self.default_scope()
        if scope and getattr(self.auth, "scope", "") is None:
            object.__setattr__(self, "auth", self.auth.model_copy(update={"scope": scope}))
        return self

    def build_auth(self) -> httpx.Auth:
        """The ``httpx.Auth`` of this connection's auth variant."""
        return self.auth.build(self.ca_cert, self.cache_dir)

    @property
    def principal(self) -> str:
        """Who signs in (client id, user name or a key digest), e.g. for rate-limit keys."""
        for attribute in ("client_id", "username"):
            value = getattr(self.auth, attribute, None)
            if isinstance(value, str):
                return value
        key = getattr(self.auth, "key", None)
        if isinstance(key, SecretStr):
            return hashlib.sha256(key.get_secret_value().encode()).hexdigest()[:12]
        return self.auth.kind

    @classmethod
    def extra_fields(cls) -> dict[str, Any]:
        """The fields a connector adds to the base model (name -> pydantic field info)."""
        return {k: v for k, v in cls.model_fields.items() if k not in _BASE_FIELDS}

    @classmethod
    def from_sandbox(cls, facts: Mapping[str, Any], name: str, **values: Any) -> Any:
        """Settings reaching a sandbox from its published facts (``sandbox up --json``).

        ``facts`` give ``base_url``, ``ca_cert`` and either an ``auth`` document or the
        client-credentials facts (``token_url``, ``client_id``, ``client_secret``, ``scope``).
        ``values`` set connector fields or, when not one, go to ``options``.
        """
        auth = facts.get("auth") or {
            "kind": "client_credentials",
            "token_url": facts["token_url"],
            "client_id": facts["client_id"],
            "client_secret": facts["client_secret"],
            "scope": facts.get("scope"),
        }
        fields = cls.extra_fields()
        document: dict[str, Any] = {
            "name": name,
            "system": facts["system"],
            "base_url": facts["base_url"],
            "ca_cert": facts.get("ca_cert"),
            "auth": auth,
            "options": {k: v for k, v in values.items() if k not in fields},
        }
        document.update({k: v for k, v in values.items() if k in fields})
        return cls.model_validate(document)


_BASE_FIELDS = frozenset(ConnectionSettings.model_fields)
