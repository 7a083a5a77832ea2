"""The one HTTP client every connector uses: auth, retries, rate limit, request counting."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from accord.connectors.http.auth import AuthStrategy, NoAuth
from accord.connectors.http.policy import RetryPolicy
from accord.connectors.http.ratelimit import RateLimiter
from accord.errors import AuthError, ConfigError, TransientError

_NETWORK_ERRORS = (httpx.TransportError,)
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


_QUERY_SAFE = "$'(),:@/*;!"


def encode_query(params: Mapping[str, str]) -> str:
    """A query string with spaces as ``%20`` and OData punctuation left readable."""
    return "&".join(
        f"{quote(k, safe=_QUERY_SAFE)}={quote(v, safe=_QUERY_SAFE)}" for k, v in params.items()
    )


def ssl_context(ca_cert: str | None) -> ssl.SSLContext:
    """A verifying TLS context trusting ``ca_cert`` (a PEM file) or the system store."""
    return ssl.create_default_context(cafile=ca_cert) if ca_cert else ssl.create_default_context()


def is_tls_failure(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) is a TLS handshake or verification failure."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)


class HttpClient:
    """A synchronous client bound to one base URL and one connection.

    * Retries 408/429/502/503/504 and network errors with backoff, honouring ``Retry-After``.
    * On 401 renews the token once; a second 401 raises :class:`AuthError`.
    * Every other response is returned as is; callers decide what a 4xx means.
    * ``request_count`` counts HTTP requests actually sent (retries included).
    """

    def __init__(
        self,
        base_url: str,
        *,
        connection: str,
        auth: AuthStrategy | None = None,
        policy: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        headers: Mapping[str, str] | None = None,
        ca_cert: str | None = None,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.connection = connection
        self.auth: AuthStrategy = auth or NoAuth()
        self.policy = policy or RetryPolicy()
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
        )

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
        """Send one request, retrying what is worth retrying; return the final response.

        ``idempotent`` (default: by method) says whether a request that may have reached
        the server can be sent again after a dropped connection or read timeout.
        """
        method = method.upper()
        safe = method in _SAFE_METHODS if idempotent is None else idempotent
        url = self.url(path)
        if params:
            url = f"{url}{'&' if '?' in url else '?'}{encode_query(params)}"
        renewed = False
        attempt = 0
        while True:
            attempt += 1
            if self.limiter is not None:
                self.limiter.acquire()
            request_headers = dict(headers or {})
            authorization = self.auth.authorization()
            if authorization:
                request_headers["Authorization"] = authorization
            self.request_count += 1
            try:
                response = self._client.request(
                    method,
                    url,
                    headers=request_headers,
                    json=json,
                    content=content,
                )
            except _NETWORK_ERRORS as exc:
                if is_tls_failure(exc):
                    raise ConfigError(
                        f"TLS verification failed for {url}: {exc}; check the CA certificate",
                        location=f"connection {self.connection!r}",
                    ) from exc
                sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                if attempt >= self.policy.max_attempts or (sent and not safe):
                    raise TransientError(
                        f"connection {self.connection!r}: {method} {url} failed after "
                        f"{attempt} attempt(s): {type(exc).__name__}: {exc or 'no detail'}"
                    ) from exc
                self._wait(attempt, None)
                continue
            if response.status_code == 401:
                if renewed:
                    raise AuthError(
                        f"credentials for connection {self.connection!r} were refused / token "
                        f"expired and could not be renewed ({method} {url}: 401 "
                        f"{_brief(response)})"
                    )
                renewed = True
                self.auth.invalidate()
                attempt -= 1
                continue
            if self.policy.should_retry(response.status_code):
                retry_after = response.headers.get("Retry-After")
                if attempt >= self.policy.max_attempts:
                    raise TransientError(
                        f"connection {self.connection!r}: {method} {url} still answered "
                        f"{response.status_code} after {attempt} attempt(s): {_brief(response)}",
                        retry_after=self.policy.delay(attempt, retry_after),
                    )
                self._wait(attempt, retry_after)
                continue
            return response

    def _wait(self, attempt: int, retry_after: str | None) -> None:
        self.retry_count += 1
        self._sleep(self.policy.delay(attempt, retry_after))

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
        close_auth = getattr(self.auth, "close", None)
        if callable(close_auth):
            close_auth()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _brief(response: httpx.Response, limit: int = 300) -> str:
    """A short, log-safe description of an error response."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:limit] or response.reason_phrase
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        code = error.get("code") or ""
        message = error.get("message") or ""
        return f"{code} {message}".strip()[:limit]
    return response.text[:limit]
