"""Rate limits shared across workers through Redis (each worker its own limiter object)."""

from __future__ import annotations

import uuid

from accord.connectors.http.ratelimit import RateLimiter
from tests.conftest import need


def redis_up() -> bool:
    try:
        import redis

        return bool(redis.Redis(host="127.0.0.1", port=6379, socket_timeout=1).ping())
    except Exception:
        return False


def test_two_workers_draw_from_one_window() -> None:
    need(redis_up(), "Redis is not reachable at 127.0.0.1:6379")
    key = f"accord-test-{uuid.uuid4().hex}"
    uri = "redis://127.0.0.1:6379/0"
    first = RateLimiter("5/minute", key, storage_uri=uri)
    second = RateLimiter("5/minute", key, storage_uri=uri)
    taken = [first.try_acquire() for _ in range(3)] + [second.try_acquire() for _ in range(3)]
    assert taken == [True, True, True, True, True, False]
    assert not first.try_acquire()
    other = RateLimiter("5/minute", key + "-other-endpoint", storage_uri=uri)
    assert other.try_acquire()
