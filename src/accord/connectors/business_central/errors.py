"""Business Central error codes and what a failed inner batch response means for a write."""

from __future__ import annotations

from typing import Any

from accord.connectors.base import WriteResult
from accord.connectors.odata.errors import parse_error_body

CONFLICT_STATUSES = frozenset({409, 412})
"""BC answers a stale If-Match with 409 ``Request_EntityChanged``; 412 is accepted too."""
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
ENTITY_CHANGED = "Request_EntityChanged"


def failed_result(ref: str, op_id: str | None, status: int, body: Any) -> WriteResult:
    """The result of an inner request that did not succeed."""
    error = parse_error_body(status, body)
    return WriteResult(
        ref=ref,
        ok=False,
        id=op_id,
        status=status,
        error=str(error),
        error_code=error.code or None,
        retryable=status in RETRYABLE_STATUSES,
        not_found=status == 404,
        conflict=status in CONFLICT_STATUSES or error.code == ENTITY_CHANGED,
    )
