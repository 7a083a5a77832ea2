"""Dataverse error meanings for writes (412 is a stale etag; 404 a missing row)."""

from __future__ import annotations

from typing import Any

from accord.connectors.base import WriteResult
from accord.connectors.odata.errors import parse_error_body

CONFLICT_STATUSES = frozenset({412})
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
THROTTLED_CODES = frozenset({"0x80072322", "0x80072321", "0x80072326"})
"""Service-protection limits: request count, execution time, concurrency."""


def failed_result(
    ref: str, op_id: str | None, status: int, body: Any, *, conditional: bool = True
) -> WriteResult:
    """The result of a batch part that did not succeed.

    412 is a stale etag only for conditional writes (``If-Match``); on a create it means a
    duplicate key (``DuplicateRecord``), which is not a conflict.
    """
    error = parse_error_body(status, body)
    return WriteResult(
        ref=ref,
        ok=False,
        id=op_id,
        status=status,
        error=str(error),
        error_code=error.code or None,
        retryable=status in RETRYABLE_STATUSES or error.code in THROTTLED_CODES,
        not_found=status == 404,
        conflict=conditional and status in CONFLICT_STATUSES,
    )
