"""Saving and loading connections typed by their system's settings model (the state layer
stores the documents; the connectors' registry says what a document's system expects)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from accord.connectors.registry import ConnectionSettings, settings_from_document
from accord.connectors.settings import SECRET_OPTIONS
from accord.state import connections as rows
from accord.state.secrets import SecretBox


def save_connection(session: Session, box: SecretBox, settings: ConnectionSettings) -> None:
    """Insert or replace a connection; its secrets are stored encrypted."""
    document = settings.model_dump(mode="python")
    rows.store_document(session, box, settings.name, settings.system, document)


def load_connection(session: Session, box: SecretBox, name: str) -> ConnectionSettings:
    """The connection called ``name``, typed by its system's settings model."""
    return settings_from_document(rows.read_document(session, box, name))


def seal_plain_options(session: Session, box: SecretBox) -> int:
    """Seal the secret options an older Accord stored in clear; how many connections changed."""
    return rows.seal_plain_options(session, box, SECRET_OPTIONS)
