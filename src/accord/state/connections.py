"""Connection rows: one settings document per row, secrets sealed.

Every ``SecretStr`` of a settings document is stored as ``{"$secret": <Fernet token>}``;
reading opens them again. Which system's settings model a document is typed by is the
services' concern (:mod:`accord.services.connections`): this layer knows no connector.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.errors import ConfigError
from accord.state.models import Connection
from accord.state.secrets import SecretBox

SEALED = "$secret"
"""Key of a sealed secret inside a stored settings document."""


def seal(value: Any, box: SecretBox) -> Any:
    """``value`` with every ``SecretStr`` replaced by ``{"$secret": <encrypted>}``."""
    if isinstance(value, SecretStr):
        return {SEALED: box.encrypt(value.get_secret_value())}
    if isinstance(value, Mapping):
        return {str(k): seal(v, box) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [seal(v, box) for v in value]
    return value


def unseal(value: Any, box: SecretBox) -> Any:
    """``value`` with every ``{"$secret": <encrypted>}`` replaced by the plain secret."""
    if isinstance(value, Mapping):
        if set(value) == {SEALED}:
            return box.decrypt(str(value[SEALED]))
        return {k: unseal(v, box) for k, v in value.items()}
    if isinstance(value, list):
        return [unseal(v, box) for v in value]
    return value


def store_document(
    session: Session, box: SecretBox, name: str, system: str, document: Mapping[str, Any]
) -> None:
    """Insert or replace the connection ``name``; the document's secrets are stored sealed."""
    row = session.scalar(select(Connection).where(Connection.name == name))
    if row is None:
        row = Connection(name=name)
        session.add(row)
    row.system = system
    row.settings = seal(document, box)


def read_document(session: Session, box: SecretBox, name: str) -> dict[str, Any]:
    """The connection ``name``'s settings document, secrets opened, with its name and system."""
    row = session.scalar(select(Connection).where(Connection.name == name))
    if row is None:
        names = connection_names(session)
        raise ConfigError(
            f"no connection named {name!r}; known connections: "
            f"{', '.join(names) or '(none; run accord connect)'}"
        )
    return {**unseal(row.settings, box), "name": row.name, "system": row.system}


def seal_plain_options(session: Session, box: SecretBox, secret_options: Collection[str]) -> int:
    """Seal secret options an older Accord stored in clear (``webhook_key``,
    ``webhook_secret``); returns how many connections changed. Nothing is done while the key
    cannot be opened: sealing with a new key would lock out the secrets already sealed."""
    changed = 0
    rows = session.scalars(select(Connection)).all()
    plain = [r for r in rows if _plain_secret_options(r.settings, secret_options)]
    if plain and not box.can_open:
        return 0
    for row in plain:
        options = dict(row.settings["options"])
        for key in _plain_secret_options(row.settings, secret_options):
            options[key] = {SEALED: box.encrypt(str(options[key]))}
        row.settings = {**row.settings, "options": options}
        changed += 1
    return changed


def _plain_secret_options(document: Any, secret_options: Collection[str]) -> list[str]:
    options = document.get("options") if isinstance(document, Mapping) else None
    if not isinstance(options, Mapping):
        return []
    return [k for k in secret_options if k in options and not isinstance(options[k], Mapping)]


def connection_names(session: Session) -> list[str]:
    """Names of the saved connections, sorted."""
    return sorted(session.scalars(select(Connection.name)).all())
