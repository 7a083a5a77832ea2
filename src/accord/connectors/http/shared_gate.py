"""The part of an adaptive gate that several processes of one deployment share, in Redis.

Workers against one endpoint (one system, host and principal: the service's "user") share
the service's limits, so they share two things here (ADR 0025):

- **the pause**: a throttled answer's ``Retry-After`` becomes a key with that time to live;
  every process's next request waits until it is gone;
- **the concurrency ceiling**: ``max_in_flight`` slots as members of a sorted set scored by
  the end of their lease, so the in-flight requests of all processes together never exceed
  it (a worker that is idle holds none; one killed with -9 frees its slots when their leases
  end).

Each step is one Lua script, atomic at the server and timed by the server's clock (no clock
skew between hosts). Without a shared storage (``memory://``) nothing here is used.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from accord.errors import TransientError

POLL_SECONDS = 0.01
"""How long a request waits before asking again for a slot when all are taken."""

_ACQUIRE = """
local pause = redis.call('PTTL', KEYS[2])
if pause > 0 then return -pause end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""

_RELEASE = """
redis.call('ZREM', KEYS[1], ARGV[1])
local ms = tonumber(ARGV[2])
if ms > 0 and redis.call('PTTL', KEYS[2]) < ms then
  redis.call('SET', KEYS[2], '1', 'PX', ms)
end
return redis.call('PTTL', KEYS[2])
"""

_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def _redis(uri: str) -> Any:
    """One Redis client (with its connection pool) per URI and process."""
    import redis

    with _clients_lock:
        client = _clients.get(uri)
        if client is None:
            client = _clients[uri] = redis.Redis.from_url(uri, socket_timeout=5)
        return client


def shares(storage_uri: str | None) -> bool:
    """Whether ``storage_uri`` is a storage processes can share (Redis)."""
    return bool(storage_uri) and str(storage_uri).startswith(("redis://", "rediss://"))


class SharedGate:
    """The pause and the slots of one endpoint, shared by every process that uses it."""

    def __init__(self, uri: str, key: str, ceiling: int, *, lease_seconds: float) -> None:
        self.uri = uri
        self.key = key
        self.ceiling = ceiling
        self._keys = [f"accord:gate:{key}:slots", f"accord:gate:{key}:pause"]
        self._lease_ms = max(1000, int(lease_seconds * 1000))
        client = _redis(uri)
        self._acquire = client.register_script(_ACQUIRE)
        self._release = client.register_script(_RELEASE)

    def try_acquire(self) -> tuple[str | None, float, bool]:
        """``(token, 0, False)`` with a slot; else ``(None, wait, paused)``: the shared pause
        still to run (``paused``), or a short poll when every slot is taken."""
        token = uuid.uuid4().hex
        result = int(self._call(self._acquire, [token, self.ceiling, self._lease_ms]))
        if result == 1:
            return token, 0.0, False
        if result < 0:
            return None, -result / 1000, True
        return None, POLL_SECONDS, False

    def release(self, token: str, pause_seconds: float | None = None) -> float:
        """Give the slot back; ``pause_seconds``: pause every process at least that long.
        Returns the seconds of shared pause still to run (0 when none)."""
        pause_ms = int(pause_seconds * 1000) if pause_seconds else 0
        left = int(self._call(self._release, [token, pause_ms]))
        return max(0, left) / 1000

    def clear(self) -> None:
        """Forget the slots and the pause (tests; a deployment reset)."""
        self._call(None, [])

    def _call(self, script: Any, args: list[Any]) -> Any:
        import redis

        try:
            if script is None:
                return _redis(self.uri).delete(*self._keys)
            return script(keys=self._keys, args=args)
        except redis.RedisError as exc:
            raise TransientError(
                f"the shared rate gate of {self.key} at {self.uri} cannot be reached: {exc}"
            ) from exc
