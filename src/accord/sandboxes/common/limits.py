"""Service-protection limits of the emulated services (ASGI middleware), off until switched on.

Per user (the client id behind the bearer token) over a sliding window: a request count,
a combined execution-time budget (Dataverse), and a concurrency gate (Business Central queues
what is over it, up to a queue length; Dataverse refuses at once). Each breach answers 429 with
the service's error body and, where the service sends one, ``Retry-After``. Every API request
also waits a modelled latency (per request plus per record written) inside its slot.

The numbers come from ``api-protocols.md`` (§1 and §2 "Limits and errors"); what it leaves open
(how a ``$batch`` counts, execution time per request and per record) is a setting, chosen in
ADR 0015. ``scaled(k)`` keeps every rate and divides the window, so tests can use short windows.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accord.sandboxes.common.faults import ADMIN_PREFIX
from accord.sandboxes.common.limit_settings import (
    BUSINESS_CENTRAL,
    DATAVERSE,
    PRESETS,
    ServiceLimits,
)

__all__ = ["BUSINESS_CENTRAL", "DATAVERSE", "PRESETS", "Limits", "ServiceLimits"]

Kind = Literal["requests", "execution", "concurrency"]
_BC_BATCH_OP = re.compile(rb'"method"\s*:')
_DV_BATCH_OP = re.compile(rb"(?im)^content-type:\s*application/http")
_WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})


@dataclass
class _User:
    """One user's window (time, requests counted, execution ms) and slots."""

    hits: deque[tuple[float, float, float]] = field(default_factory=deque)
    requests: float = 0.0
    execution: float = 0.0
    active: int = 0
    waiting: int = 0
    refused_at: float = -math.inf
    not_before: float = -math.inf
    slot: asyncio.Condition | None = None


