"""Batch writes classified by the error table: inner results retried, whole batches failed."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping

import httpx
import pytest

from accord.connectors.base import WriteOp, WriteResult
from accord.connectors.http import HttpClient, RetryPolicy
from accord.connectors.odata.writes import Indexed, batch_call_failed, run_batches
from accord.errors import AuthError, TransientError
from accord.observability import configure_logging
from accord.observability.metrics import REGISTRY

OPS = [WriteOp(kind="create", ref=f"r{i}", values={"n": i}) for i in range(5)]


def test_only_retryable_ops_are_sent_again_until_tries_run_out() -> None:
    sent: list[list[str]] = []
    slept: list[float] = []

    def send(pending: Indexed) -> tuple[Mapping[int, WriteResult], str | None]:
        sent.append([op.ref for _, op in pending])
        results = {
            i: WriteResult(ref=op.ref, ok=op.ref != "r1", retryable=op.ref == "r1")
            for i, op in pending
        }
        return results, "3"

    policy = RetryPolicy(max_attempts=3, max_retry_after=2, jitter=0)
    results = run_batches(OPS, 2, send, policy, slept.append, entity="things", connection="erp")
    assert sent == [["r0", "r1"], ["r1"], ["r1"], ["r2", "r3"], ["r4"]]
    assert slept == [2, 2]  # Retry-After 3, capped at 2
    assert [r.ok for r in results] == [True, False, True, True, True]
    assert results[1].retryable  # still retryable: the engine retries it next run


def whole(status: int, body: object = None) -> tuple[HttpClient, httpx.Response]:
    http = HttpClient("https://erp.example.test/api", connection="erp")
    request = httpx.Request("POST", "https://erp.example.test/api/$batch")
    return http, httpx.Response(status, json=body, request=request)


def test_a_whole_batch_failure_is_classified_by_the_table() -> None:
    pending = list(enumerate(OPS[:2]))
    http, busy = whole(503, {"error": {"code": "Unavailable", "message": "later"}})
    failed = batch_call_failed(http, busy, pending)
    assert failed is not None
    assert all(r.retryable and r.status == 503 for r in failed[0].values())
    http, bad = whole(400, {"error": {"code": "BadRequest", "message": "no"}})
    failed = batch_call_failed(http, bad, pending)
    assert failed is not None and not any(r.retryable for r in failed[0].values())
    assert failed[0][0].error_code == "BadRequest"
    assert batch_call_failed(*whole(200, {}), pending) is None


def test_a_refused_batch_raises_auth_error() -> None:
    with pytest.raises(AuthError, match=r"connection 'erp': \$batch refused: 403"):
        batch_call_failed(*whole(403, {"error": {"code": "Forbidden", "message": "x"}}), [])


def _batches(entity: str, outcome: str) -> float:
    labels = {"entity": entity, "outcome": outcome}
    return REGISTRY.get_sample_value("accord_write_batches_total", labels) or 0.0


def test_every_batch_sent_logs_one_line_and_counts() -> None:
    out = io.StringIO()
    configure_logging("INFO", stream=out)
    before = {o: _batches("widgets", o) for o in ("ok", "partial", "failed")}
    seconds = REGISTRY.get_sample_value("accord_batch_seconds_count", {"entity": "widgets"})

    def send(pending: Indexed) -> tuple[Mapping[int, WriteResult], str | None]:
        # r1 fails for good; r3 gets no answer at all; the rest succeed
        results = {
            i: WriteResult(ref=op.ref, ok=op.ref != "r1") for i, op in pending if op.ref != "r3"
        }
        return results, None

    policy = RetryPolicy(max_attempts=1, jitter=0)
    run_batches(OPS, 2, send, policy, lambda _: None, entity="widgets", connection="erp")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(x["event"], x["ops"], x["failed"], x["outcome"]) for x in lines] == [
        ("write batch", 2, 1, "partial"),  # r0, r1
        ("write batch", 2, 1, "partial"),  # r2, r3 (unanswered counts as failed)
        ("write batch", 1, 0, "ok"),  # r4
    ]
    assert all(x["entity"] == "widgets" and x["connection"] == "erp" for x in lines)
    assert _batches("widgets", "partial") == before["partial"] + 2
    assert _batches("widgets", "ok") == before["ok"] + 1
    assert _batches("widgets", "failed") == before["failed"]
    after = REGISTRY.get_sample_value("accord_batch_seconds_count", {"entity": "widgets"})
    assert after == (seconds or 0.0) + 3


def test_a_batch_call_that_raises_counts_as_failed_whole() -> None:
    out = io.StringIO()
    configure_logging("INFO", stream=out)
    before = _batches("gadgets", "failed")

    def send(pending: Indexed) -> tuple[Mapping[int, WriteResult], str | None]:
        raise TransientError("no response")

    with pytest.raises(TransientError):
        run_batches(OPS[:3], 5, send, RetryPolicy(max_attempts=1), entity="gadgets", connection="c")
    (line,) = [json.loads(x) for x in out.getvalue().splitlines()]
    assert (line["ops"], line["failed"], line["level"]) == (3, 3, "warning")
    assert _batches("gadgets", "failed") == before + 1
