"""Adaptive concurrency per connection: as many requests in flight as the service allows.

An AIMD gate. It starts at ``max_in_flight`` (the service's documented concurrency), so a
connection that is never throttled is never slowed. A throttled answer (429, or what the error
table calls THROTTLE) shrinks the limit by ``decrease`` (at most once per round of requests:
only a request sent after the last cut cuts again) and pauses every new request of the
connection until the ``Retry-After`` the service gave (else the policy's backoff) has passed.
Each answer that used the whole limit (or came back while others waited for a slot) grows it
by ``increase / limit``: one slot per round of answers.

With a :class:`~accord.connectors.http.shared_gate.SharedGate` (workers sharing a Redis), the
pause and the ``max_in_flight`` slots are shared by every process using the endpoint; the
AIMD limit stays each process's own (ADR 0025).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from accord.errors import ConfigError
from accord.observability.logs import get_logger

if TYPE_CHECKING:
    from accord.connectors.http.shared_gate import SharedGate


@dataclass(frozen=True)
class ConcurrencySettings:
    """Connection option ``concurrency``: ``{max_in_flight, min_in_flight, decrease,
    increase}``."""

    max_in_flight: int = 8
    min_in_flight: int = 1
    decrease: float = 0.75
    """The limit is multiplied by this on a throttled answer (0 < decrease < 1)."""
    increase: float = 1.0
    """Slots added per round of answers that used the whole limit."""

    @classmethod
    def from_options(
        cls, options: Mapping[str, Any] | None, default_max: int | None = None
    ) -> ConcurrencySettings:
        """Build from ``settings.options["concurrency"]``; unknown or bad values are named."""
        values: dict[str, Any] = {} if default_max is None else {"max_in_flight": default_max}
        if options is None:
            return cls(**values)
        if not isinstance(options, Mapping):
            raise ConfigError(
                f"option 'concurrency' must be a mapping of {sorted(_KINDS)}, got {options!r}"
            )
        unknown = set(options) - set(_KINDS)
        if unknown:
            raise ConfigError(
                f"unknown concurrency option(s) {', '.join(sorted(unknown))}; "
                f"valid: {', '.join(sorted(_KINDS))}"
            )
        for name, raw in options.items():
            kind, low, high = _KINDS[name]
            try:
                value = kind(raw)
            except (TypeError, ValueError):
                value = None
            if value is None or not low <= value <= high:
                raise ConfigError(
                    f"concurrency option {name!r} must be a {kind.__name__} in "
                    f"[{low}, {high}], got {raw!r}"
                )
            values[name] = value
        settings = cls(**values)
        if settings.min_in_flight > settings.max_in_flight:
            raise ConfigError(
                f"concurrency option 'min_in_flight' ({settings.min_in_flight}) exceeds "
                f"'max_in_flight' ({settings.max_in_flight})"
            )
        return settings


_KINDS: dict[str, tuple[type, float, float]] = {
    "max_in_flight": (int, 1, 1000),
    "min_in_flight": (int, 1, 1000),
    "decrease": (float, 0.05, 0.95),
    "increase": (float, 0.01, 100.0),
}


@dataclass(frozen=True)
class Ticket:
    """One request's slot: when it was sent and whether it used the whole limit."""

    sent_at: float
    full: bool
    token: str | None = None
    """The shared slot held, when the gate is shared."""


class AdaptiveConcurrency:
    """The gate in front of one connection's requests (thread-safe)."""

    def __init__(
        self,
        settings: ConcurrencySettings | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        shared: SharedGate | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings or ConcurrencySettings()
        self.shared = shared
        self._sleep = sleep
        self.limit = float(self.settings.max_in_flight)
        self.in_flight = 0
        self.resume_at = -math.inf
        self.throttled = 0
        """Throttled answers seen."""
        self.cuts = 0
        """Times the limit was cut."""
        self.paused_seconds = 0.0
        """Seconds requests spent waiting for a pause to end."""
        self.streak = 0
        """Throttled answers since the last one that was not."""
        self._cut_at = -math.inf
        self._waiting = 0
        self._clock = clock
        self._cond = threading.Condition()

    @property
    def slots(self) -> int:
        """Requests allowed in flight now."""
        return max(self.settings.min_in_flight, math.floor(self.limit))

    def acquire(self, *, own_pause: float | None = None) -> Ticket:
        """Wait for the end of a pause and for a slot; take it.

        ``own_pause``: the end of the pause this caller's last (throttled) answer set, which
        it has waited out already; only a pause extended beyond it is waited for.
        """
        with self._cond:
            while True:
                now = self._clock()
                paused = own_pause is None or self.resume_at > own_pause
                if paused and now < self.resume_at:
                    self._cond.wait(self.resume_at - now)
                    self.paused_seconds += self._clock() - now
                elif self.in_flight >= self.slots:
                    self._waiting += 1
                    self._cond.wait()
                    self._waiting -= 1
                else:
                    break
            self.in_flight += 1
            ticket = Ticket(now, self.in_flight >= self.slots or self._waiting > 0)
        if self.shared is None:
            return ticket
        try:
            return replace(ticket, token=self._take_shared())
        except BaseException:
            self.release(ticket)
            raise

    def _take_shared(self) -> str:
        """Wait out the shared pause and for a shared slot (holding the local one)."""
        assert self.shared is not None
        while True:
            token, wait, paused = self.shared.try_acquire()
            if token is not None:
                return token
            started = self._clock()
            if paused:  # a pause another process set: this process's threads wait too
                with self._cond:
                    self.resume_at = max(self.resume_at, started + wait)
            self._sleep(wait)
            if paused:
                with self._cond:
                    self.paused_seconds += self._clock() - started

    def release(self, ticket: Ticket, throttled_for: float | None = None) -> float:
        """Give the slot back; ``throttled_for``: the answer was throttled, pause that long.
        Returns the end of the pause (``-inf`` when none was ever set)."""
        shared_left = 0.0
        if self.shared is not None and ticket.token is not None:
            try:
                shared_left = self.shared.release(ticket.token, throttled_for)
            except Exception as exc:  # the slot's lease ends on its own
                get_logger().warning("shared rate gate not released", error=str(exc))
        with self._cond:
            if shared_left > 0:
                self.resume_at = max(self.resume_at, self._clock() + shared_left)
            self.in_flight -= 1
            now = self._clock()
            if throttled_for is not None:
                self.throttled += 1
                self.streak += 1
                self.resume_at = max(self.resume_at, now + throttled_for)
                if ticket.sent_at >= self._cut_at:
                    self.limit = max(
                        float(self.settings.min_in_flight), self.limit * self.settings.decrease
                    )
                    self._cut_at = now
                    self.cuts += 1
            else:
                self.streak = 0
                if ticket.full or self._waiting > 0:
                    self.limit = min(
                        float(self.settings.max_in_flight),
                        self.limit + self.settings.increase / self.limit,
                    )
            self._cond.notify_all()
            return self.resume_at

    def stats(self) -> dict[str, float]:
        """The limit now and what the gate saw."""
        return {
            "limit": round(self.limit, 2),
            "throttled": self.throttled,
            "cuts": self.cuts,
            "paused_seconds": round(self.paused_seconds, 3),
        }
