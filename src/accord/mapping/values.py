"""Canonical field values: what counts as equal across two systems."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from accord.connectors.base import FieldType


def canonical(value: Any) -> Any:
    """A canonical form: integral numbers as int, other numbers as a normalized Decimal
    (never float: money and quantities stay exact), text as is."""
    kind = type(value)
    if kind is str or value is None or kind is bool or kind is int:
        return value
    if kind is Decimal:
        return _number(value)
    if kind is float:
        return int(value) if value.is_integer() else _number(Decimal(repr(value)))
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return _number(Decimal(str(value)))
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    return str(value)


def _number(number: Decimal) -> int | Decimal:
    if not number.is_finite():
        return number
    if number == number.to_integral_value():
        return int(number)
    return number.normalize()


def coerce(value: Any, field_type: FieldType | None) -> Any:
    """Convert a canonical value to what a field of ``field_type`` holds (when it can)."""
    if value is None or field_type is None:
        return value
    if field_type is FieldType.STRING:
        return value if type(value) is str else str(value)
    try:
        if field_type in (FieldType.INTEGER, FieldType.OPTION) and isinstance(value, str):
            return int(value) if value.lstrip("-").isdigit() else value
        if field_type is FieldType.DECIMAL and isinstance(value, str) and value:
            return canonical(Decimal(value))
        if field_type is FieldType.BOOLEAN and isinstance(value, str):
            return {"true": True, "false": False}.get(value.lower(), value)
    except ArithmeticError:
        return value
    return value


def same(a: Any, b: Any) -> bool:
    """Equal after canonicalization; an empty string and a missing value are the same."""
    if type(a) is type(b) and a == b:
        return True
    ca, cb = canonical(a), canonical(b)
    if ca in ("", None) and cb in ("", None):
        return True
    return bool(ca == cb)


def content_hash(pairs: Iterable[tuple[str, Any]]) -> str:
    """A stable SHA-256 of named canonical values (order-independent)."""
    payload = json.dumps(
        sorted((k, canonical(v) if v != "" else None) for k, v in pairs),
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()
