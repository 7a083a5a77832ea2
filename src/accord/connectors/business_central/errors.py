"""Business Central error codes and what a failed inner batch response means for a write."""

from __future__ import annotations

from typing import Any

from accord.connectors.base import WriteResult
from accord.connectors.odata.errors import failed_write, parse_error_body

CONFLICT_STATUSES = frozenset({409, 412})
"""BC answers a stale If-Match with 409 ``Request_EntityChanged``; 412 is accepted too."""
ENTITY_CHANGED = "Request_EntityChanged"


def failed_result(ref: str, op_id: str | None, status: int, body: Any) -> WriteResult:
    """The result of an inner request that did not succeed."""
    error = parse_error_body(status, body)
    conflict = status in CONFLICT_STATUSES or error.code == ENTITY_CHANGED
    return failed_write(ref, op_id, status, error, retryable=False, conflict=conflict)
