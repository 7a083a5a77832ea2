"""Structured logs: JSON lines when stderr is not a terminal, readable lines when it is.

Every line passes :func:`redact_secrets` first: values under secret-looking keys, bearer and
basic credentials, and ``client_secret=``-style parameters inside strings never get out.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog
from structlog.typing import FilteringBoundLogger

from accord.errors import ConfigError

LEVEL_ENV = "ACCORD_LOG_LEVEL"
DEFAULT_LEVEL = "WARNING"
REDACTED = "[REDACTED]"

_SECRET_KEY = re.compile(
    r"secret|passw(or)?d|token|authorization|api[_-]?key|private[_-]?key|credential|cookie",
    re.IGNORECASE,
)
_SECRET_PARAM = (
    r"client_secret|client_assertion|access_token|refresh_token|id_token|token|password|"
    r"passwd|api[_-]?key|apikey|private_key|secret|sig|signature"
)
_IN_TEXT = [
    # Authorization: Bearer eyJ..., Basic dXNlcjpwYXNz
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/]+=*", re.IGNORECASE), rf"\1 {REDACTED}"),
    # client_secret=... in URLs, form bodies and messages
    (re.compile(rf"\b({_SECRET_PARAM})=([^&\s\"',;]+)", re.IGNORECASE), rf"\1={REDACTED}"),
    # "client_secret": "..." inside JSON text
    (
        re.compile(rf"(\"(?:{_SECRET_PARAM})\"\s*:\s*)\"[^\"]*\"", re.IGNORECASE),
        rf'\1"{REDACTED}"',
    ),
]


def is_secret_key(key: str) -> bool:
    """Whether a field named ``key`` holds a secret (``client_secret``, ``Authorization``...)."""
    return bool(_SECRET_KEY.search(key))


def scrub(value: Any) -> Any:
    """``value`` with every secret inside it replaced (strings, mappings, sequences)."""
    if isinstance(value, str):
        for pattern, replacement in _IN_TEXT:
            value = pattern.sub(replacement, value)
        return value
    if isinstance(value, dict):
        return {
            k: REDACTED if isinstance(k, str) and is_secret_key(k) else scrub(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [scrub(v) for v in value]
    if isinstance(value, bytes):
        return scrub(value.decode("utf-8", "replace"))
    if isinstance(value, BaseException):
        return scrub(f"{type(value).__name__}: {value}")
    return value


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: hide secrets in every key and value of a log line."""
    for key in list(event_dict):
        if is_secret_key(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = scrub(event_dict[key])
    return event_dict


class _StderrLogger:
    """Writes rendered lines to ``stream``, or to whatever ``sys.stderr`` is at the time."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def msg(self, message: str) -> None:
        stream = self._stream or sys.stderr
        stream.write(message + "\n")
        stream.flush()

    debug = info = warning = warn = error = critical = exception = fatal = log = msg


def parse_level(name: str | None) -> int:
    """A logging level from its name (``DEBUG``...``CRITICAL``); ConfigError otherwise."""
    name = (name or DEFAULT_LEVEL).strip().upper()
    levels = logging.getLevelNamesMapping()
    if name not in levels or name == "NOTSET":
        valid = "DEBUG, INFO, WARNING, ERROR, CRITICAL"
        raise ConfigError(f"unknown log level {name!r}; valid: {valid}", location=LEVEL_ENV)
    return levels[name]


def configure_logging(
    level: str | None = None, *, json: bool | None = None, stream: TextIO | None = None
) -> None:
    """Set up structlog and the standard ``logging`` module (httpx, alembic) alike.

    ``level`` defaults to ``$ACCORD_LOG_LEVEL`` or WARNING; ``json`` to "stderr is not a
    terminal"; ``stream`` to the current ``sys.stderr``.
    """
    threshold = parse_level(level or os.environ.get(LEVEL_ENV))
    if json is None:
        target = stream or sys.stderr
        json = not (hasattr(target, "isatty") and target.isatty())
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=False, default=str)
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            redact_secrets,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        logger_factory=lambda *_args: _StderrLogger(stream),
        cache_logger_on_first_use=False,
    )
    _route_standard_logging(threshold, shared, renderer, stream)


def _route_standard_logging(
    threshold: int, shared: list[Any], renderer: Any, stream: TextIO | None
) -> None:
    """Send library logs (``logging``) through the same redaction and rendering."""
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_secrets,
            renderer,
        ],
    )
    handler = _AccordHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not isinstance(h, _AccordHandler)]
    root.addHandler(handler)
    root.setLevel(threshold)


class _AccordHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler bound to ``sys.stderr`` as it is when a record is written."""

    def __init__(self, stream: TextIO | None) -> None:
        super().__init__(stream)
        self._fixed = stream

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = self._fixed or sys.stderr
        super().emit(record)


def get_logger(**bind: object) -> FilteringBoundLogger:
    """A structured logger with ``bind`` in every line; configures logging on first use."""
    if not structlog.is_configured():
        configure_logging()
    logger: FilteringBoundLogger = structlog.get_logger("accord").bind(**bind)
    return logger