class Limits:
    """The limits of one sandbox: middleware, switch, and what was seen (``stats``)."""

    def __init__(
        self,
        preset: ServiceLimits,
        who: Callable[[str | None], str | None],
        api_prefix: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        grace: float = 0.25,
    ) -> None:
        self.preset = preset
        self.who = who
        self.api_prefix = api_prefix
        self.clock = clock
        self.grace = grace
        """A request arriving this soon after a 429 was sent was already on its way."""
        self.config: ServiceLimits | None = None
        self._started = clock()
        self._users: dict[str, _User] = {}
        self._lag_watch: asyncio.Future[None] | None = None
        self._lock = threading.Lock()
        self._reset_counters()

    def _reset_counters(self) -> None:
        self.throttled: Counter[str] = Counter()
        self.early = 0
        self.peak_concurrent = 0
        self.admitted = 0
        self.records = 0
        self.writes_between: list[float] = []
        self.early_after: list[float] = []
        self.loop_lag = 0.0

    # -- control --------------------------------------------------------------------------
    def switch_on(self, scale: float = 1.0, **values: Any) -> ServiceLimits:
        """Enforce the preset, its window ``scale`` times shorter, with ``values`` changed."""
        config = self.preset.scaled(scale).changed(**values)
        self.configure(config)
        return config

    def configure(self, config: ServiceLimits | None) -> None:
        """Enforce ``config`` (None switches the limits off); windows start empty."""
        with self._lock:
            self.config = config
            self._users.clear()
            self._started = self.clock()
            self._reset_counters()

    def restart(self) -> None:
        """Start every window over now (the same settings; a prefill is anchored now)."""
        self.configure(self.config)

    def stats(self) -> dict[str, Any]:
        """What the sandbox saw while the limits were on."""
        with self._lock:
            return {
                "on": self.config is not None,
                "throttled": dict(self.throttled),
                "early_requests": self.early,
                "early_seconds_after_429": self.early_after[:20],
                # the longest the sandbox's event loop was busy: how late it may see an arrival
                "event_loop_lag_max": round(self.loop_lag, 3),
                "peak_concurrent": self.peak_concurrent,
                "admitted": self.admitted,
                "records_written": self.records,
                # seconds from the switch-on (or restart) to the first and the last write
                "writes_between": [round(t - self._started, 2) for t in self.writes_between],
            }

    def routes(self) -> list[Route]:
        """``/_sandbox/service-limits``: POST switches on (``{"scale": k, <setting>: v}``,
        optionally ``"early_grace"``),
        DELETE off, GET reads :meth:`stats`; ``POST .../restart`` starts the windows over."""

        async def switch(request: Request) -> Response:
            spec = dict(await request.json() or {})
            try:
                self.grace = float(spec.pop("early_grace", self.grace))
                config = self.switch_on(float(spec.pop("scale", 1.0)), **spec)
            except (TypeError, ValueError) as exc:
                return JSONResponse({"error": str(exc)}, 400)
            return JSONResponse(_public(config), 201)

        async def off(request: Request) -> Response:
            self.configure(None)
            return Response(status_code=204)

        async def read(request: Request) -> Response:
            return JSONResponse(self.stats())

        async def restart(request: Request) -> Response:
            self.restart()
            return Response(status_code=204)

        path = f"{ADMIN_PREFIX}/service-limits"
        return [
            Route(path, switch, methods=["POST"]),
            Route(path, off, methods=["DELETE"]),
            Route(path, read, methods=["GET"]),
            Route(f"{path}/restart", restart, methods=["POST"]),
        ]

    # -- decisions ------------------------------------------------------------------------
    def _user(self, key: str, config: ServiceLimits, now: float) -> _User:
        user = self._users.get(key)
        if user is None:
            user = self._users[key] = _User()
            execution = (config.execution_ms or 0.0) * min(1.0, config.prefill_execution)
            requests = config.requests * min(1.0, config.prefill_requests)
            if execution > 0 or requests > 0:
                # spread over the window before the limits were switched on (expired parts
                # are pruned next): the budget has been freeing since then
                parts = 100
                step = config.window_seconds / parts
                start = self._started - config.window_seconds
                for i in range(parts):
                    hit = (start + (i + 0.5) * step, requests / parts, execution / parts)
                    user.hits.append(hit)
                user.requests, user.execution = requests, execution
        return user

    @staticmethod
    def _prune(user: _User, config: ServiceLimits, now: float) -> None:
        while user.hits and user.hits[0][0] <= now - config.window_seconds:
            _, counted, execution = user.hits.popleft()
            user.requests -= counted
            user.execution -= execution

    @staticmethod
    def _wait_until_below(user: _User, config: ServiceLimits, index: int, limit: float) -> float:
        """The moment the window's total at ``index`` (1 requests, 2 execution) drops below
        ``limit``."""
        total = user.requests if index == 1 else user.execution
        for hit in user.hits:
            total -= hit[index]
            if total < limit:
                return hit[0] + config.window_seconds
        return user.hits[-1][0] + config.window_seconds if user.hits else 0.0

    def _admit(
        self, key: str, config: ServiceLimits, records: int, now: float
    ) -> tuple[Kind, float] | tuple[None, _User]:
        """Charge the request, or name the limit it breaches and the seconds to wait."""
        with self._lock:
            user = self._user(key, config, now)
            if user.refused_at + self.grace < now < user.not_before:
                self.early += 1
                self.early_after.append(round(now - user.refused_at, 3))
            self._prune(user, config, now)
            breach: tuple[Kind, float] | None = None
            if user.requests >= config.requests:
                when = self._wait_until_below(user, config, 1, config.requests)
                breach = ("requests", when - now)
            elif config.execution_ms is not None and user.execution >= config.execution_ms:
                when = self._wait_until_below(user, config, 2, config.execution_ms)
                breach = ("execution", when - now)
            elif user.active >= config.concurrent and user.waiting >= config.queue:
                breach = ("concurrency", config.concurrency_retry_after)
            if breach is not None:
                wait = max(1, math.ceil(breach[1]))
                self.throttled[breach[0]] += 1
                if config.retry_after:  # what the client was told to wait
                    user.refused_at = now
                    user.not_before = max(user.not_before, now + wait)
                return breach[0], float(wait)
            counted, execution, _ = config.costs(records)
            user.hits.append((now, counted, execution))
            user.requests += counted
            user.execution += execution
            self.admitted += 1
            self.records += records
            if records:
                self.writes_between[1:] = [now]
                self.writes_between[:1] = self.writes_between[:1] or [now]
            self.peak_concurrent = max(self.peak_concurrent, user.active + user.waiting + 1)
            return None, user

    def _body(self, config: ServiceLimits, kind: Kind) -> dict[str, Any]:
        code, message = config.codes.get(kind) or config.codes.get("requests") or ("", "")
        limit = {
            "requests": config.requests,
            "execution": config.execution_ms,
            "concurrency": config.concurrent,
        }[kind]
        text = message.format(
            limit=f"{limit:g}" if isinstance(limit, float) else limit,
            actual=config.requests + 1,
            window=f"{config.window_seconds:g}",
            queue=config.queue,
        )
        return {"error": {"code": code, "message": text}}

    # -- ASGI -----------------------------------------------------------------------------
    def middleware(self, app: ASGIApp) -> ASGIApp:
        """Wrap ``app``: API requests of a known user pass the limits first."""

        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            config = self.config
            path = scope.get("path", "")
            if config is None or scope["type"] != "http" or not path.startswith(self.api_prefix):
                await app(scope, receive, send)
                return
            if self._lag_watch is None or self._lag_watch.done():
                self._lag_watch = asyncio.ensure_future(self._watch_lag())
            headers = dict(scope.get("headers") or [])
            key = self.who((headers.get(b"authorization") or b"").decode("latin-1") or None)
            if key is None:
                await app(scope, receive, send)  # the app answers 401
                return
            method = scope["method"]
            body, receive = await _buffered(receive) if method == "POST" else (b"", receive)
            records = _records(method, path, body)
            refused, held = self._admit(key, config, records, self.clock())
            if refused is not None:
                assert isinstance(held, float)
                await self._refuse(send, config, refused, held)
                return
            assert isinstance(held, _User)
            await self._serve(app, scope, receive, send, config, held, records)

        return wrapped

    async def _watch_lag(self, tick: float = 0.02) -> None:
        """While the limits are on, measure how late the event loop wakes up."""
        while self.config is not None:
            started = time.monotonic()
            await asyncio.sleep(tick)
            self.loop_lag = max(self.loop_lag, time.monotonic() - started - tick)

    async def _serve(
        self,
        app: ASGIApp,
        scope: Scope,
        receive: Receive,
        send: Send,
        config: ServiceLimits,
        user: _User,
        records: int,
    ) -> None:
        user.slot = user.slot or asyncio.Condition()
        if user.active >= config.concurrent:
            user.waiting += 1
            async with user.slot:
                await user.slot.wait_for(lambda: user.active < config.concurrent)
                user.waiting -= 1
                user.active += 1
        else:
            user.active += 1
        try:
            _, _, latency = config.costs(records)
            if latency > 0:
                await asyncio.sleep(latency)
            await app(scope, receive, send)
        finally:
            user.active -= 1
            async with user.slot:
                user.slot.notify(1)

    async def _refuse(self, send: Send, config: ServiceLimits, kind: Kind, wait: float) -> None:
        raw = json.dumps(self._body(config, kind)).encode()
        headers = [
            (b"content-type", b"application/json; charset=utf-8"),
            (b"content-length", str(len(raw)).encode()),
        ]
        if config.retry_after:
            headers.append((b"retry-after", str(int(wait)).encode()))
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": raw})


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole request body; a ``receive`` that replays it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def _records(method: str, path: str, body: bytes) -> int:
    """Records a request writes: the operations of a ``$batch``, 1 for a single write."""
    if path.endswith("/$batch"):
        if body.lstrip().startswith(b"{"):
            return max(1, len(_BC_BATCH_OP.findall(body)))
        return max(1, len(_DV_BATCH_OP.findall(body)))
    return 1 if method in _WRITES else 0


def _public(config: ServiceLimits) -> dict[str, Any]:
    """The settings as plain JSON (error texts left out)."""
    out = dataclasses.asdict(config)
    out.pop("codes", None)
    return out
