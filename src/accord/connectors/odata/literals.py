"""OData v4 ``$filter`` literals and small expression builders."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from accord.connectors.base import FieldType

Precision = Literal["ms", "s"]
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_GUID_TYPES = frozenset({FieldType.GUID, FieldType.LOOKUP})


def string(value: str) -> str:
    """``O'Brien`` -> ``'O''Brien'``."""
    return "'" + value.replace("'", "''") + "'"


def guid(value: str | uuid.UUID) -> str:
    """A GUID literal: unquoted, lower case; rejects anything that is not a GUID."""
    text = str(value)
    if not _GUID.match(text):
        raise ValueError(f"not a GUID: {text!r}")
    return text.lower()


def is_guid(value: object) -> bool:
    return isinstance(value, uuid.UUID) or (isinstance(value, str) and bool(_GUID.match(value)))


def to_utc(value: datetime) -> datetime:
    """Aware UTC; a naive datetime is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def datetime_literal(value: datetime, precision: Precision = "ms") -> str:
    """Unquoted UTC ``2019-08-18T20:05:51.603Z`` (``ms``) or ``2019-08-18T20:05:51Z`` (``s``).

    Sub-precision digits are truncated, so ``gt`` never skips a record at the boundary.
    """
    utc = to_utc(value)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if precision == "ms":
        text += f".{utc.microsecond // 1000:03d}"
    return text + "Z"


def decimal_literal(value: Decimal | float) -> str:
    """Plain notation, exact: ``Decimal("1E+2")`` -> ``100``, ``0.1`` -> ``0.1``."""
    exact = Decimal(repr(value)) if isinstance(value, float) else value
    if not exact.is_finite():
        raise ValueError(f"no OData literal for the number {value}")
    return format(exact, "f")


def literal(value: Any, kind: FieldType | None = None, precision: Precision = "ms") -> str:
    """The ``$filter`` literal of ``value``; ``kind`` decides between GUID and text."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        return decimal_literal(value)
    if isinstance(value, datetime):
        return datetime_literal(value, precision)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return guid(value)
    if isinstance(value, str):
        if kind in _GUID_TYPES:
            return guid(value)
        return string(value)
    raise TypeError(f"no OData literal for {type(value).__name__} value {value!r}")


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def eq_filter(
    equals: Mapping[str, Any],
    *,
    case_sensitive: bool = True,
    types: Mapping[str, FieldType] | None = None,
    precision: Precision = "ms",
) -> str | None:
    """``a eq 1 and tolower(b) eq 'x'``; blank values are never criteria (None if none left).

    Text is compared through ``tolower()`` on both sides unless ``case_sensitive``.
    """
    types = types or {}
    parts: list[str] = []
    for name, value in equals.items():
        if is_blank(value):
            continue
        kind = types.get(name)
        if kind is None and is_guid(value):
            kind = FieldType.GUID
        if isinstance(value, str) and kind not in _GUID_TYPES and not case_sensitive:
            parts.append(f"tolower({name}) eq {string(value.lower())}")
        else:
            parts.append(f"{name} eq {literal(value, kind, precision)}")
    return " and ".join(parts) or None


def in_filter(name: str, values: Iterable[Any], kind: FieldType | None = None) -> str:
    """``name in (v1,v2)``; a single value becomes ``name eq v1`` (same meaning, and some
    parsers cannot read a one-element list)."""
    items = [literal(v, kind) for v in values]
    if len(items) == 1:
        return f"{name} eq {items[0]}"
    return f"{name} in ({','.join(items)})"


def and_filters(*parts: str | None) -> str | None:
    """Join the non-empty parts with ``and``, parenthesizing each when there are several."""
    present = [p for p in parts if p]
    if len(present) <= 1:
        return present[0] if present else None
    return " and ".join(f"({p})" for p in present)


def parse_datetime(text: str | None) -> datetime | None:
    """Parse an OData ``Edm.DateTimeOffset`` into an aware UTC datetime."""
    if not text:
        return None
    return to_utc(datetime.fromisoformat(text))
