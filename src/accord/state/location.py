"""Where the state lives: the SQLite file (if any), its folder and the secret key beside it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from accord.errors import ConfigError
from accord.state.db import normalize_url
from accord.state.secrets import KEY_FILE, SecretBox


class NoStateError(ConfigError):
    """The state database does not exist yet (a read-only command creates nothing)."""


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (None for PostgreSQL and in-memory SQLite)."""
    try:
        parsed = make_url(normalize_url(url))
    except ArgumentError as exc:
        raise ConfigError(f"invalid database URL {url!r}: {exc}", location="database") from exc
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).absolute()


def key_box(url: str, home: Path, key: str | None) -> SecretBox:
    """The secret box of the state at ``url``: ``key`` if given, else ``secret.key`` beside
    the SQLite file (PostgreSQL: in ``home``); ``<home>/secret.key`` is still read when only
    it exists (the layout before ADR 0009)."""
    database = sqlite_file(url)
    legacy = home.absolute() / KEY_FILE
    primary = database.parent / KEY_FILE if database is not None else legacy
    return SecretBox(key, path=primary, fallbacks=[legacy])


def check_state(url: str, home: Path, *, create: bool) -> None:
    """Refuse a SQLite state that does not exist when ``create`` is false; when it is true,
    create only the home folder (never another missing folder, which is named instead)."""
    database = sqlite_file(url)
    if database is None or database.exists():
        return
    if not create:
        raise NoStateError(
            f"no state yet: {database} does not exist; set up with 'accord connect' "
            "and 'accord init' (or point --database-url / --home at an existing state)"
        )
    folder = database.parent
    if folder.is_dir():
        return
    if folder == home.absolute():
        folder.mkdir(parents=True, exist_ok=True)
        return
    raise ConfigError(
        f"folder {folder} does not exist (for the state database {database.name}); "
        "create it first or choose another path",
        location="database",
    )
