"""The error-policy table: defaults, system rows in front, body-based predicates."""

from __future__ import annotations

import httpx

from accord.connectors.http import DEFAULT_ERRORS, Outcome, Rule, failure_from_body, failure_of
from accord.connectors.http.outcomes import Failure


def test_default_rows() -> None:
    expected = {
        401: Outcome.AUTH,
        403: Outcome.AUTH,
        404: Outcome.NOT_FOUND,
        408: Outcome.RETRY,
        409: Outcome.SKIP,
        412: Outcome.CONFLICT,
        400: Outcome.SKIP,
        429: Outcome.THROTTLE,
        500: Outcome.RETRY,
        503: Outcome.RETRY,
        302: Outcome.FAIL,
    }
    assert {s: DEFAULT_ERRORS.classify(s) for s in expected} == expected


def test_only_gateway_statuses_and_throttling_count_as_unsent() -> None:
    unsent = {
        s
        for s in (400, 408, 429, 500, 501, 502, 503, 504)
        if DEFAULT_ERRORS.rule_for(Failure(s)).unsent
    }
    assert unsent == {408, 429, 502, 503, 504}


def test_system_rows_win_and_can_look_at_the_code() -> None:
    entity_changed = Rule(
        (400, 499), Outcome.CONFLICT, when=lambda f: f.code == "Request_EntityChanged"
    )
    policy = DEFAULT_ERRORS.with_rules("erp", Rule(409, Outcome.CONFLICT), entity_changed)
    assert policy.classify(409) is Outcome.CONFLICT
    assert policy.classify(400, "Request_EntityChanged") is Outcome.CONFLICT
    assert policy.classify(400, "BadRequest") is Outcome.SKIP
    assert DEFAULT_ERRORS.classify(409) is Outcome.SKIP  # the defaults are unchanged


def test_retryable_outcomes() -> None:
    assert {o for o in Outcome if o.retryable} == {Outcome.RETRY, Outcome.THROTTLE}


def test_error_bodies_of_every_common_shape() -> None:
    odata = failure_from_body(409, {"error": {"code": "Request_EntityChanged", "message": "m"}})
    oauth = failure_from_body(400, {"error": "invalid_grant", "error_description": "expired"})
    salesforce = failure_from_body(401, [{"errorCode": "INVALID_SESSION_ID", "message": "gone"}])
    flat = failure_from_body(422, {"code": "E1", "message": "bad"})
    assert (odata.code, oauth.code, salesforce.code, flat.code) == (
        "Request_EntityChanged",
        "invalid_grant",
        "INVALID_SESSION_ID",
        "E1",
    )
    assert str(oauth) == "400 invalid_grant: expired"
    assert failure_from_body(500, None, "Internal Server Error").detail == "Internal Server Error"


def test_failure_of_a_response_that_is_not_json() -> None:
    failure = failure_of(httpx.Response(502, text="<html>bad gateway</html>"), conditional=True)
    assert failure == Failure(502, "", "<html>bad gateway</html>", True)
