"""The one HTTP client every connector uses: auth, retries, rate limit, request counting."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception

from accord.connectors.http.concurrency import AdaptiveConcurrency, Ticket
from accord.connectors.http.credentials import CredentialAuth
from accord.connectors.http.outcomes import DEFAULT_ERRORS, ErrorPolicy, Outcome, failure_of
from accord.connectors.http.policy import RetryPolicy
from accord.connectors.http.ratelimit import RateLimiter
from accord.connectors.http.tls import is_tls_failure, ssl_context
from accord.errors import ConfigError, TransientError
from accord.observability import observe_request

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_QUERY_SAFE = "$'(),:@/*;!"

__all__ = ["HttpClient", "encode_query", "is_tls_failure", "ssl_context"]


def encode_query(params: Mapping[str, str]) -> str:
    """A query string with spaces as ``%20`` and OData punctuation left readable."""
    return "&".join(
        f"{quote(k, safe=_QUERY_SAFE)}={quote(v, safe=_QUERY_SAFE)}" for k, v in params.items()
    )


class FailedAttempt(TransientError):
    """One try that failed; ``resend`` says whether another try is allowed."""

    def __init__(
        self,
        message: str,
        *,
        resend: bool,
        retry_after_header: str | None = None,
        retry_after: float | None = None,
        throttled: bool = False,
        pause_until: float | None = None,
    ) -> None:
        super().__init__(message, retry_after=retry_after)
        self.resend = resend
        self.retry_after_header = retry_after_header
        self.throttled = throttled
        self.pause_until = pause_until
        """The end of the connection's pause this throttled answer set."""


def _may_resend(exc: BaseException) -> bool:
    return isinstance(exc, FailedAttempt) and exc.resend


def _retry_after_of(state: RetryCallState) -> str | None:
    exc = state.outcome.exception() if state.outcome is not None else None
    return exc.retry_after_header if isinstance(exc, FailedAttempt) else None


