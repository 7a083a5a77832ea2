"""Copy Accord's whole state to another database (SQLite -> PostgreSQL, or any pair).

Both databases are brought to the newest schema first; the target must hold no rows. Every
table is copied in foreign-key order inside one transaction on the target, row counts are
compared before it commits, and PostgreSQL id sequences are moved past the copied ids.
Encrypted connection secrets travel as they are: the secret key must go with them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, MetaData, Table, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from accord.errors import ConfigError
from accord.state.db import Database, normalize_url

CHUNK = 2000
SKIP = frozenset({"alembic_version"})


@dataclass
class CopyResult:
    """Rows copied per table, in the order they were copied."""

    source: str
    target: str
    rows: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "tables": self.rows,
            "total": sum(self.rows.values()),
        }


def safe_url(url: str) -> str:
    """A database URL with its password hidden, for messages."""
    try:
        return make_url(normalize_url(url)).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is reported by Database itself
        return url


def copy_state(source_url: str, target_url: str) -> CopyResult:
    """Copy every row of the state at ``source_url`` into the empty database at
    ``target_url``; nothing is written to the target unless everything is copied."""
    if normalize_url(source_url) == normalize_url(target_url):
        raise ConfigError("the target database is the source database; name another one")
    source = Database(source_url)
    try:
        target = Database(target_url, run_migrations=False)
        try:
            _refuse_rows(target)
            from accord.state.db import migrate

            migrate(target.engine)
            return _copy(source, target)
        finally:
            target.dispose()
    finally:
        source.dispose()


def _tables(db: Database) -> MetaData:
    meta = MetaData()
    meta.reflect(db.engine)
    return meta


def _refuse_rows(target: Database) -> None:
    names = [n for n in inspect(target.engine).get_table_names() if n not in SKIP]
    if not names:
        return
    meta = _tables(target)
    with target.engine.connect() as conn:
        full = [
            name
            for name in names
            if conn.execute(select(func.count()).select_from(meta.tables[name])).scalar()
        ]
    if full:
        raise ConfigError(
            f"the target database {safe_url(target.url)} already holds Accord data "
            f"(tables {', '.join(sorted(full))}); copy into an empty database"
        )


def _copy(source: Database, target: Database) -> CopyResult:
    source_meta, target_meta = _tables(source), _tables(target)
    missing = sorted(set(source_meta.tables) - set(target_meta.tables) - SKIP)
    if missing:
        raise ConfigError(
            f"the target database lacks tables {', '.join(missing)} after migrating; "
            "is it used by another version of Accord?"
        )
    result = CopyResult(safe_url(source.url), safe_url(target.url))
    with source.engine.connect() as reader, target.engine.begin() as writer:
        for table in source_meta.sorted_tables:
            if table.name in SKIP:
                continue
            into = target_meta.tables[table.name]
            columns = [c.name for c in table.columns if c.name in into.columns]
            copied = 0
            for rows in _chunks(reader, table, columns):
                try:
                    writer.execute(into.insert(), rows)
                except DBAPIError as exc:
                    raise ConfigError(
                        f"table {table.name}: the target refused a row "
                        f"({str(exc.orig).strip().splitlines()[0]}); nothing was committed"
                    ) from None
                copied += len(rows)
            counted = writer.execute(select(func.count()).select_from(into)).scalar()
            if counted != copied:
                raise ConfigError(
                    f"table {table.name}: {copied} rows copied but {counted} found in the "
                    "target; nothing was committed"
                )
            result.rows[table.name] = copied
            if writer.dialect.name == "postgresql":
                _advance_sequences(writer, into)
    return result


def _chunks(reader: Connection, table: Table, columns: list[str]) -> Iterator[list[dict[str, Any]]]:
    query = select(*(table.c[name] for name in columns))
    keys = list(table.primary_key.columns)
    if keys:
        query = query.order_by(*keys)
    stream = reader.execution_options(stream_results=True, yield_per=CHUNK).execute(query)
    for part in stream.mappings().partitions(CHUNK):
        yield [dict(row) for row in part]


def _advance_sequences(writer: Connection, table: Table) -> None:
    """Move each serial column's sequence past the largest id copied."""
    for column in table.primary_key.columns:
        sequence = writer.execute(
            text("SELECT pg_get_serial_sequence(:table, :column)"),
            {"table": table.name, "column": column.name},
        ).scalar()
        if sequence is None:
            continue
        writer.execute(
            text(
                f'SELECT setval(:sequence, COALESCE((SELECT MAX("{column.name}") FROM '
                f'"{table.name}"), 0) + 1, false)'
            ),
            {"sequence": sequence},
        )
