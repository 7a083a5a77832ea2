"""Watermarks: how far a source has certainly been read, and from where to read again."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

BOUNDARY = timedelta(seconds=1)
"""Read from just before the mark: changes stamped exactly at it are read again, deduplicated
by content (Dataverse stamps whole seconds)."""


def safe_mark(
    server_time: datetime | None, newest: datetime | None, start: datetime, overlap_seconds: int
) -> datetime | None:
    """The time up to which every change has certainly been read.

    A change not yet visible when the feed was read can only carry a modified-on from
    before then by at most the overlap window (a long transaction, a skewed writer), so
    the mark is the source's own clock at the read -- or, without it, the newest change
    seen -- minus the overlap; never past this pass's start. With nothing changed the
    mark still moves with the source's clock, so idle passes do not re-read old rows.
    """
    anchor = server_time or newest
    if anchor is None:
        return None
    return min(anchor - timedelta(seconds=overlap_seconds), start)


def latest(current: datetime | None, values: Iterable[datetime | None]) -> datetime | None:
    """The newest of ``current`` and ``values`` (None where none is known)."""
    for value in values:
        if value is not None and (current is None or value > current):
            current = value
    return current
