"""The transport-neutral request/response the sandboxes dispatch on (shared by HTTP and $batch)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from accord import jsonwire

_log = logging.getLogger(__name__)
STATUS_TEXT = {
    200: "OK",
    201: "Created",
    204: "No Content",
    304: "Not Modified",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Payload Too Large",
    424: "Failed Dependency",
    429: "Too Many Requests",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}


@dataclass
class Req:
    """One API request, relative to the API root (``path`` has no leading slash)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""
    client_id: str | None = None
    origin: str = ""
    path_root: str = ""

    def header(self, name: str) -> str | None:
        """Header value by lowercase name."""
        return self.headers.get(name)

    def json(self) -> Any:
        """The body parsed as JSON (None when empty)."""
        return jsonwire.loads(self.body) if self.body.strip() else None


@dataclass
class Resp:
    """One API response; ``body`` is JSON-encoded once when sent."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None

    def encode(self) -> bytes:
        """The body as bytes (empty for no body)."""
        if self.raw is not None:
            return self.raw
        if self.body is None:
            return b""
        return jsonwire.dumps(self.body)


Dispatch = Callable[[Req], Resp]


def to_response(resp: Resp, json_type: str) -> Response:
    """A Starlette response for ``resp`` (JSON bodies get ``json_type``)."""
    content = resp.encode()
    headers = dict(resp.headers)
    if content and "content-type" not in {k.lower() for k in headers}:
        headers["Content-Type"] = json_type
    return Response(content=content, status_code=resp.status, headers=headers)


def make_endpoint(
    root: str,
    dispatch: Dispatch,
    authenticate: Callable[[Req], Resp | None],
    json_type: str,
) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint: builds a Req from the HTTP request, authenticates, dispatches."""

    async def endpoint(request: Request) -> Response:
        path = request.url.path
        rel = path[len(root) :].lstrip("/") if path.startswith(root) else path.lstrip("/")
        req = Req(
            method=request.method,
            path=rel,
            query=dict(request.query_params),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=await request.body(),
            origin=f"https://{request.headers.get('host', request.url.netloc)}",
            path_root=root,
        )
        denied = authenticate(req)
        if denied is not None:
            return to_response(denied, json_type)
        try:
            resp = dispatch(req)
        except Exception as exc:  # a sandbox bug must still answer like a server
            _log.exception("sandbox request failed: %s %s", req.method, req.path)
            resp = Resp(
                500,
                {
                    "error": {
                        "code": "Internal_ServerError",
                        "message": f"{type(exc).__name__}: {exc}",
                    }
                },
            )
        return to_response(resp, json_type)

    return endpoint
