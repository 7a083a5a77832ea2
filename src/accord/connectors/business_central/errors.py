"""Business Central's rows of the error-policy table and what a failed inner batch response
means for a write."""

from __future__ import annotations

from typing import Any

from accord.connectors.base import WriteResult
from accord.connectors.http.outcomes import DEFAULT_ERRORS, Outcome, Rule
from accord.connectors.odata.errors import classify, failed_write, parse_error_body

ENTITY_CHANGED = "Request_EntityChanged"

ERRORS = DEFAULT_ERRORS.with_rules(
    "business-central",
    Rule(409, Outcome.CONFLICT, why="a stale If-Match: Request_EntityChanged"),
    Rule(
        (400, 499),
        Outcome.CONFLICT,
        when=lambda failure: failure.code == ENTITY_CHANGED,
        why="the record changed since it was read, whatever the status",
    ),
)
"""BC answers a stale etag with 409 ``Request_EntityChanged`` (412 is a conflict too, by the
defaults); 429, 408, 502-504 and other 5xx are retried as the defaults say."""


def failed_result(
    ref: str, op_id: str | None, status: int, body: Any, *, conditional: bool | None = None
) -> WriteResult:
    """The result of an inner request that did not succeed."""
    error = parse_error_body(status, body)
    return failed_write(ref, op_id, error, classify(ERRORS, error, conditional))
