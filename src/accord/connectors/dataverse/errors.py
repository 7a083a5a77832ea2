"""Dataverse error meanings for writes (412 is a stale etag; 404 a missing row)."""

from __future__ import annotations

from typing import Any

from accord.connectors.base import WriteResult
from accord.connectors.odata.errors import failed_write, parse_error_body

CONFLICT_STATUSES = frozenset({412})
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
    return failed_write(
        ref,
        op_id,
        status,
        error,
        retryable=error.code in THROTTLED_CODES,
        conflict=conditional and status in CONFLICT_STATUSES,
    )
