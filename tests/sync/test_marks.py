"""The watermark arithmetic: how far a read has certainly seen the source's changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from accord.sync.marks import latest, safe_mark

START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def test_the_mark_is_the_sources_clock_less_the_overlap() -> None:
    server = START - timedelta(seconds=30)
    assert safe_mark(server, None, START, 5) == server - timedelta(seconds=5)


def test_without_the_sources_clock_the_newest_change_anchors_the_mark() -> None:
    newest = START - timedelta(minutes=2)
    assert safe_mark(None, newest, START, 10) == newest - timedelta(seconds=10)
    assert safe_mark(None, None, START, 10) is None


def test_the_mark_never_passes_the_reads_start() -> None:
    """A source clock ahead of ours (skew) must not move the mark past what was read."""
    assert safe_mark(START + timedelta(hours=1), None, START, 0) == START


def test_latest_skips_unknown_times() -> None:
    times = [None, START, START - timedelta(days=1), None]
    assert latest(None, times) == START
    assert latest(START + timedelta(seconds=1), times) == START + timedelta(seconds=1)
    assert latest(None, [None]) is None
