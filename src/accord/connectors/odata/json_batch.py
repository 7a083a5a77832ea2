"""OData JSON ``$batch`` (Business Central): encode requests, decode responses.

Request body ``{"requests": [{"id", "method", "url", "headers", "body"}]}``; response body
``{"responses": [{"id", "status", "headers", "body"}]}`` in any order (matched by id).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from accord import jsonwire

MAX_REQUESTS = 100
"""Business Central accepts at most 100 operations per batch."""
CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class BatchRequest:
    """One inner request; ``url`` is relative to the service root."""

    id: str
    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None


@dataclass(frozen=True)
class BatchResponse:
    """One inner response; header names are lower-cased."""

    id: str
    status: int
    headers: Mapping[str, str]
    body: Any = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def encode(requests: Sequence[BatchRequest]) -> bytes:
    """The JSON body of a batch request."""
    if len(requests) > MAX_REQUESTS:
        raise ValueError(f"a JSON batch holds at most {MAX_REQUESTS} requests, got {len(requests)}")
    items: list[dict[str, Any]] = []
    for request in requests:
        item: dict[str, Any] = {"id": request.id, "method": request.method, "url": request.url}
        headers = dict(request.headers)
        if request.body is not None:
            headers.setdefault("Content-Type", "application/json")
            item["body"] = request.body
        if headers:
            item["headers"] = headers
        items.append(item)
    return jsonwire.dumps({"requests": items})


def decode(body: Mapping[str, Any] | bytes | str) -> dict[str, BatchResponse]:
    """Inner responses keyed by request id."""
    data = jsonwire.loads(body) if isinstance(body, bytes | str) else body
    responses = data.get("responses")
    if not isinstance(responses, list):
        raise ValueError("a JSON batch response must carry a 'responses' list")
    result: dict[str, BatchResponse] = {}
    for item in responses:
        raw_headers = item.get("headers") or {}
        headers = {str(k).lower(): str(v) for k, v in raw_headers.items()}
        result[str(item.get("id"))] = BatchResponse(
            id=str(item.get("id")),
            status=int(item.get("status", 0)),
            headers=headers,
            body=item.get("body"),
        )
    return result
