"""Named value transforms, chained with ``|`` and given arguments after ``:``.

``trim|upper|truncate:100`` trims, upper-cases, then cuts to 100 characters. The set follows
Business Central's transformation rule types where they apply to a single value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from accord.config.choices import choices
from accord.errors import ConfigError

Transform = Callable[[Any], Any]


def _text(fn: Callable[[str], Any]) -> Transform:
    return lambda v: v if v is None else fn(str(v))


def _truncate(n: str) -> Transform:
    size = int(n)
    return _text(lambda s: s[:size])


def _replace(old: str, new: str = "") -> Transform:
    return _text(lambda s: s.replace(old, new))


def _regex_replace(pattern: str, repl: str = "") -> Transform:
    compiled = re.compile(pattern)
    return _text(lambda s: compiled.sub(repl, s))


def _substring(start: str, length: str | None = None) -> Transform:
    a = int(start)
    b = None if length is None else a + int(length)
    return _text(lambda s: s[a:b])


def _round(places: str = "2") -> Transform:
    quantum = Decimal(1).scaleb(-int(places))

    def apply(v: Any) -> Any:
        if v is None or v == "":
            return v
        return float(Decimal(str(v)).quantize(quantum, rounding=ROUND_HALF_UP))

    return apply


def _date_format(fmt: str) -> Transform:
    def apply(v: Any) -> Any:
        if v is None or v == "":
            return v
        parsed = (
            datetime.fromisoformat(str(v).replace("Z", "+00:00"))
            if "T" in str(v)
            else date.fromisoformat(str(v))
        )
        return parsed.strftime(fmt)

    return apply


def _default(value: str) -> Transform:
    return lambda v: value if v in (None, "") else v


FACTORIES: dict[str, Callable[..., Transform]] = {
    "upper": lambda: _text(str.upper),
    "lower": lambda: _text(str.lower),
    "title": lambda: _text(str.title),
    "trim": lambda: _text(str.strip),
    "truncate": _truncate,
    "substring": _substring,
    "replace": _replace,
    "regex_replace": _regex_replace,
    "remove_non_alnum": lambda: _text(lambda s: re.sub(r"[^0-9A-Za-z]", "", s)),
    "round": _round,
    "date_format": _date_format,
    "default": _default,
    "empty_to_none": lambda: lambda v: None if v == "" else v,
    "negate": lambda: lambda v: v if v in (None, "") else -Decimal(str(v)),
    "first_word": lambda: _text(lambda s: s.strip().partition(" ")[0]),
    "after_first_word": lambda: _text(lambda s: s.strip().partition(" ")[2].strip()),
}


def compile_transform(spec: str, *, location: str = "transform") -> Transform:
    """Compile a pipe of named transforms; unknown names fail listing the valid ones."""
    steps: list[Transform] = []
    for raw in spec.split("|"):
        name, _, arg_text = raw.strip().partition(":")
        factory = FACTORIES.get(name)
        if factory is None:
            raise ConfigError(
                f"unknown transform {name!r}; {choices(name, FACTORIES)}",
                location=location,
            )
        args = arg_text.split(",") if arg_text else []
        try:
            steps.append(factory(*args))
        except (TypeError, ValueError, re.error) as exc:
            raise ConfigError(
                f"bad arguments for transform {name!r}: {exc}", location=location
            ) from exc

    def run(value: Any) -> Any:
        for step in steps:
            value = step(value)
        return value

    return run
