"""JSON on the wire with exact decimals: numbers with a fraction or exponent read as
:class:`~decimal.Decimal`, and a ``Decimal`` is written as the JSON number it spells
(``Decimal("12.10")`` -> ``12.10``), never through ``float``.

Shared by the connectors and the sandboxes; everything else is the standard library's JSON.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import Any


def loads(data: bytes | str) -> Any:
    """Parse JSON text; fractional numbers become ``Decimal`` (integers stay ``int``)."""
    return json.loads(data, parse_float=Decimal)


def decimal_text(value: Decimal) -> str:
    """The exact JSON number of ``value`` in plain notation (``1E+2`` -> ``100``)."""
    if not value.is_finite():
        raise ValueError(f"JSON has no number for the decimal {value}")
    return format(value, "f")


def dumps(value: Any, default: Callable[[Any], Any] | None = None) -> bytes:
    """Compact UTF-8 JSON of ``value``; ``Decimal`` values are written exactly, other
    types the encoder does not know go through ``default`` (as in :func:`json.dumps`).

    The standard encoder does the work; each ``Decimal`` goes out as a placeholder string
    (marked with this process's nonce) that is swapped for its digits afterwards. One
    pattern serves every call: a per-call pattern cost more than the encoding itself.
    """
    digits: list[str] = []
    nonce = _NONCE

    def placeholder(item: Any) -> Any:
        if not isinstance(item, Decimal):
            if default is not None:
                return default(item)
            raise TypeError(f"cannot write a {type(item).__name__} value {item!r} as JSON")
        digits.append(decimal_text(item))
        return f"\x00{nonce}:{len(digits) - 1}\x00"

    text = json.dumps(value, default=placeholder, separators=(",", ":"), ensure_ascii=False)
    if digits:
        text = _MARKER.sub(lambda m: digits[int(m.group(1))], text)
    return text.encode()


_NONCE = secrets.token_hex(6)
_MARKER = re.compile(r'"\\u0000' + _NONCE + r':(\d+)\\u0000"')
