from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from accord.connectors.http.policy import RetryPolicy, parse_retry_after
from accord.errors import ConfigError


def test_retry_after_seconds_and_http_date() -> None:
    now = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now) == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_delay_honours_and_caps_retry_after() -> None:
    policy = RetryPolicy(base_delay=0.1, max_retry_after=5, jitter=0)
    assert policy.delay(1, "2") == 2
    assert policy.delay(1, "3600") == 5


def test_backoff_grows_exponentially_up_to_the_maximum() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3, jitter=0)
    assert [policy.backoff(a) for a in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3, 3]
    jittery = RetryPolicy(base_delay=1, max_delay=100, jitter=0.5)
    assert all(4 <= jittery.backoff(3) <= 6 for _ in range(50))


def test_from_options_rejects_unknown_keys() -> None:
    assert RetryPolicy.from_options({"max_attempts": 2}).max_attempts == 2
    with pytest.raises(ConfigError, match="max_tries"):
        RetryPolicy.from_options({"max_tries": 2})


def test_from_options_names_a_bad_value() -> None:
    assert RetryPolicy.from_options({"base_delay": "0.2"}).base_delay == 0.2
    with pytest.raises(ConfigError, match=r"'max_attempts' must be a whole number >= 1, got 0"):
        RetryPolicy.from_options({"max_attempts": 0})
    with pytest.raises(ConfigError, match=r"'jitter' must be a number >= 0, got 'lots'"):
        RetryPolicy.from_options({"jitter": "lots"})
