"""Dataverse's rows of the error table."""

from __future__ import annotations

from accord.connectors.dataverse.errors import ERRORS, failed_result
from accord.connectors.http import Outcome


def test_service_protection_codes_throttle_whatever_the_status() -> None:
    assert ERRORS.classify(400, "0x80072322") is Outcome.THROTTLE
    assert ERRORS.classify(503, "0x80072326") is Outcome.THROTTLE
    assert ERRORS.classify(400, "0x80044331") is Outcome.SKIP


def test_412_is_a_conflict_only_for_conditional_writes() -> None:
    body = {"error": {"code": "0x80060882", "message": "version mismatch"}}
    assert failed_result("r", "a", 412, body).conflict
    duplicate = failed_result("r", None, 412, body, conditional=False)
    assert not duplicate.conflict and not duplicate.retryable
    throttled = failed_result("r", None, 429, {"error": {"code": "0x80072322", "message": "m"}})
    assert throttled.retryable
