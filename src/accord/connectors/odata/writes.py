"""Chunked batch writes with bounded re-sending of the inner requests worth retrying; every
``$batch`` call sent logs one structured line and counts in the metrics."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from tenacity import Retrying, retry_if_result

from accord.connectors.base import WriteOp, WriteResult
from accord.connectors.http import AdaptiveConcurrency, HttpClient, Outcome, RetryPolicy
from accord.connectors.odata.errors import classify, parse_error
from accord.errors import AuthError
from accord.observability import observe_batch

Indexed = Sequence[tuple[int, WriteOp]]
SendBatch = Callable[[Indexed], tuple[Mapping[int, WriteResult], str | None]]
"""Send one batch; return a result per index and the largest inner ``Retry-After`` seen."""


def run_batches(
    ops: Sequence[WriteOp],
    batch_size: int,
    send: SendBatch,
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
    *,
    entity: str,
    connection: str,
    gate: AdaptiveConcurrency | None = None,
) -> list[WriteResult]:
    """Write ``ops`` on ``entity`` in chunks of ``batch_size``; one result per op, in order.

    With the connection's concurrency ``gate`` the chunks are sent at once (the gate decides
    how many are really in flight), and while the service's pushback keeps the gate below its
    maximum a call is split into at least as many chunks as the gate has slots, so that the
    writes in flight can use what the limits allow; every chunk is finished before an error of
    one goes up.

    Inner requests the error table calls retryable (throttled, 5xx) are sent again, alone,
    after backing off (tenacity, the policy's waits), up to ``policy.max_attempts`` tries.
    Each batch sent (a re-send too) is observed once, with ``connection`` in its log line.
    """
    results: list[WriteResult | None] = [None] * len(ops)
    indexed = list(enumerate(ops))
    observed = _observed(send, entity, connection)
    if gate is not None and gate.slots < gate.settings.max_in_flight:
        batch_size = min(batch_size, max(1, math.ceil(len(indexed) / gate.slots)))
    chunks = [indexed[start : start + batch_size] for start in range(0, len(indexed), batch_size)]
    parallel = gate.settings.max_in_flight if gate is not None else 1
    if parallel > 1 and len(chunks) > 1:
        with ThreadPoolExecutor(
            min(parallel, len(chunks)), thread_name_prefix="accord-batch"
        ) as pool:
            futures = [
                pool.submit(_write_chunk, chunk, observed, policy, sleep, results)
                for chunk in chunks
            ]
            for future in futures:
                future.result()
    else:
        for chunk in chunks:
            _write_chunk(chunk, observed, policy, sleep, results)
    return [r if r is not None else missing_result(ops[i]) for i, r in enumerate(results)]


def _write_chunk(
    chunk: Indexed,
    send: SendBatch,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
    results: list[WriteResult | None],
) -> None:
    """Send one chunk, then its retryable ops again until none is left or tries run out."""
    pending: Indexed = chunk
    retry_after: str | None = None

    def attempt() -> Indexed:
        nonlocal pending, retry_after
        outcome, retry_after = send(pending)
        again: list[tuple[int, WriteOp]] = []
        for index, op in pending:
            result = outcome.get(index) or missing_result(op)
            results[index] = result
            if result.retryable:
                again.append((index, op))
        pending = again
        return again

    Retrying(
        stop=policy.stop(),
        wait=policy.wait(lambda _: retry_after),
        retry=retry_if_result(bool),
        sleep=sleep,
        retry_error_callback=lambda _: None,
    )(attempt)


def _observed(send: SendBatch, entity: str, connection: str) -> SendBatch:
    """``send`` that reports each batch: its operations, how many failed, how long it took.

    A batch whose call raised (refused credentials, no response) counts as failed whole.
    """

    def observed_send(pending: Indexed) -> tuple[Mapping[int, WriteResult], str | None]:
        started = time.monotonic()
        failed = len(pending)
        try:
            outcome, retry_after = send(pending)
            answered = [outcome.get(index) for index, _ in pending]
            failed = sum(1 for result in answered if result is None or not result.ok)
            return outcome, retry_after
        finally:
            observe_batch(
                entity,
                ops=len(pending),
                failed=failed,
                seconds=time.monotonic() - started,
                connection=connection,
            )

    return observed_send


def missing_result(op: WriteOp) -> WriteResult:
    return WriteResult(
        ref=op.ref,
        ok=False,
        id=op.id,
        error="the batch response had no answer for this request",
        retryable=True,
    )


BatchOutcome = tuple[dict[int, WriteResult], str | None]
"""Results by op index, and the Retry-After the service sent (if any)."""


def batch_call_failed(
    http: HttpClient, response: httpx.Response, pending: Indexed
) -> BatchOutcome | None:
    """The outcome when a ``$batch`` call failed as a whole; None when it was answered (2xx).

    The connection's error table decides: refused credentials raise :class:`AuthError`;
    otherwise every op of the batch fails with the service's error, retryable when the
    table says so.
    """
    if response.status_code < 300:
        return None
    problem = parse_error(response)
    outcome = classify(http.errors, problem)
    if outcome is Outcome.AUTH:
        raise AuthError(f"connection {http.connection!r}: $batch refused: {problem}")
    results = {
        index: WriteResult(
            ref=op.ref,
            ok=False,
            id=op.id,
            status=problem.status,
            error=str(problem),
            error_code=problem.code or None,
            retryable=outcome.retryable,
        )
        for index, op in pending
    }
    return results, response.headers.get("Retry-After")


def writable(values: Mapping[str, Any], read_only: frozenset[str]) -> dict[str, Any]:
    """``values`` without read-only fields and annotations."""
    return {k: v for k, v in values.items() if k not in read_only and "@" not in k}
