"""OData error bodies (``{"error": {"code": "...", "message": "..."}}``) and what they mean,
decided by the connection's error-policy table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from accord.connectors.base import WriteResult
from accord.connectors.http.outcomes import ErrorPolicy, Outcome, failure_from_body
from accord.errors import AccordError, AuthError, Phase, TerminalError, TransientError


@dataclass(frozen=True)
class ODataError:
    """One error as the service reported it."""

    status: int
    code: str
    message: str

    def __str__(self) -> str:
        return (
            f"{self.status} {self.code}: {self.message}"
            if self.code
            else (f"{self.status}: {self.message}")
        )


def parse_error_body(status: int, body: Any, fallback: str = "") -> ODataError:
    """Read code and message from a decoded JSON body (tolerates odd shapes)."""
    failure = failure_from_body(status, body, fallback)
    return ODataError(status, failure.code, failure.message)


def parse_error(response: httpx.Response) -> ODataError:
    """The error carried by ``response``."""
    try:
        body = response.json()
    except ValueError:
        return ODataError(response.status_code, "", response.text[:500] or response.reason_phrase)
    return parse_error_body(response.status_code, body, response.reason_phrase)


def classify(errors: ErrorPolicy, error: ODataError, conditional: bool | None = None) -> Outcome:
    """The table's outcome for ``error``."""
    return errors.classify(error.status, error.code, message=error.message, conditional=conditional)


def failed_write(ref: str, op_id: str | None, error: ODataError, outcome: Outcome) -> WriteResult:
    """The result of one write the service refused, as the error table classified it."""
    return WriteResult(
        ref=ref,
        ok=False,
        id=op_id,
        status=error.status,
        error=str(error),
        error_code=error.code or None,
        retryable=outcome.retryable,
        not_found=outcome is Outcome.NOT_FOUND,
        conflict=outcome is Outcome.CONFLICT,
    )


def call_error(
    response: httpx.Response, errors: ErrorPolicy, prefix: str, phase: Phase = Phase.READ
) -> AccordError:
    """A clear error for a whole request that failed: auth, transient or terminal by the
    table. ``prefix`` names the connection and the request."""
    problem = parse_error(response)
    outcome = classify(errors, problem)
    if outcome is Outcome.AUTH:
        return AuthError(f"{prefix} was refused ({problem}); check the app's permissions")
    if outcome.retryable:
        return TransientError(f"{prefix} failed: {problem}", phase=phase)
    return TerminalError(f"{prefix} failed: {problem}", phase=phase, detail=problem.code)
