"""Auth strategies: how a request gets its ``Authorization`` header.

A strategy hands out a header value and can be told the value was refused
(:meth:`AuthStrategy.invalidate`), after which the next call fetches a fresh token.
"""

from __future__ import annotations

import functools
import threading
import time
from typing import Any, Protocol

from accord.errors import AuthError, ConfigError, TransientError

_TOKEN_SUFFIX = "/oauth2/v2.0/token"
_TRANSIENT_OAUTH_ERRORS = {"temporarily_unavailable", "server_error"}


class AuthStrategy(Protocol):
    """Supplies the ``Authorization`` header of every request."""

    def authorization(self) -> str | None:
        """The header value, fetching or renewing a token when needed."""
        ...

    def invalidate(self) -> None:
        """Forget the current token: the server refused it."""
        ...


class NoAuth:
    """No ``Authorization`` header (public endpoints, tests)."""

    def authorization(self) -> str | None:
        return None

    def invalidate(self) -> None:
        return None


class StaticBearer:
    """A fixed bearer token (tests and hand-made tokens); cannot be renewed."""

    def __init__(self, token: str) -> None:
        self._token = token

    def authorization(self) -> str | None:
        return f"Bearer {self._token}"

    def invalidate(self) -> None:
        return None


def authority_from_token_url(token_url: str) -> str:
    """``https://host/<tenant>/oauth2/v2.0/token`` -> ``https://host/<tenant>``."""
    url = token_url.rstrip("/")
    if not url.endswith(_TOKEN_SUFFIX):
        raise ConfigError(
            f"token URL {token_url!r} must end with {_TOKEN_SUFFIX!r} "
            "(e.g. https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token)"
        )
    return url[: -len(_TOKEN_SUFFIX)]


class MsalClientCredentials:
    """OAuth 2.0 client credentials against Microsoft Entra ID, through ``msal``.

    The token is kept until shortly before it expires; the msal application (and its
    tenant discovery request) is created on first use, so building a connector does no I/O.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str,
        ca_cert: str | None = None,
        *,
        connection: str = "?",
        timeout: float = 30.0,
    ) -> None:
        self.token_url = token_url
        self.authority = authority_from_token_url(token_url)
        self.client_id = client_id
        self._secret = client_secret
        self.scope = scope
        self.ca_cert = ca_cert
        self.connection = connection
        self.timeout = timeout
        self._app: Any = None
        self._session: Any = None
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()
        self.tokens_acquired = 0

    def authorization(self) -> str | None:
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires_at:
                self._acquire()
            return f"Bearer {self._token}"

    def invalidate(self) -> None:
        with self._lock:
            self._token = None
            self._expires_at = 0.0
            app = self._app
            if app is not None:
                cache = app.token_cache
                for entry in list(cache.search(cache.CredentialType.ACCESS_TOKEN)):
                    cache.remove_at(entry)

    def close(self) -> None:
        """Close the token endpoint's connections (the msal application stays usable)."""
        if self._session is not None:
            self._session.close()

    def _application(self) -> Any:
        if self._app is None:
            import msal
            import requests

            session = self._session = requests.Session()
            # requests lets REQUESTS_CA_BUNDLE override a session's verify; a per-request
            # argument wins over the environment, so bind it to every call.
            session.request = functools.partial(  # type: ignore[method-assign]
                session.request, verify=self.ca_cert or True, timeout=self.timeout
            )
            try:
                self._app = msal.ConfidentialClientApplication(
                    self.client_id,
                    client_credential=self._secret,
                    authority=self.authority,
                    instance_discovery=False,
                    verify=self.ca_cert or True,
                    http_client=session,
                )
            except requests.exceptions.SSLError as exc:
                raise self._tls_error(exc) from exc
            except requests.exceptions.RequestException as exc:
                raise self._unreachable(exc) from exc
            except ValueError as exc:
                raise AuthError(
                    f"connection {self.connection!r}: {self.authority} is not a usable token "
                    f"authority: {exc}"
                ) from exc
        return self._app

    def _acquire(self) -> None:
        import requests

        app = self._application()
        try:
            result: dict[str, Any] = app.acquire_token_for_client(scopes=[self.scope])
        except requests.exceptions.SSLError as exc:
            raise self._tls_error(exc) from exc
        except requests.exceptions.RequestException as exc:
            raise self._unreachable(exc) from exc
        token = result.get("access_token")
        if not token:
            raise self._refused(result)
        if result.get("token_source") != "cache":
            self.tokens_acquired += 1
        lifetime = float(result.get("expires_in") or 3600)
        self._token = str(token)
        self._expires_at = time.monotonic() + lifetime - min(300.0, lifetime * 0.1)

    def _refused(self, result: dict[str, Any]) -> AccordAuthFailure:
        code = str(result.get("error") or "unknown_error")
        description = str(result.get("error_description") or "no description")
        if code in _TRANSIENT_OAUTH_ERRORS:
            return TransientError(
                f"connection {self.connection!r}: token endpoint {self.token_url} is "
                f"temporarily unavailable ({code}): {description}"
            )
        return AuthError(
            f"credentials for connection {self.connection!r} were refused by "
            f"{self.token_url} ({code}): {description}",
            detail=code,
        )

    def _tls_error(self, exc: Exception) -> ConfigError:
        return ConfigError(
            f"TLS verification failed for token endpoint {self.token_url}: {exc}; "
            "check the connection's CA certificate (ca_cert)",
            location=f"connection {self.connection!r}",
        )

    def _unreachable(self, exc: Exception) -> TransientError:
        return TransientError(
            f"connection {self.connection!r}: token endpoint {self.token_url} is unreachable: {exc}"
        )


AccordAuthFailure = AuthError | TransientError
