"""Client-side rate limit per endpoint, shared across workers when the storage is Redis."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from limits import RateLimitItem, parse, storage, strategies

from accord.errors import ConfigError


class LocalWindow:
    """A moving window of ``amount`` hits per ``seconds`` in this process.

    What ``memory://`` means. The ``limits`` library's memory storage starts a timer thread
    on nearly every hit to expire entries; a worker sends thousands of requests, so this
    keeps the hit times in a deque instead, timed by the limiter's clock.
    """

    def __init__(self, amount: int, seconds: float, clock: Callable[[], float]) -> None:
        self.amount = amount
        self.seconds = seconds
        self._clock = clock
        self._hits: deque[float] = deque()
        self._lock = threading.Lock()

    def hit(self) -> float:
        """Take a slot (0.0) or say how many seconds until one frees (nothing taken)."""
        with self._lock:
            now = self._clock()
            while self._hits and self._hits[0] <= now - self.seconds:
                self._hits.popleft()
            if len(self._hits) < self.amount:
                self._hits.append(now)
                return 0.0
            return self._hits[0] + self.seconds - now


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
        self._local: LocalWindow | None = None
        self._limiter: strategies.MovingWindowRateLimiter | None = None
        if storage_uri.startswith("memory://"):
            self._local = LocalWindow(self._item.amount, self._item.get_expiry(), clock)
        else:
            self._limiter = strategies.MovingWindowRateLimiter(
                storage.storage_from_string(storage_uri)
            )
        self.key = key
        self.limit = limit
        self._sleep = sleep
        self._clock = clock
        self.waited = 0.0
        """Total seconds spent blocked (for metrics and tests)."""

    def _wait(self) -> float:
        """Take a slot (0.0), else the seconds to wait before asking again."""
        if self._local is not None:
            return self._local.hit()
        assert self._limiter is not None
        if self._limiter.hit(self._item, self.key):
            return 0.0
        stats = self._limiter.get_window_stats(self._item, self.key)
        return max(0.01, stats.reset_time - self._clock())

    def try_acquire(self) -> bool:
        """Take one slot if the window has room; never blocks."""
        return self._wait() <= 0

    def acquire(self) -> None:
        """Block until a slot is free, then take it."""
        while (wait := self._wait()) > 0:
            wait = max(0.01, min(wait, 1.0))
            self.waited += wait
            self._sleep(wait)
