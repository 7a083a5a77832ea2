"""OData error bodies: ``{"error": {"code": "...", "message": "..."}}``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from accord.connectors.base import WriteResult


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
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return ODataError(status, str(error.get("code") or ""), str(error.get("message") or ""))
        if "message" in body:
            return ODataError(status, str(body.get("code") or ""), str(body["message"]))
    return ODataError(status, "", fallback or (str(body)[:500] if body else ""))


def parse_error(response: httpx.Response) -> ODataError:
    """The error carried by ``response``."""
    try:
        body = response.json()
    except ValueError:
        return ODataError(response.status_code, "", response.text[:500] or response.reason_phrase)
    return parse_error_body(response.status_code, body, response.reason_phrase)


RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
"""Inner statuses worth sending again (timeouts, throttling, server trouble)."""


def failed_write(
    ref: str,
    op_id: str | None,
    status: int,
    error: ODataError,
    *,
    retryable: bool,
    conflict: bool,
) -> WriteResult:
    """The result of one write the service refused; each system says what is a conflict or
    worth retrying."""
    return WriteResult(
        ref=ref,
        ok=False,
        id=op_id,
        status=status,
        error=str(error),
        error_code=error.code or None,
        retryable=retryable or status in RETRYABLE_STATUSES,
        not_found=status == 404,
        conflict=conflict,
    )
