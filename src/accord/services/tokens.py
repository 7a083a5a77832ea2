"""API tokens: issued once, stored only as a SHA-256 hash, revocable.

A token is ``acc_`` followed by 32 random bytes (URL-safe base64); it is shown once, when it
is created. Its first characters (``prefix``) name it in listings.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from accord.errors import AccordError, ConfigError, Phase
from accord.services.hub import Hub
from accord.state.runtime_tables import ApiToken
from accord.state.types import utcnow

TOKEN_PREFIX = "acc_"
SHOWN = 12
"""Characters of a token kept in clear to name it (``acc_`` and 8 more)."""


class TokenRefused(AccordError):
    """An API call's token is missing, unknown or revoked (the message says which)."""

    def __init__(self, message: str):
        super().__init__(message, phase=Phase.AUTH)


@dataclass(frozen=True)
class TokenInfo:
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(row.name, row.prefix, row.created_at, row.last_used_at, row.revoked_at)


def create(hub: Hub, name: str) -> tuple[str, TokenInfo]:
    """Issue a token named ``name``; returns it in clear (the only time) and its record."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ConfigError("a token name must have 1 to 100 characters", location="name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with hub.db.session() as session:
        if session.scalar(select(ApiToken).where(ApiToken.name == name)) is not None:
            raise ConfigError(f"a token named {name!r} exists already; pick another name")
        row = ApiToken(name=name, prefix=token[:SHOWN], token_hash=digest(token))
        session.add(row)
        session.flush()
        return token, _info(row)


def listing(hub: Hub) -> list[TokenInfo]:
    with hub.db.session() as session:
        return [_info(r) for r in session.scalars(select(ApiToken).order_by(ApiToken.id))]


def revoke(hub: Hub, name: str) -> TokenInfo:
    """Revoke the token named ``name`` (at once: the next call with it is refused)."""
    with hub.db.session() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.name == name))
        if row is None:
            known = ", ".join(session.scalars(select(ApiToken.name))) or "(none)"
            raise ConfigError(f"no token named {name!r}; known: {known}")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
        return _info(row)


def verify(hub: Hub, token: str | None) -> TokenInfo:
    """The live token ``token`` names; :class:`TokenRefused` saying why when there is none."""
    if not token:
        raise TokenRefused(
            "no API token: send the header 'Authorization: Bearer <token>' "
            "(issue one with 'accord tokens create NAME')"
        )
    with hub.db.session() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(token)))
        if row is None:
            raise TokenRefused("unknown API token")
        if row.revoked_at is not None:
            raise TokenRefused(
                f"API token {row.name!r} was revoked at {row.revoked_at:%Y-%m-%d %H:%M:%S} UTC"
            )
        row.last_used_at = utcnow()
        return _info(row)
