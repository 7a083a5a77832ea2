"""Schema of the sandboxes' entity store: field and entity-set shapes, the exact decimal
column, and the reject rules tests use to make one record fail."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import sqlalchemy as sa

from accord.sandboxes.common.clock import format_ms

FieldType = Literal["str", "guid", "int", "float", "bool", "datetime", "date"]
Row = dict[str, Any]
VERSION = "__v"
COMPANY = "__co"


def decimal_order(left: str, right: str) -> int:
    """SQLite collation ``DECIMAL``: decimal texts in numeric order (else text order)."""
    a: Decimal | str
    b: Decimal | str
    try:
        a, b = Decimal(left), Decimal(right)
    except InvalidOperation:
        a, b = left, right
    return int(a > b) - int(a < b)  # type: ignore[operator]


class ExactDecimal(sa.types.TypeDecorator[Decimal]):
    """An ``Edm.Decimal`` column kept exact: stored as text, compared and sorted as a number
    (the ``DECIMAL`` collation), read back as :class:`~decimal.Decimal`."""

    impl = sa.Text
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        return dialect.type_descriptor(sa.Text(collation="DECIMAL"))

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value))


SQL_TYPES: dict[str, Callable[[], sa.types.TypeEngine[Any]]] = {
    "str": lambda: sa.Text(collation="NOCASE"),
    "guid": lambda: sa.String(36),
    "int": sa.Integer,
    "float": ExactDecimal,
    "bool": sa.Boolean,
    "datetime": lambda: sa.String(32),
    "date": lambda: sa.String(10),
}


@dataclass(frozen=True)
class Field:
    """One column of an entity set."""

    name: str
    type: FieldType = "str"
    max_length: int | None = None
    read_only: bool = False
    default: Any = None
    index: bool = False


@dataclass(frozen=True)
class EntitySpec:
    """Shape of one entity set as the store sees it."""

    name: str
    key: str
    fields: tuple[Field, ...]
    modified: str | None = None
    created: str | None = None
    scoped: bool = False
    time_format: Callable[[datetime], str] = format_ms
    type_name: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    view_of: str | None = None
    """The entity set whose rows this one shows (another API page over the same table): one
    table holds the columns of both, each set serves its own fields, and a write through
    either changes the same row."""

    @property
    def field_map(self) -> dict[str, Field]:
        """Fields by name."""
        return {f.name: f for f in self.fields}

    @property
    def names(self) -> list[str]:
        """Field names in declaration order."""
        return [f.name for f in self.fields]


class RejectedError(Exception):
    """A write matched a reject rule (used to make one record fail on purpose)."""


@dataclass(frozen=True)
class RejectRule:
    """Refuse writes whose ``field`` equals ``value`` on ``entity``."""

    entity: str
    field: str
    value: Any
    message: str
