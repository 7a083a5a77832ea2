"""Fault injection, latency, rate limiting and request statistics (ASGI middleware).

Rules are consumed in order: the first rule matching a request's method and path (regex
searched in the path) with uses left answers instead of the app, after its delay. A per-sandbox
rate limit answers 429 with ``Retry-After`` and the system's error body. Statistics count every
request by ``METHOD /path`` with entity keys folded to ``({key})``.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

ErrorBody = Callable[[int, str], dict[str, Any]]
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
    ) -> FaultRule:
        """Append a rule; returns it (``rule.hits`` tells how often it fired)."""
        rule = FaultRule(status, path, method, count, retry_after, delay, drop, body)
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        """Remove every rule, the latency and the rate limit."""
        with self._lock:
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
    def _match(self, method: str, path: str) -> FaultRule | None:
        with self._lock:
            for rule in self.rules:
                if rule.matches(method, path):
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
                await self._answer(send, rule)
                return
            wait = self._rate_limited() if is_api else None
            if wait is not None:
                headers = [(b"retry-after", str(int(wait)).encode())]
                await self._send_json(send, 429, self.error_body(429, "rate"), headers)
                return
            await app(scope, receive, send)

        return wrapped

    async def _answer(self, send: Send, rule: FaultRule) -> None:
        if rule.drop:
            # Promise a body and end early: the server aborts the connection mid-response.
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
        headers: list[tuple[bytes, bytes]] = []
        if rule.retry_after is not None:
            headers.append((b"retry-after", str(math.ceil(rule.retry_after)).encode()))
        body = rule.body if rule.body is not None else self.error_body(rule.status, "fault")
        await self._send_json(send, rule.status, body, headers)

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
            unknown = set(spec) - allowed
            if unknown:
                return JSONResponse({"error": f"unknown fields {sorted(unknown)}"}, 400)
            rule = self.add(**spec)
            return JSONResponse({"added": rule.status, "rules": len(self.rules)}, 201)

        async def clear_faults(request: Request) -> Response:
            self.clear()
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
            Route(f"{ADMIN_PREFIX}/limits", set_limit, methods=["POST"]),
            Route(f"{ADMIN_PREFIX}/stats", get_stats, methods=["GET"]),
            Route(f"{ADMIN_PREFIX}/reset-stats", reset, methods=["POST"]),
        ]
