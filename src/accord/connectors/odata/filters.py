"""Typed filters (:mod:`accord.config.filters`) rendered as OData v4 ``$filter`` text."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from accord.config.filters import Filter
from accord.connectors.base import FieldType
from accord.connectors.odata.literals import Precision, datetime_literal, literal
from accord.errors import ConfigError

_COMPARISONS = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})


def render_odata(
    filter: Filter, types: Mapping[str, FieldType], precision: Precision = "ms"
) -> str:
    """``filter`` as ``$filter`` text; ``types`` (field -> type) picks each value's literal:
    text quoted with ``''`` escapes, GUIDs bare, dates and datetimes bare ISO, decimals in
    plain notation, ``true``/``false``/``null``."""
    if filter.all is not None:
        return _join(" and ", [render_odata(f, types, precision) for f in filter.all])
    if filter.any is not None:
        return _join(" or ", [render_odata(f, types, precision) for f in filter.any])
    if filter.not_ is not None:
        return f"not ({render_odata(filter.not_, types, precision)})"
    name, op, value = str(filter.field), str(filter.op), filter.value
    kind = types.get(name)
    if op == "is_null":
        return f"{name} {'eq' if value is None or value is True else 'ne'} null"
    if op in _COMPARISONS:
        return f"{name} {op} {odata_value(value, kind, name, precision)}"
    if op == "in":
        items = [odata_value(v, kind, name, precision) for v in value]
        if len(items) == 1:  # same meaning, and some parsers cannot read a one-item list
            return f"{name} eq {items[0]}"
        return f"{name} in ({','.join(items)})"
    return f"{op}({name},{odata_value(value, FieldType.STRING, name, precision)})"


def _join(joiner: str, parts: list[str]) -> str:
    if len(parts) == 1:
        return parts[0]
    return joiner.join(f"({p})" for p in parts)


def odata_value(value: Any, kind: FieldType | None, field: str, precision: Precision = "ms") -> str:
    """The literal of ``value`` for a field of type ``kind``; a value the type cannot take
    is a :class:`ConfigError` naming the field."""
    try:
        if value is None or kind is None or isinstance(value, bool):
            return literal(value, kind, precision)
        if kind == FieldType.DECIMAL:
            return literal(Decimal(str(value)), kind)
        if kind == FieldType.DATE and not isinstance(value, date):
            return date.fromisoformat(str(value)).isoformat()
        if kind == FieldType.DATETIME and not isinstance(value, datetime):
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            return datetime_literal(parsed, precision)
        return literal(value, kind, precision)
    except (ArithmeticError, TypeError, ValueError) as exc:
        raise ConfigError(
            f"filter value {value!r} for field {field!r} is not a valid {kind}: {exc}"
        ) from None
