"""Fault injection, latency, rate limiting and request statistics (ASGI middleware).

Rules are consumed in order: the first rule matching a request's method and path (regex
searched in the path) with uses left answers instead of the app, after its delay (with
``after``, once the app has done the work: its outcome is lost; with ``inner``, the rule
answers for one operation inside a ``$batch`` instead of a whole request). A per-sandbox
rate limit answers 429 with ``Retry-After`` and the system's error body. Statistics count every
request by ``METHOD /path`` with entity keys folded to ``({key})``.

The random mode (:meth:`Faults.chaos`) hits a share of API requests with a fault drawn from
:data:`FAULT_KINDS`: 429 with ``Retry-After``, a 5xx, a timeout (an answer only after the
client's timeout, nothing done), a dropped connection (before the app ran, or after: done, but
the answer lost) and a partial ``$batch`` (some of its operations fail with a 5xx or 429).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import math
import random
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from accord.sandboxes.common.http import Dispatch, Req, Resp

ErrorBody = Callable[[int, str], dict[str, Any]]
FAULT_KINDS = ("throttle", "error", "timeout", "drop", "drop_after", "partial_batch")
"""What the random mode injects; ``partial_batch`` falls on ``$batch`` requests only."""
_PARTIAL: contextvars.ContextVar[RandomFaults | None] = contextvars.ContextVar(
    "sandbox_partial_batch", default=None
)
_KEY = re.compile(r"\([^)/]*\)")
ADMIN_PREFIX = "/_sandbox"


@dataclass
class FaultRule:
    """One injected failure (``count=None`` means every matching request, forever)."""

    status: int = 429
    path: str | None = None
    method: str | None = None
    count: int | None = 1
    retry_after: float | None = None
    delay: float = 0.0
    drop: bool = False
    body: dict[str, Any] | None = None
    after: bool = False
    """The app does the work first; then the rule answers (or drops): the outcome is lost."""
    inner: bool = False
    """Applies to the operations inside a ``$batch`` (``path`` relative to the API root)
    instead of to whole requests."""
    hits: int = 0
    _rx: re.Pattern[str] | None = field(default=None, repr=False)

    def matches(self, method: str, path: str) -> bool:
        """True when the rule applies to this request and has uses left."""
        if self.count is not None and self.hits >= self.count:
            return False
        if self.method and self.method.upper() != method:
            return False
        if self.path:
            self._rx = self._rx or re.compile(self.path)
            return self._rx.search(path) is not None
        return True


@dataclass
class RandomFaults:
    """The random mode: ``rate`` of API requests get a fault of one of ``kinds``."""

    rate: float = 0.1
    timeout_delay: float = 3.0
    """How long a ``timeout`` fault holds the request (more than the client waits)."""
    retry_after: float = 1.0
    batch_failure_rate: float = 0.3
    """Share of the operations of a partially failing ``$batch`` that fail."""
    kinds: tuple[str, ...] = FAULT_KINDS
    seed: int | None = None
    fired: Counter[str] = field(default_factory=Counter)
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if unknown or not self.kinds or not 0 <= self.rate <= 1:
            raise ValueError(f"bad random faults: rate {self.rate}, kinds {sorted(unknown)}")
        self._rng.seed(self.seed)
        self._lock = threading.Lock()

    def draw(self, path: str) -> str | None:
        """The fault for one request to ``path``, or None (most of the time)."""
        with self._lock:
            if self._rng.random() >= self.rate:
                return None
            batch = path.rstrip("/").endswith("$batch")
            kinds = [k for k in self.kinds if batch or k != "partial_batch"] or ["error"]
            kind = self._rng.choice(kinds)
            self.fired[kind] += 1
            return kind

    def pick(self, options: tuple[int, ...]) -> int:
        with self._lock:
            return self._rng.choice(options)

    def fails_operation(self) -> bool:
        with self._lock:
            return self._rng.random() < self.batch_failure_rate


async def _swallow(message: Any) -> None:
    """An ASGI ``send`` that discards the app's answer (the work is done, the answer lost)."""


def route_key(method: str, path: str) -> str:
    """``METHOD /path`` with entity keys folded, e.g. ``GET /api/data/v9.2/accounts({key})``."""
    return f"{method} {_KEY.sub('({key})', path)}"


