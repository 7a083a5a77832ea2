"""Retry policy: how many tries and how long to wait before each (which failures are worth
another try is the error-policy table's business, see :mod:`.outcomes`)."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from tenacity import RetryCallState, stop_after_attempt
from tenacity.stop import stop_base

WaitFn = Callable[[RetryCallState], float]


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
    max_throttled_attempts: int = 0
    """Tries allowed when the failures are throttled answers (429 and the like); 0: the same
    as ``max_attempts``. Throttled tries then do not use up ``max_attempts``."""

    @classmethod
    def from_options(cls, options: Mapping[str, Any] | None) -> RetryPolicy:
        """Build from a mapping of field names (``settings.options["retry"]``)."""
        if not options:
            return cls()
        known = {
            "max_attempts",
            "base_delay",
            "max_delay",
            "max_retry_after",
            "jitter",
            "max_throttled_attempts",
        }
        unknown = set(options) - known
        if unknown:
            from accord.errors import ConfigError

            raise ConfigError(
                f"unknown retry option(s) {', '.join(sorted(unknown))}; "
                f"valid: {', '.join(sorted(known))}"
            )
        values: dict[str, Any] = {}
        for name, raw in options.items():
            kind = int if name in ("max_attempts", "max_throttled_attempts") else float
            try:
                value = kind(raw)
            except (TypeError, ValueError):
                value = -1
            least = 1 if name == "max_attempts" else 0
            if value < least:
                from accord.errors import ConfigError

                what = "whole number" if kind is int else "number"
                raise ConfigError(f"retry option {name!r} must be a {what} >= {least}, got {raw!r}")
            values[name] = value
        return cls(**values)

    def stop(self, throttled: Callable[[BaseException | None], bool] | None = None) -> stop_base:
        """Tenacity's stop condition: after ``max_attempts`` tries; with ``throttled`` (which
        failures were throttled) and ``max_throttled_attempts``, throttled tries count apart."""
        if throttled is None or not self.max_throttled_attempts:
            return stop_after_attempt(self.max_attempts)
        return _StopCounting(self.max_attempts, self.max_throttled_attempts, throttled)

    def wait(self, retry_after: Callable[[RetryCallState], str | None]) -> WaitFn:
        """Tenacity's wait: the ``Retry-After`` that ``retry_after`` finds in the failed
        attempt (capped), else exponential backoff with jitter."""

        def seconds(state: RetryCallState) -> float:
            return self.delay(state.attempt_number, retry_after(state))

        return seconds

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


class _StopCounting(stop_base):
    """Stop after ``others`` failed tries that were not throttled, or ``throttled_max``
    throttled ones (one instance per request: it counts as it goes)."""

    def __init__(
        self, others: int, throttled_max: int, throttled: Callable[[BaseException | None], bool]
    ) -> None:
        self.others = others
        self.throttled_max = throttled_max
        self.is_throttled = throttled
        self.seen = 0

    def __call__(self, retry_state: RetryCallState) -> bool:
        outcome = retry_state.outcome
        if self.is_throttled(outcome.exception() if outcome is not None else None):
            self.seen += 1
        others = retry_state.attempt_number - self.seen
        return others >= self.others or self.seen >= self.throttled_max


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
