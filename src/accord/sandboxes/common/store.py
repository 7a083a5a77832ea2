"""SQLite-backed entity store shared by the sandboxes.

One SQLAlchemy Core table per entity set, one column per field, plus two internal
columns: ``__v`` (row version from a single store-wide counter, used for etags and change
tracking) and ``__co`` (company, for company-scoped Business Central entities). Deleted rows
leave a tombstone. Text columns compare case-insensitively, like the SQL Server collation
behind both services [I]. Writes made through the Python API bump versions and modified times
exactly like API writes, so tests can play "another user".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from accord.sandboxes.common.clock import Clock
from accord.sandboxes.common.store_schema import (
    COMPANY,
    VERSION,
    EntitySpec,
    ExactDecimal,
    Field,
    FieldType,
    RejectedError,
    RejectRule,
    Row,
)
from accord.sandboxes.common.store_tables import TableStore

__all__ = [
    "COMPANY",
    "VERSION",
    "EntitySpec",
    "ExactDecimal",
    "Field",
    "FieldType",
    "RejectRule",
    "RejectedError",
    "Row",
    "Store",
]


class Store(TableStore):
    """The entity store: raw tables plus the reject rules and the public row API that tests
    and the demo use to play "another user"."""

    def __init__(self, specs: Iterable[EntitySpec], path: str, clock: Clock) -> None:
        super().__init__(specs, path, clock)
        self.reject_rules: list[RejectRule] = []

    # ------------------------------------------------------------------ reject rules
    def reject(self, entity: str, field_name: str, value: Any, message: str | None = None) -> None:
        """Make API writes of ``entity`` rows with ``field == value`` fail (400)."""
        text = message or f"The value '{value}' of field '{field_name}' is not allowed."
        self.reject_rules.append(RejectRule(entity, field_name, value, text))

    def clear_rejects(self) -> None:
        """Drop every reject rule."""
        self.reject_rules.clear()

    def check_rejects(self, entity: str, row: Row) -> None:
        """Raise RejectedError when ``row`` matches a reject rule."""
        owner = self.storage.get(entity, entity)
        for rule in self.reject_rules:  # a rule on a table holds for every page over it
            if self.storage.get(rule.entity, rule.entity) == owner and (
                row.get(rule.field) == rule.value
            ):
                raise RejectedError(rule.message)

    # ------------------------------------------------------------------ public API
    def _public(self, row: Row | None) -> Row | None:
        if row is None:
            return None
        return {k: v for k, v in row.items() if k not in (VERSION, COMPANY)}

    def insert(self, entity: str, values: Row, company: str | None = None) -> Row:
        """Insert a row as "another user" would; returns the stored fields."""
        out = self._public(self.insert_raw(entity, values, company))
        assert out is not None
        return out

    def update(self, entity: str, key: str, values: Row, company: str | None = None) -> Row:
        """Update a row; KeyError if it does not exist."""
        out = self._public(self.update_raw(entity, key, values, company))
        if out is None:
            raise KeyError(f"{entity}({key}) does not exist")
        return out

    def delete(self, entity: str, key: str, company: str | None = None) -> None:
        """Delete a row (tombstone kept); KeyError if it does not exist."""
        if self.delete_raw(entity, key, company) is None:
            raise KeyError(f"{entity}({key}) does not exist")

    def get(self, entity: str, key: str, company: str | None = None) -> Row | None:
        """A row's fields, or None."""
        return self._public(self.get_raw(entity, key, company))

    def row_version(self, entity: str, key: str, company: str | None = None) -> int | None:
        """The current row version (what the etag encodes), or None."""
        row = self.get_raw(entity, key, company)
        return None if row is None else int(row[VERSION])

    def count(self, entity: str, company: str | None = None) -> int:
        """Number of rows (in the company for scoped entities)."""
        spec = self.specs[entity]
        t = self.tables[entity]
        stmt = sa.select(sa.func.count()).select_from(t)
        if spec.scoped:
            stmt = stmt.where(t.c[COMPANY] == self._scope(spec, company))
        return int(self.scalar(stmt))

    def all(self, entity: str, company: str | None = None) -> list[Row]:
        """Every row's fields ordered by key (for tests and the demo; small tables only)."""
        spec = self.specs[entity]
        t = self.tables[entity]
        stmt = sa.select(t).order_by(t.c[spec.key])
        if spec.scoped:
            stmt = stmt.where(t.c[COMPANY] == self._scope(spec, company))
        return [r for r in (self._public(x) for x in self.rows(stmt)) if r is not None]

    def close(self) -> None:
        """Close the connection and dispose of the engine."""
        with self.lock:
            self.conn.close()
            self.engine.dispose()
