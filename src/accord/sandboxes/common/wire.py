"""The sandboxes' JSON writer: the same bytes as :func:`accord.jsonwire.dumps` (compact
UTF-8, ``Decimal`` written as the exact number it spells), without compiling a regular
expression per call.

``jsonwire.dumps`` marks each ``Decimal`` with a placeholder carrying a per-call nonce and
compiles a pattern for that nonce; at one call per record in a ``$batch`` the compile cost
more than the rest of the sandbox's write path. Here one pattern matches any nonce, and a
match is replaced only when its nonce is this call's (a string value that happens to look like
a placeholder is left alone).
"""

from __future__ import annotations

import json
import re
import secrets
from decimal import Decimal
from typing import Any

from accord.jsonwire import decimal_text

_MARKER = re.compile(r'"\\u0000([0-9a-f]{12}):(\d+)\\u0000"')


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON of ``value`` with exact ``Decimal`` numbers."""
    digits: list[str] = []
    nonce = secrets.token_hex(6)

    def placeholder(item: Any) -> str:
        if not isinstance(item, Decimal):
            raise TypeError(f"cannot write a {type(item).__name__} value {item!r} as JSON")
        digits.append(decimal_text(item))
        return f"\x00{nonce}:{len(digits) - 1}\x00"

    text = json.dumps(value, default=placeholder, separators=(",", ":"), ensure_ascii=False)
    if digits:

        def swap(m: re.Match[str]) -> str:
            return digits[int(m.group(2))] if m.group(1) == nonce else m.group(0)

        text = _MARKER.sub(swap, text)
    return text.encode()
