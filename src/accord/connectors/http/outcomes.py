"""The error-policy table: what a failed answer means (retry, throttle, fail, skip, ...).

One table of :class:`Rule` rows decides for whole requests, whole batches and single
operations inside a batch alike. Rows are tried in order; the first that matches wins.
Each system adds its own rows in front of :data:`DEFAULT_ERRORS` with
:meth:`ErrorPolicy.with_rules`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx


class Outcome(StrEnum):
    """What to do about one failed answer."""

    RETRY = "retry"
    """Transient trouble (timeouts, 5xx): send again after backing off."""
    THROTTLE = "throttle"
    """The service asks us to slow down: send again after ``Retry-After``."""
    FAIL = "fail"
    """Nothing the table knows: give up on this call."""
    SKIP = "skip"
    """The request itself is bad (validation): fail this record, go on with the rest."""
    AUTH = "auth"
    """Credentials refused or missing permission."""
    CONFLICT = "conflict"
    """The record changed since it was read (stale etag)."""
    NOT_FOUND = "not_found"
    """The record or resource does not exist."""

    @property
    def retryable(self) -> bool:
        return self in (Outcome.RETRY, Outcome.THROTTLE)


@dataclass(frozen=True)
class Failure:
    """What is known about one failed answer."""

    status: int
    code: str = ""
    """The system's error code (``Request_EntityChanged``, ``0x80072322``, ``invalid_grant``)."""
    message: str = ""
    conditional: bool | None = None
    """Whether the request carried ``If-Match`` (None: unknown or not a write)."""

    @property
    def detail(self) -> str:
        """Code and message without the status (``"Request_EntityChanged: changed"``)."""
        return ": ".join(p for p in (self.code, self.message) if p) or "no detail"

    def __str__(self) -> str:
        return f"{self.status} {self.detail}"


Predicate = Callable[[Failure], bool]


@dataclass(frozen=True)
class Rule:
    """One row: a status (or inclusive range ``(low, high)``), an optional predicate on the
    parsed failure, and the outcome."""

    status: int | tuple[int, int]
    outcome: Outcome
    when: Predicate | None = None
    unsent: bool = False
    """The service did not act on the request, so even a non-idempotent one may be resent."""
    why: str = ""

    def matches(self, failure: Failure) -> bool:
        low, high = self.status if isinstance(self.status, tuple) else (self.status,) * 2
        if not low <= failure.status <= high:
            return False
        return self.when is None or self.when(failure)


_FALLBACK = Rule((0, 999), Outcome.FAIL, why="no rule matched")


@dataclass(frozen=True)
class ErrorPolicy:
    """An ordered table of rules; the first match decides."""

    rules: tuple[Rule, ...]
    name: str = "default"

    def with_rules(self, name: str, *rules: Rule) -> ErrorPolicy:
        """A policy trying ``rules`` first, then this one's."""
        return ErrorPolicy((*rules, *self.rules), name)

    def rule_for(self, failure: Failure) -> Rule:
        return next((r for r in self.rules if r.matches(failure)), _FALLBACK)

    def classify(
        self,
        status: int,
        code: str = "",
        *,
        message: str = "",
        conditional: bool | None = None,
    ) -> Outcome:
        """The outcome for a failed answer with this status and error code."""
        return self.rule_for(Failure(status, code, message, conditional)).outcome

    def classify_response(self, response: httpx.Response) -> Rule:
        """The rule for a failed HTTP response (its body parsed for the error code)."""
        return self.rule_for(failure_of(response))


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(401, Outcome.AUTH, why="credentials refused or token expired"),
    Rule(403, Outcome.AUTH, why="the application lacks a permission"),
    Rule(404, Outcome.NOT_FOUND),
    Rule(408, Outcome.RETRY, unsent=True, why="the service timed out waiting for the request"),
    Rule(412, Outcome.CONFLICT, why="If-Match precondition failed: the etag is stale"),
    Rule(429, Outcome.THROTTLE, unsent=True, why="too many requests"),
    Rule((502, 504), Outcome.RETRY, unsent=True, why="gateway or service unavailable"),
    Rule((500, 599), Outcome.RETRY, why="server trouble; the request may have been processed"),
    Rule((400, 499), Outcome.SKIP, why="the request is invalid"),
)

DEFAULT_ERRORS = ErrorPolicy(DEFAULT_RULES)
"""The shared defaults every system starts from."""


def failure_from_body(status: int, body: Any, fallback: str = "") -> Failure:
    """Code and message from a decoded error body of any common shape.

    OData ``{"error": {"code", "message"}}``; OAuth ``{"error": "...", "error_description"}``;
    flat ``{"code", "message"}``; Salesforce ``[{"errorCode", "message"}]``.
    """
    if isinstance(body, list) and body and isinstance(body[0], dict):
        first = body[0]
        code = first.get("errorCode") or first.get("statusCode") or ""
        return Failure(status, str(code), str(first.get("message") or ""))
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return Failure(status, str(error.get("code") or ""), str(error.get("message") or ""))
        if isinstance(error, str):
            return Failure(status, error, str(body.get("error_description") or ""))
        if "message" in body:
            return Failure(status, str(body.get("code") or ""), str(body["message"]))
    return Failure(status, "", fallback or (str(body)[:500] if body else ""))


def failure_of(response: httpx.Response, conditional: bool | None = None) -> Failure:
    """The failure an HTTP response reports."""
    try:
        body = response.json()
    except ValueError:
        text = response.text[:500] or response.reason_phrase
        return Failure(response.status_code, "", text, conditional)
    found = failure_from_body(response.status_code, body, response.reason_phrase)
    return Failure(found.status, found.code, found.message[:500], conditional)
