"""Database engines and sessions for SQLite (default) and PostgreSQL, migrated by Alembic."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from accord.errors import ConfigError, Phase, TerminalError
from accord.state.types import dumps_json, loads_json

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` URLs and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    """Create an engine for ``url``; SQLite files get WAL (their folder must exist)."""
    url = normalize_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"invalid database URL {url!r}: {exc}", location="database") from exc
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"timeout": 30},
            json_serializer=dumps_json,
            json_deserializer=loads_json,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise ConfigError(
            f"unsupported database {parsed.get_backend_name()!r}; valid: sqlite, postgresql",
            location="database",
        )
    return create_engine(
        url, pool_pre_ping=True, json_serializer=dumps_json, json_deserializer=loads_json
    )


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            # SQLite rebuilds a table to alter it; with foreign keys on, dropping the old
            # copy would cascade-delete every row that refers to it (couplings, jobs).
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        with connection.begin():
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


def safe_url(url: str) -> str:
    """``url`` with its password masked, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def unreachable(url: str, exc: DBAPIError) -> TerminalError:
    """A clear error for a state database that cannot be opened or reached."""
    reason = str(exc.orig or exc).strip().splitlines()
    return TerminalError(
        f"cannot open the state database {safe_url(url)}: {reason[0] if reason else exc}",
        phase=Phase.STATE,
    )


class Database:
    """An engine plus a session factory; ``session()`` is a unit of work that commits."""

    def __init__(self, url: str, *, run_migrations: bool = True):
        self.url = normalize_url(url)
        self.engine = make_engine(self.url)
        if run_migrations:
            try:
                migrate(self.engine)
            except DBAPIError as exc:
                self.engine.dispose()
                raise unreachable(self.url, exc) from exc
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def new_session(self) -> Session:
        """A session whose transactions the caller manages."""
        return self._sessions()

    def dispose(self) -> None:
        self.engine.dispose()
