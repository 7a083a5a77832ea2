"""What every sandbox builds: its ASGI app plus the handles tests and the runner use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import format_datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accord.sandboxes.common.clock import Clock
from accord.sandboxes.common.faults import ADMIN_PREFIX, Faults
from accord.sandboxes.common.identity import Identity
from accord.sandboxes.common.limits import Limits
from accord.sandboxes.common.store import Store


@dataclass
class SandboxCore:
    """A built (not yet served) sandbox."""

    name: str
    app: ASGIApp
    store: Store
    faults: Faults
    identity: Identity
    clock: Clock
    api_path: str
    scope: str
    company_id: str | None = None
    company_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    closers: list[Callable[[], None]] = field(default_factory=list)
    """Called when the sandbox stops (background threads such as a webhook notifier)."""
    limits: Limits | None = None
    """Service-protection limits (off until switched on)."""

    def base_url(self, origin: str) -> str:
        """The API root URL on a server at ``origin``."""
        return f"{origin}{self.api_path}"


def admin_routes(identity: Identity, clock: Clock) -> list[BaseRoute]:
    """``/_sandbox`` routes for tokens and the clock."""

    async def expire(request: Request) -> Response:
        identity.expire_tokens()
        return Response(status_code=204)

    async def credentials(request: Request) -> Response:
        spec = await request.json()
        identity.set_credentials(spec["client_id"], spec.get("client_secret"))
        return Response(status_code=204)

    async def clock_ctl(request: Request) -> Response:
        spec = await request.json()
        if "advance" in spec:
            clock.advance(float(spec["advance"]))
        if spec.get("unfreeze"):
            clock.unfreeze()
        return JSONResponse({"now": clock.now().isoformat()})

    return [
        Route(f"{ADMIN_PREFIX}/expire-tokens", expire, methods=["POST"]),
        Route(f"{ADMIN_PREFIX}/credentials", credentials, methods=["POST"]),
        Route(f"{ADMIN_PREFIX}/clock", clock_ctl, methods=["POST"]),
    ]


def clock_date(app: ASGIApp, clock: Clock) -> ASGIApp:
    """Send the ``Date`` header from the sandbox's clock, as a real service's own clock would
    (clients may read it as the service's time; the server's default header is turned off)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def send_with_date(message: Message) -> None:
            if message["type"] == "http.response.start":
                stamp = format_datetime(clock.now(), usegmt=True).encode()
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"date"]
                message = {**message, "headers": [*headers, (b"date", stamp)]}
            await send(message)

        await app(scope, receive, send_with_date)

    return wrapped


def assemble(
    api_root: str,
    endpoint: Any,
    identity: Identity,
    faults: Faults,
    clock: Clock,
    limits: Limits | None = None,
) -> ASGIApp:
    """Starlette app with identity, admin and API routes, wrapped in the fault middleware
    (and inside it the service-protection limits, when given)."""
    methods = ["GET", "POST", "PATCH", "PUT", "DELETE"]
    routes: list[BaseRoute] = [
        *identity.routes(),
        *faults.routes(),
        *admin_routes(identity, clock),
        *(limits.routes() if limits is not None else []),
        Route(api_root, endpoint, methods=methods),
        Route(api_root + "/{rest:path}", endpoint, methods=methods),
    ]
    app: ASGIApp = Starlette(routes=routes)
    if limits is not None:
        app = limits.middleware(app)
    return clock_date(faults.middleware(app), clock)
