"""Business Central's rows of the error table."""

from __future__ import annotations

from accord.connectors.business_central.errors import ERRORS, failed_result
from accord.connectors.http import Outcome


def test_bc_conflicts_by_status_and_by_code() -> None:
    assert ERRORS.classify(409) is Outcome.CONFLICT
    assert ERRORS.classify(412) is Outcome.CONFLICT
    assert ERRORS.classify(400, "Request_EntityChanged") is Outcome.CONFLICT
    assert ERRORS.classify(400, "BadRequest_NotFound") is Outcome.SKIP


def test_failed_inner_results() -> None:
    body = {"error": {"code": "Request_EntityChanged", "message": "Another user changed it."}}
    stale = failed_result("r", "id1", 409, body)
    assert stale.conflict and not stale.retryable and stale.error_code == "Request_EntityChanged"
    throttled = failed_result("r", None, 429, {"error": {"code": "TooMany", "message": "m"}})
    assert throttled.retryable and not throttled.conflict
    missing = failed_result("r", "x", 404, {"error": {"code": "NotFound", "message": "gone"}})
    assert missing.not_found and missing.error == "404 NotFound: gone"
