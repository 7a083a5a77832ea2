"""Dataverse's rows of the error-policy table and what a failed batch part means for a write."""

from __future__ import annotations

from typing import Any

from accord.connectors.base import WriteResult
from accord.connectors.http.outcomes import DEFAULT_ERRORS, Outcome, Rule
from accord.connectors.odata.errors import classify, failed_write, parse_error_body

THROTTLED_CODES = frozenset({"0x80072322", "0x80072321", "0x80072326"})
"""Service-protection limits: request count, execution time, concurrency."""

ERRORS = DEFAULT_ERRORS.with_rules(
    "dataverse",
    Rule(
        (400, 599),
        Outcome.THROTTLE,
        when=lambda failure: failure.code in THROTTLED_CODES,
        unsent=True,
        why="a service-protection limit",
    ),
    Rule(
        412,
        Outcome.SKIP,
        when=lambda failure: failure.conditional is False,
        why="412 without If-Match is a duplicate key (DuplicateRecord), not a stale etag",
    ),
)


def failed_result(
    ref: str, op_id: str | None, status: int, body: Any, *, conditional: bool = True
) -> WriteResult:
    """The result of a batch part that did not succeed.

    412 is a stale etag only for conditional writes (``If-Match``); on a create it means a
    duplicate key (``DuplicateRecord``), which is not a conflict.
    """
    error = parse_error_body(status, body)
    return failed_write(ref, op_id, error, classify(ERRORS, error, conditional))
