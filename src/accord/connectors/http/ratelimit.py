"""Client-side rate limit per endpoint, shared across workers when the storage is Redis."""

from __future__ import annotations

import time
from collections.abc import Callable

from limits import RateLimitItem, parse, storage, strategies

from accord.errors import ConfigError


class RateLimiter:
    """A moving-window limit (``"6000/5 minutes"``) keyed by endpoint.

    ``storage_uri`` is ``"memory://"`` (one process) or a Redis URI such as
    ``"redis://host:6379/0"`` so that every worker draws from the same window.
    """

    def __init__(
        self,
        limit: str,
        key: str,
        *,
        storage_uri: str = "memory://",
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        try:
            self._item: RateLimitItem = parse(limit)
        except ValueError as exc:
            raise ConfigError(
                f"invalid rate limit {limit!r} (expected e.g. '6000/5 minutes'): {exc}"
            ) from None
        self._limiter = strategies.MovingWindowRateLimiter(storage.storage_from_string(storage_uri))
        self.key = key
        self.limit = limit
        self._sleep = sleep
        self._clock = clock
        self.waited = 0.0
        """Total seconds spent blocked (for metrics and tests)."""

    def try_acquire(self) -> bool:
        """Take one slot if the window has room; never blocks."""
        return bool(self._limiter.hit(self._item, self.key))

    def acquire(self) -> None:
        """Block until a slot is free, then take it."""
        while not self._limiter.hit(self._item, self.key):
            stats = self._limiter.get_window_stats(self._item, self.key)
            wait = max(0.01, min(stats.reset_time - self._clock(), 1.0))
            self.waited += wait
            self._sleep(wait)