class HttpClient:
    """A synchronous client bound to one base URL and one connection.

    * The error-policy table (``errors``) decides what a failed answer means; answers it
      calls RETRY or THROTTLE, and network errors, are sent again (tenacity) with backoff
      honouring ``Retry-After``. A request that may have reached the server is sent again
      only when idempotent, or when the table says the server did not act on it.
    * ``auth`` is an :class:`httpx.Auth`: it renews its token on a 401 and resends once.
    * Every other response is returned as is; callers classify it through ``errors``.
    * ``request_count`` counts HTTP requests actually sent (retries and renewals included),
      ``retry_count`` the waits before a retry.
    * ``gate`` (:class:`AdaptiveConcurrency`) bounds the requests in flight from every thread:
      a throttled answer cuts that bound and pauses new requests until its ``Retry-After``.
    """

    def __init__(
        self,
        base_url: str,
        *,
        connection: str,
        auth: httpx.Auth | None = None,
        policy: RetryPolicy | None = None,
        errors: ErrorPolicy = DEFAULT_ERRORS,
        limiter: RateLimiter | None = None,
        headers: Mapping[str, str] | None = None,
        ca_cert: str | None = None,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        gate: AdaptiveConcurrency | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.gate = gate or AdaptiveConcurrency()
        self.connection = connection
        if isinstance(auth, CredentialAuth) and auth.connection is None:
            auth.connection = connection
        self.auth = auth
        self.policy = policy or RetryPolicy()
        self.errors = errors
        self.limiter = limiter
        self.request_count = 0
        self.retry_count = 0
        self._sleep = sleep
        self._client = httpx.Client(
            base_url=self.base_url + "/",
            headers={"Accept": "application/json", **(headers or {})},
            verify=ssl_context(ca_cert),
            timeout=timeout,
            transport=transport,
            auth=auth,
            event_hooks={"request": [self._before_send]},
        )

    def _before_send(self, request: httpx.Request) -> None:
        """Runs for every request put on the wire (auth renewals included)."""
        if self.limiter is not None:
            self.limiter.acquire()
        self.request_count += 1

    def _count_retry(self, state: RetryCallState) -> None:
        self.retry_count += 1

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` (absolute URLs pass through)."""
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send one request, retrying what the error table says is worth retrying; return the
        final response.

        ``idempotent`` (default: by method) says whether a request that may have reached
        the server can be sent again after a dropped connection, a read timeout or a 500.
        """
        method = method.upper()
        safe = method in _SAFE_METHODS if idempotent is None else idempotent
        url = self.url(path)
        if params:
            url = f"{url}{'&' if '?' in url else '?'}{encode_query(params)}"
        retrying = Retrying(
            stop=self.policy.stop(lambda exc: isinstance(exc, FailedAttempt) and exc.throttled),
            wait=self.policy.wait(_retry_after_of),
            retry=retry_if_exception(_may_resend),
            sleep=self._sleep,
            before_sleep=self._count_retry,
            reraise=True,
        )
        response: httpx.Response | None = None
        own_pause: float | None = None
        for attempt in retrying:
            with attempt:
                number = attempt.retry_state.attempt_number
                try:
                    response = self._attempt(
                        method, url, headers, json, content, safe, number, own_pause
                    )
                except FailedAttempt as exc:
                    own_pause = exc.pause_until
                    raise
        assert response is not None
        return response

    def _attempt(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        json: Any,
        content: bytes | None,
        safe: bool,
        number: int,
        own_pause: float | None = None,
    ) -> httpx.Response:
        """One try: the response, or :class:`FailedAttempt` when it failed.

        The try holds a slot of the gate from before sending until the body is read. The
        retry of a throttled try has waited out its own pause in the policy's sleep
        (``own_pause``); it waits only for a pause another answer extended since.
        """
        ticket = self.gate.acquire(own_pause=own_pause)
        started = time.monotonic()
        try:
            response = self._client.request(
                method, url, headers=headers, json=json, content=content
            )
        except httpx.TransportError as exc:
            self.gate.release(ticket)
            observe_request(self.connection, method, None, time.monotonic() - started, False)
            if is_tls_failure(exc):
                raise ConfigError(
                    f"TLS verification failed for {url}: {exc}; check the CA certificate",
                    location=f"connection {self.connection!r}",
                ) from exc
            sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
            raise FailedAttempt(
                f"connection {self.connection!r}: {method} {url} failed after "
                f"{number} attempt(s): {type(exc).__name__}: {exc or 'no detail'}",
                resend=safe or not sent,
            ) from exc
        except BaseException:  # refused credentials and the like: the slot is free again
            self.gate.release(ticket)
            raise
        throttled = response.status_code == 429 or "Retry-After" in response.headers
        observe_request(
            self.connection, method, response.status_code, time.monotonic() - started, throttled
        )
        if response.status_code < 400:
            self.gate.release(ticket)
            return response
        failure = failure_of(response)
        rule = self.errors.rule_for(failure)
        header = response.headers.get("Retry-After")
        throttled = rule.outcome is Outcome.THROTTLE
        pause_until = None
        if throttled:
            pause_until = self._release_throttled(ticket, header)
        else:
            self.gate.release(ticket)
        if not rule.outcome.retryable or not (safe or rule.unsent):
            return response
        raise FailedAttempt(
            f"connection {self.connection!r}: {method} {url} still answered "
            f"{response.status_code} after {number} attempt(s): {failure.detail}",
            resend=True,
            retry_after_header=header,
            retry_after=self.policy.delay(number, header),
            throttled=throttled,
            pause_until=pause_until,
        )

    def _release_throttled(self, ticket: Ticket, header: str | None) -> float:
        """Pause the connection for the service's ``Retry-After`` (capped), else back off;
        the end of the pause."""
        return self.gate.release(ticket, self.policy.delay(self.gate.streak + 1, header))

    def get(
        self,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        return self.request("GET", path, params=params, headers=headers)

    def close(self) -> None:
        self._client.close()
        if isinstance(self.auth, CredentialAuth):
            self.auth.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
