"""Chunked batch writes with bounded re-sending of the inner requests worth retrying."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from accord.connectors.base import WriteOp, WriteResult
from accord.connectors.http import RetryPolicy
from accord.connectors.odata.errors import parse_error
from accord.errors import AuthError

Indexed = Sequence[tuple[int, WriteOp]]
SendBatch = Callable[[Indexed], tuple[Mapping[int, WriteResult], str | None]]
"""Send one batch; return a result per index and the largest inner ``Retry-After`` seen."""


def run_batches(
    ops: Sequence[WriteOp],
    batch_size: int,
    send: SendBatch,
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
) -> list[WriteResult]:
    """Write ``ops`` in chunks of ``batch_size``; one result per op, in order.

    Inner requests answered with a retryable status (429, 5xx) are sent again, alone,
    after backing off, up to ``policy.max_attempts`` tries in all.
    """
    results: list[WriteResult | None] = [None] * len(ops)
    indexed = list(enumerate(ops))
    for start in range(0, len(indexed), batch_size):
        pending: Indexed = indexed[start : start + batch_size]
        attempt = 0
        while pending:
            attempt += 1
            outcome, retry_after = send(pending)
            retry: list[tuple[int, WriteOp]] = []
            for index, op in pending:
                result = outcome.get(index) or missing_result(op)
                if result.retryable and attempt < policy.max_attempts:
                    retry.append((index, op))
                results[index] = result
            if retry:
                sleep(policy.delay(attempt, retry_after))
            pending = retry
    return [r if r is not None else missing_result(ops[i]) for i, r in enumerate(results)]


def missing_result(op: WriteOp) -> WriteResult:
    return WriteResult(
        ref=op.ref,
        ok=False,
        id=op.id,
        error="the batch response had no answer for this request",
        retryable=True,
    )


def whole_batch_failed(
    pending: Indexed, status: int, error: str, code: str | None, retryable: bool
) -> dict[int, WriteResult]:
    """The same failed result for every op of a batch the service rejected as a whole."""
    return {
        index: WriteResult(
            ref=op.ref,
            ok=False,
            id=op.id,
            status=status,
            error=error,
            error_code=code,
            retryable=retryable,
        )
        for index, op in pending
    }


BatchOutcome = tuple[dict[int, WriteResult], str | None]
"""Results by op index, and the Retry-After the service sent (if any)."""


def batch_call_failed(
    connection: str, response: httpx.Response, pending: Indexed
) -> BatchOutcome | None:
    """The outcome when a ``$batch`` call failed as a whole; None when it was answered (200).

    Refused credentials raise :class:`AuthError`; anything else fails every op of the
    batch with the service's error (retryable for 5xx).
    """
    if response.status_code in (401, 403):
        raise AuthError(f"connection {connection!r}: $batch refused: {parse_error(response)}")
    if response.status_code == 200:
        return None
    problem = parse_error(response)
    results = whole_batch_failed(
        pending,
        response.status_code,
        str(problem),
        problem.code or None,
        response.status_code >= 500,
    )
    return results, response.headers.get("Retry-After")


def writable(values: Mapping[str, Any], read_only: frozenset[str]) -> dict[str, Any]:
    """``values`` without read-only fields and annotations."""
    return {k: v for k, v in values.items() if k not in read_only and "@" not in k}
