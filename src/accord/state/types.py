"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC as a naive timestamp and always returns an aware UTC datetime.

    SQLite keeps no time zone and PostgreSQL converts ``timestamptz`` to the session zone;
    storing naive UTC on both and attaching UTC on the way out keeps comparisons exact.
    Naive values handed in are refused, so a local time can never leak in as UTC.
    """

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"UTCDateTime needs an aware datetime, got {value!r}")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


_DECIMAL_TAG = "$decimal"


def _tag_decimal(value: Any) -> Any:
    """The encoder's hook for what JSON lacks: a Decimal becomes ``{"$decimal": text}``."""
    if isinstance(value, Decimal):
        return {_DECIMAL_TAG: str(value)}
    raise TypeError(f"cannot store a {type(value).__name__} value {value!r} as JSON")


def _untag_decimal(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and _DECIMAL_TAG in obj:
        return Decimal(obj[_DECIMAL_TAG])
    return obj


def dumps_json(value: Any) -> str:
    """JSON for state columns: Decimals kept exact (tagged), never turned into floats."""
    return json.dumps(value, default=_tag_decimal, separators=(",", ":"))


def loads_json(text: str) -> Any:
    """Inverse of :func:`dumps_json`."""
    return json.loads(text, object_hook=_untag_decimal)
