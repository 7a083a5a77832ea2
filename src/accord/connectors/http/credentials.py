"""Auth as :class:`httpx.Auth` flows: add the credential header; on a 401 renew it once.

:class:`CredentialAuth` holds one header value (a token, a key) and renews it when it
expires or the server refuses it; a second 401 raises :class:`~accord.errors.AuthError`
naming the connection. Secrets never appear in ``repr``, ``str`` or error messages.
"""

from __future__ import annotations

import base64
import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Generator
from typing import Any, ClassVar

import httpx

from accord.connectors.http.outcomes import DEFAULT_ERRORS, failure_of
from accord.connectors.http.tls import is_tls_failure, ssl_context
from accord.errors import AuthError, ConfigError, TransientError

EXPIRY_MARGIN = 300.0
"""Renew a token this many seconds (at most a tenth of its lifetime) before it expires."""


class CredentialAuth(httpx.Auth, ABC):
    """Base of every auth variant: a cached header value, renewed on expiry and on a 401."""

    requires_response_body = True
    renewable: ClassVar[bool] = True
    """False for fixed credentials: a 401 then fails at once (renewing cannot help)."""

    def __init__(self, *, header: str = "Authorization", connection: str | None = None) -> None:
        self.header = header
        self.connection = connection
        self._value: str | None = None
        self._expires_at = math.inf
        self._lock = threading.Lock()
        self.tokens_acquired = 0
        """Credentials fetched from a token endpoint (cache hits excluded)."""

    # -- for subclasses ----------------------------------------------------------------
    @abstractmethod
    def fetch(self) -> tuple[str, float | None]:
        """A fresh header value and its lifetime in seconds (None: until refused)."""

    def forget(self) -> None:
        """Drop any token cached outside this object (e.g. in msal's cache)."""

    def close(self) -> None:
        """Release connections to the token endpoint."""

    # -- the flow ----------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.connection or "?"

    def header_value(self) -> str:
        """The current header value, fetched or renewed when needed."""
        with self._lock:
            if self._value is None or time.monotonic() >= self._expires_at:
                value, lifetime = self.fetch()
                self._value = value
                self._expires_at = (
                    math.inf
                    if lifetime is None
                    else time.monotonic() + lifetime - min(EXPIRY_MARGIN, lifetime * 0.1)
                )
            return self._value

    def invalidate(self, refused: str | None = None) -> None:
        """Forget the header value (only if it is still ``refused``, when given)."""
        with self._lock:
            if refused is None or refused == self._value:
                self._value = None
                self.forget()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        sent = self.header_value()
        request.headers[self.header] = sent
        response = yield request
        if response.status_code != 401:
            return
        if self.renewable:
            self.invalidate(sent)
            request.headers[self.header] = self.header_value()
            response = yield request
            if response.status_code != 401:
                return
        raise AuthError(
            f"credentials for connection {self.name!r} were refused / token expired and could "
            f"not be renewed ({request.method} {request.url}: {failure_of(response)})",
            detail=failure_of(response).code or None,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(connection={self.connection!r})"

    __str__ = __repr__


class StaticBearer(CredentialAuth):
    """A fixed bearer token (tests and hand-made tokens); cannot be renewed."""

    renewable = False

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def fetch(self) -> tuple[str, float | None]:
        return f"Bearer {self._token}", None


class ApiKeyAuth(CredentialAuth):
    """A fixed key in a header, e.g. ``Authorization: Bearer <key>`` or ``X-Api-Key: <key>``."""

    renewable = False

    def __init__(self, header: str, key: str, prefix: str = "") -> None:
        if not header.strip():
            raise ConfigError("API key auth needs a header name (e.g. 'X-Api-Key')")
        super().__init__(header=header)
        self._key = key
        self.prefix = prefix

    def fetch(self) -> tuple[str, float | None]:
        return f"{self.prefix}{self._key}", None

    def __repr__(self) -> str:
        return f"ApiKeyAuth(header={self.header!r}, connection={self.connection!r})"


class BasicAuth(CredentialAuth):
    """HTTP basic auth (RFC 7617)."""

    renewable = False

    def __init__(self, username: str, password: str) -> None:
        super().__init__()
        self.username = username
        self._password = password

    def fetch(self) -> tuple[str, float | None]:
        pair = f"{self.username}:{self._password}".encode()
        return f"Basic {base64.b64encode(pair).decode()}", None

    def __repr__(self) -> str:
        return f"BasicAuth(username={self.username!r}, connection={self.connection!r})"


class TokenEndpoint:
    """POSTs to one token or login endpoint over verified TLS; refusals become clear errors.

    ``transport`` lets tests answer in process; the client is created on first use.
    """

    def __init__(
        self,
        url: str,
        ca_cert: str | None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url
        self.ca_cert = ca_cert
        self.timeout = timeout
        self.transport = transport
        self._client: httpx.Client | None = None

    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                verify=ssl_context(self.ca_cert), timeout=self.timeout, transport=self.transport
            )
        return self._client

    def post(
        self, connection: str, *, data: dict[str, str] | None = None, json: Any = None
    ) -> dict[str, Any]:
        """POST form ``data`` or ``json``; the decoded JSON object of a 2xx answer."""
        try:
            response = self.client().post(self.url, data=data, json=json)
        except httpx.TransportError as exc:
            raise transport_failure(exc, self.url, connection) from exc
        if response.status_code >= 300:
            failure = failure_of(response)
            if DEFAULT_ERRORS.classify(failure.status, failure.code).retryable:
                raise TransientError(
                    f"connection {connection!r}: token endpoint {self.url} is temporarily "
                    f"unavailable ({failure})"
                )
            raise AuthError(
                f"credentials for connection {connection!r} were refused by {self.url} ({failure})",
                detail=failure.code or None,
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise AuthError(
                f"connection {connection!r}: {self.url} answered {response.status_code} "
                "without a JSON object"
            )
        return body

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def transport_failure(exc: Exception, url: str, connection: str) -> ConfigError | TransientError:
    """A TLS failure is a configuration error; anything else on the wire is transient."""
    if is_tls_failure(exc):
        return ConfigError(
            f"TLS verification failed for token endpoint {url}: {exc}; "
            "check the connection's CA certificate (ca_cert)",
            location=f"connection {connection!r}",
        )
    return TransientError(
        f"connection {connection!r}: token endpoint {url} is unreachable: "
        f"{type(exc).__name__}: {exc or 'no detail'}"
    )


def token_from(body: dict[str, Any], field: str, url: str, connection: str) -> str:
    """The token in ``body[field]``; an error naming the field when it is missing."""
    token = body.get(field)
    if not isinstance(token, str) or not token:
        raise AuthError(
            f"connection {connection!r}: {url} answered without a {field!r} "
            f"(fields: {', '.join(sorted(body)) or 'none'})"
        )
    return token


def lifetime_of(body: dict[str, Any]) -> float | None:
    """``expires_in`` seconds of an OAuth token answer (None when absent or odd)."""
    try:
        return float(body["expires_in"])
    except (KeyError, TypeError, ValueError):
        return None
