"""What every sandbox builds: its ASGI app plus the handles tests and the runner use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from accord.sandboxes.common.clock import Clock
from accord.sandboxes.common.faults import ADMIN_PREFIX, Faults
from accord.sandboxes.common.identity import Identity
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


def assemble(
    api_root: str, endpoint: Any, identity: Identity, faults: Faults, clock: Clock
) -> ASGIApp:
    """Starlette app with identity, admin and API routes, wrapped in the fault middleware."""
    methods = ["GET", "POST", "PATCH", "PUT", "DELETE"]
    routes: list[BaseRoute] = [
        *identity.routes(),
        *faults.routes(),
        *admin_routes(identity, clock),
        Route(api_root, endpoint, methods=methods),
        Route(api_root + "/{rest:path}", endpoint, methods=methods),
    ]
    return faults.middleware(Starlette(routes=routes))
