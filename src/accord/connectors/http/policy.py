"""Retry policy: which failures are worth another try and how long to wait before it."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

RETRY_STATUSES: frozenset[int] = frozenset({408, 429, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter that honours ``Retry-After`` up to a cap.

    ``max_attempts`` counts every try, the first included. ``max_retry_after`` caps a
    server's ``Retry-After`` so a hostile or broken value cannot stall a worker.
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    jitter: float = 0.25
    """Fraction of the computed delay added at random (0 disables jitter)."""
    retry_statuses: frozenset[int] = field(default=RETRY_STATUSES)

    @classmethod
    def from_options(cls, options: Mapping[str, Any] | None) -> RetryPolicy:
        """Build from a mapping of field names (``settings.options["retry"]``)."""
        if not options:
            return cls()
        known = {"max_attempts", "base_delay", "max_delay", "max_retry_after", "jitter"}
        unknown = set(options) - known
        if unknown:
            from accord.errors import ConfigError

            raise ConfigError(
                f"unknown retry option(s) {', '.join(sorted(unknown))}; "
                f"valid: {', '.join(sorted(known))}"
            )
        return cls(**dict(options))

    def should_retry(self, status: int) -> bool:
        return status in self.retry_statuses

    def backoff(self, attempt: int) -> float:
        """Delay before try number ``attempt + 1`` (``attempt`` starts at 1)."""
        delay = min(self.max_delay, self.base_delay * 2.0 ** max(0, attempt - 1))
        if self.jitter:
            delay += random.uniform(0, delay * self.jitter)
        return min(delay, self.max_delay)

    def delay(self, attempt: int, retry_after: str | None) -> float:
        """The wait before the next try: ``Retry-After`` when given (capped), else backoff."""
        seconds = parse_retry_after(retry_after)
        if seconds is not None:
            return min(seconds, self.max_retry_after)
        return self.backoff(attempt)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP-date)."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())