class Faults:
    """Fault rules, latency, rate limit and statistics for one sandbox."""

    def __init__(self, error_body: ErrorBody, api_prefix: str = "/") -> None:
        self.error_body = error_body
        self.api_prefix = api_prefix
        self.rules: list[FaultRule] = []
        self.delay = 0.0
        self.limit: tuple[int, float] | None = None
        self._window: deque[float] = deque()
        self._lock = threading.Lock()
        self.random: RandomFaults | None = None
        self.by_route: Counter[str] = Counter()
        self.counters: Counter[str] = Counter()
        self.total = 0

    # ------------------------------------------------------------------ control
    def add(
        self,
        status: int = 429,
        path: str | None = None,
        count: int | None = 1,
        retry_after: float | None = None,
        method: str | None = None,
        delay: float = 0.0,
        drop: bool = False,
        body: dict[str, Any] | None = None,
        after: bool = False,
        inner: bool = False,
    ) -> FaultRule:
        """Append a rule; returns it (``rule.hits`` tells how often it fired)."""
        rule = FaultRule(status, path, method, count, retry_after, delay, drop, body, after, inner)
        with self._lock:
            self.rules.append(rule)
        return rule

    def chaos(self, rate: float | None = 0.1, **options: Any) -> RandomFaults | None:
        """Switch the random mode on (``rate`` of API requests, options of
        :class:`RandomFaults`) or off (``rate=None``); returns it (``fired`` counts by kind)."""
        self.random = None if rate is None else RandomFaults(rate, **options)
        return self.random

    def inner(self, dispatch: Dispatch) -> Dispatch:
        """``dispatch`` for the operations of a ``$batch``: in a batch the random mode chose
        to fail partially, some operations answer a 5xx or 429 instead of running."""
        from accord.sandboxes.common.http import Resp

        def run(req: Req) -> Resp:
            rule = self._match(req.method, req.path, inner=True)
            if rule is not None:
                if rule.after:
                    dispatch(req)
                return Resp(rule.status, self._body(rule), self._retry_after(rule))
            partial = _PARTIAL.get()
            if partial is None or not partial.fails_operation():
                return dispatch(req)
            status = partial.pick((429, 500, 503))
            headers = {"Retry-After": str(math.ceil(partial.retry_after))} if status == 429 else {}
            return Resp(status, self.error_body(status, "fault"), headers)

        return run

    def clear(self) -> None:
        """Remove every rule, the random mode, the latency and the rate limit."""
        with self._lock:
            self.random = None
            self.rules.clear()
            self.delay = 0.0
            self.limit = None
            self._window.clear()

    def rate_limit(self, requests: int | None, window_seconds: float = 300.0) -> None:
        """Allow ``requests`` API calls per sliding window (None switches it off)."""
        with self._lock:
            self.limit = None if requests is None else (requests, window_seconds)
            self._window.clear()

    def latency(self, seconds: float) -> None:
        """Delay every API response by ``seconds``."""
        self.delay = seconds

    def stats(self) -> dict[str, Any]:
        """Request counts: total, by route, and sandbox counters (e.g. batch operations)."""
        with self._lock:
            return {
                "total": self.total,
                "by_route": dict(self.by_route),
                "counters": dict(self.counters),
                "random_faults": dict(self.random.fired) if self.random else {},
            }

    def reset_stats(self) -> None:
        """Zero every counter."""
        with self._lock:
            self.total = 0
            self.by_route.clear()
            self.counters.clear()

    def note(self, name: str, amount: int = 1) -> None:
        """Bump a named counter (apps count batch operations this way)."""
        with self._lock:
            self.counters[name] += amount

    # ------------------------------------------------------------------ decisions
    def _match(self, method: str, path: str, inner: bool = False) -> FaultRule | None:
        with self._lock:
            for rule in self.rules:
                if rule.inner == inner and rule.matches(method, path):
                    rule.hits += 1
                    return rule
        return None

    def _rate_limited(self) -> float | None:
        """Seconds to wait when over the limit, else None (and the request is counted)."""
        with self._lock:
            if self.limit is None:
                return None
            allowed, window = self.limit
            now = time.monotonic()
            while self._window and self._window[0] <= now - window:
                self._window.popleft()
            if len(self._window) >= allowed:
                return max(1.0, math.ceil(self._window[0] + window - now))
            self._window.append(now)
            return None

    # ------------------------------------------------------------------ ASGI
    def middleware(self, app: ASGIApp) -> ASGIApp:
        """Wrap ``app`` with statistics, latency, faults and the rate limit."""

        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            path = scope.get("path", "")
            if scope["type"] != "http" or path.startswith(ADMIN_PREFIX):
                await app(scope, receive, send)
                return
            method = scope["method"]
            with self._lock:
                self.total += 1
                self.by_route[route_key(method, path)] += 1
            is_api = path.startswith(self.api_prefix)
            if is_api and self.delay:
                await asyncio.sleep(self.delay)
            rule = self._match(method, path)
            if rule is not None:
                if rule.delay:
                    await asyncio.sleep(rule.delay)
                if rule.after:
                    await app(scope, receive, _swallow)
                await self._answer(send, rule)
                return
            chance = self.random
            kind = chance.draw(path) if chance is not None and is_api else None
            if kind is not None and chance is not None:
                await self._random_fault(app, scope, receive, send, chance, kind)
                return
            wait = self._rate_limited() if is_api else None
            if wait is not None:
                headers = [(b"retry-after", str(int(wait)).encode())]
                await self._send_json(send, 429, self.error_body(429, "rate"), headers)
                return
            await app(scope, receive, send)

        return wrapped

    async def _random_fault(
        self, app: ASGIApp, scope: Scope, receive: Receive, send: Send, rf: RandomFaults, kind: str
    ) -> None:
        if kind == "partial_batch":
            token = _PARTIAL.set(rf)
            try:
                await app(scope, receive, send)
            finally:
                _PARTIAL.reset(token)
            return
        if kind == "drop_after":  # the app does the work; its answer never arrives
            await app(scope, receive, _swallow)
            await self._drop(send)
        if kind == "drop":
            await self._drop(send)
        if kind == "timeout":
            await asyncio.sleep(rf.timeout_delay)
        status = 429 if kind == "throttle" else rf.pick((500, 503))
        wait = str(math.ceil(rf.retry_after)).encode()
        headers = [(b"retry-after", wait)] if status == 429 else []
        await self._send_json(send, status, self.error_body(status, "fault"), headers)

    async def _answer(self, send: Send, rule: FaultRule) -> None:
        if rule.drop:
            await self._drop(send)
        headers = [(k.lower().encode(), v.encode()) for k, v in self._retry_after(rule).items()]
        await self._send_json(send, rule.status, self._body(rule), headers)

    def _body(self, rule: FaultRule) -> dict[str, Any]:
        return rule.body if rule.body is not None else self.error_body(rule.status, "fault")

    @staticmethod
    def _retry_after(rule: FaultRule) -> dict[str, str]:
        if rule.retry_after is None:
            return {}
        return {"Retry-After": str(math.ceil(rule.retry_after))}

    @staticmethod
    async def _drop(send: Send) -> None:
        """Promise a body and end early: the server aborts the connection mid-response."""
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", b"4096"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b'{"val', "more_body": True})
        raise ConnectionAbortedError("sandbox fault: connection dropped")

    @staticmethod
    async def _send_json(
        send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]]
    ) -> None:
        raw = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json; charset=utf-8"),
                    (b"content-length", str(len(raw)).encode()),
                    *headers,
                ],
            }
        )
        await send({"type": "http.response.body", "body": raw})

    # ------------------------------------------------------------------ admin HTTP
    def routes(self) -> list[Route]:
        """``/_sandbox`` routes to control faults and read statistics over HTTP."""

        async def add_fault(request: Request) -> Response:
            spec = await request.json()
            allowed = {"status", "path", "count", "retry_after", "method", "delay", "drop", "body"}
            allowed |= {"after", "inner"}
            unknown = set(spec) - allowed
            if unknown:
                return JSONResponse({"error": f"unknown fields {sorted(unknown)}"}, 400)
            rule = self.add(**spec)
            return JSONResponse({"added": rule.status, "rules": len(self.rules)}, 201)

        async def clear_faults(request: Request) -> Response:
            self.clear()
            return Response(status_code=204)

        async def set_chaos(request: Request) -> Response:
            spec = await request.json()
            try:
                self.chaos(**spec)
            except (TypeError, ValueError) as exc:
                return JSONResponse({"error": str(exc)}, 400)
            return Response(status_code=204)

        async def set_limit(request: Request) -> Response:
            spec = await request.json()
            self.rate_limit(spec.get("requests"), float(spec.get("window_seconds", 300)))
            if "latency" in spec:
                self.latency(float(spec["latency"]))
            return Response(status_code=204)

        async def get_stats(request: Request) -> Response:
            return JSONResponse(self.stats())

        async def reset(request: Request) -> Response:
            self.reset_stats()
            return Response(status_code=204)

        return [
            Route(f"{ADMIN_PREFIX}/faults", add_fault, methods=["POST"]),
            Route(f"{ADMIN_PREFIX}/faults", clear_faults, methods=["DELETE"]),
            Route(f"{ADMIN_PREFIX}/chaos", set_chaos, methods=["POST"]),
            Route(f"{ADMIN_PREFIX}/limits", set_limit, methods=["POST"]),
            Route(f"{ADMIN_PREFIX}/stats", get_stats, methods=["GET"]),
            Route(f"{ADMIN_PREFIX}/reset-stats", reset, methods=["POST"]),
        ]
