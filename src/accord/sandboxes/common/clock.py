"""A settable UTC clock: sandboxes take modified times and token expiry from it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class Clock:
    """Wall clock that tests can freeze, advance and release."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frozen: datetime | None = None
        self._offset = timedelta(0)

    def now(self) -> datetime:
        """Current (possibly frozen or shifted) time, timezone-aware UTC."""
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return datetime.now(UTC) + self._offset

    def timestamp(self) -> float:
        """Current time as POSIX seconds."""
        return self.now().timestamp()

    def freeze(self, at: datetime | None = None) -> None:
        """Stop the clock at ``at`` (naive datetimes are taken as UTC), or at now."""
        moment = at or self.now()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        with self._lock:
            self._frozen = moment.astimezone(UTC)

    def advance(self, seconds: float) -> None:
        """Move the clock forward (frozen or running)."""
        delta = timedelta(seconds=seconds)
        with self._lock:
            if self._frozen is not None:
                self._frozen += delta
            else:
                self._offset += delta

    def unfreeze(self) -> None:
        """Let the clock run again from where it stands."""
        with self._lock:
            if self._frozen is not None:
                self._offset = self._frozen - datetime.now(UTC)
                self._frozen = None


def format_ms(moment: datetime) -> str:
    """UTC ISO time with milliseconds and Z (Business Central style)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def format_s(moment: datetime) -> str:
    """UTC ISO time with seconds and Z (Dataverse style)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 instant (``Z`` or offset, any fraction digits) into aware UTC."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    if "." in value:
        head, _, rest = value.partition(".")
        digits = ""
        while rest and rest[0].isdigit():
            digits, rest = digits + rest[0], rest[1:]
        value = f"{head}.{(digits + '000000')[:6]}{rest}"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
