"""Microsoft Entra ID auth through ``msal``: client credentials and device code.

msal talks to the token endpoint through :class:`MsalHttp`, a thin adapter over ``httpx``
that verifies TLS with the connection's CA file. The msal application (and its tenant
discovery request) is created on first use, so building a connector does no I/O.
"""

from __future__ import annotations

import os
from abc import abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from accord.connectors.http.credentials import CredentialAuth, transport_failure
from accord.connectors.http.tls import ssl_context
from accord.errors import AuthError, ConfigError, TransientError

_TOKEN_SUFFIX = "/oauth2/v2.0/token"
_TRANSIENT_OAUTH_ERRORS = {"temporarily_unavailable", "server_error"}


def authority_from_token_url(token_url: str) -> str:
    """``https://host/<tenant>/oauth2/v2.0/token`` -> ``https://host/<tenant>``."""
    url = token_url.rstrip("/")
    if not url.endswith(_TOKEN_SUFFIX):
        raise ConfigError(
            f"token URL {token_url!r} must end with {_TOKEN_SUFFIX!r} "
            "(e.g. https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token)"
        )
    return url[: -len(_TOKEN_SUFFIX)]


class MsalHttp:
    """The ``get``/``post`` interface msal expects, over one verifying ``httpx.Client``."""

    def __init__(
        self, ca_cert: str | None, timeout: float, transport: httpx.BaseTransport | None = None
    ) -> None:
        self._client = httpx.Client(
            verify=ssl_context(ca_cert), timeout=timeout, transport=transport
        )

    def get(self, url: str, params: Any = None, headers: Any = None, **_: Any) -> httpx.Response:
        return self._client.get(url, params=params, headers=headers)

    def post(
        self, url: str, params: Any = None, data: Any = None, headers: Any = None, **_: Any
    ) -> httpx.Response:
        if isinstance(data, dict):
            return self._client.post(url, params=params, data=data, headers=headers)
        content = data.encode() if isinstance(data, str) else data
        return self._client.post(url, params=params, content=content, headers=headers)

    def close(self) -> None:
        self._client.close()


class _MsalAuth(CredentialAuth):
    """What both msal variants share: the application, error mapping, cache pruning."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        scope: str | None,
        ca_cert: str | None,
        *,
        connection: str | None,
        timeout: float,
        transport: httpx.BaseTransport | None,
    ) -> None:
        super().__init__(connection=connection)
        self.token_url = token_url
        self.authority = authority_from_token_url(token_url)
        self.client_id = client_id
        self.scope = scope
        self.ca_cert = ca_cert
        self.timeout = timeout
        self._transport = transport
        self._http: MsalHttp | None = None
        self._app: Any = None

    @abstractmethod
    def build_application(self, http: MsalHttp) -> Any:
        """The msal application (confidential or public client) this flow uses."""

    def application(self) -> Any:
        if self._app is None:
            from msal.exceptions import MsalServiceError

            self._http = self._http or MsalHttp(self.ca_cert, self.timeout, self._transport)
            try:
                self._app = self.build_application(self._http)
            except httpx.TransportError as exc:
                raise transport_failure(exc, self.token_url, self.name) from exc
            except MsalServiceError as exc:  # the authority's metadata answered 5xx
                raise TransientError(
                    f"connection {self.name!r}: token authority {self.authority} is "
                    f"temporarily unavailable ({exc})"
                ) from exc
            except ValueError as exc:
                raise AuthError(
                    f"connection {self.name!r}: {self.authority} is not a usable token "
                    f"authority: {exc}"
                ) from exc
        return self._app

    def scopes(self) -> list[str]:
        if not self.scope:
            raise ConfigError(
                "no OAuth scope configured (set 'scope', e.g. https://<resource>/.default)",
                location=f"connection {self.name!r}",
            )
        return [self.scope]

    def call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one msal call, turning wire failures into Accord errors."""
        from msal.exceptions import MsalServiceError

        try:
            return method(*args, **kwargs)
        except httpx.TransportError as exc:
            raise transport_failure(exc, self.token_url, self.name) from exc
        except MsalServiceError as exc:  # msal raises for a 5xx of the token endpoint
            raise TransientError(
                f"connection {self.name!r}: token endpoint {self.token_url} is temporarily "
                f"unavailable ({exc})"
            ) from exc

    def token_of(self, result: dict[str, Any] | None) -> tuple[str, float | None]:
        result = result or {}
        token = result.get("access_token")
        if not token:
            raise self.refused(result)
        if result.get("token_source") != "cache":
            self.tokens_acquired += 1
        return f"Bearer {token}", float(result.get("expires_in") or 3600)

    def refused(self, result: dict[str, Any]) -> AuthError | TransientError:
        code = str(result.get("error") or "unknown_error")
        description = str(result.get("error_description") or "no description")
        if code in _TRANSIENT_OAUTH_ERRORS:
            return TransientError(
                f"connection {self.name!r}: token endpoint {self.token_url} is "
                f"temporarily unavailable ({code}): {description}"
            )
        return AuthError(
            f"credentials for connection {self.name!r} were refused by "
            f"{self.token_url} ({code}): {description}",
            detail=code,
        )

    def forget(self) -> None:
        if self._app is not None:
            cache = self._app.token_cache
            for entry in list(cache.search(cache.CredentialType.ACCESS_TOKEN)):
                cache.remove_at(entry)

    def close(self) -> None:
        """Close the token endpoint's connections (the msal application stays usable)."""
        if self._http is not None:
            self._http.close()
            self._http = None
            self._app = None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(token_url={self.token_url!r}, client_id={self.client_id!r}, "
            f"scope={self.scope!r}, connection={self.connection!r})"
        )


class ClientCredentialsAuth(_MsalAuth):
    """OAuth 2.0 client credentials against Microsoft Entra ID (``ConfidentialClientApplication``).

    The token is kept until shortly before it expires, or until the API refuses it.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str | None,
        ca_cert: str | None = None,
        *,
        connection: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(
            token_url,
            client_id,
            scope,
            ca_cert,
            connection=connection,
            timeout=timeout,
            transport=transport,
        )
        self._secret = client_secret

    def build_application(self, http: MsalHttp) -> Any:
        import msal

        return msal.ConfidentialClientApplication(
            self.client_id,
            client_credential=self._secret,
            authority=self.authority,
            instance_discovery=False,
            http_client=http,
        )

    def fetch(self) -> tuple[str, float | None]:
        app = self.application()
        return self.token_of(self.call(app.acquire_token_for_client, scopes=self.scopes()))


MsalClientCredentials = ClientCredentialsAuth
"""The former name, kept for callers that still use it."""


class DeviceCodeAuth(_MsalAuth):
    """A signed-in user's token through the device code flow (``PublicClientApplication``).

    Tokens are taken silently from the cache (refreshed with the refresh token) first; only
    when that fails is the user asked, through ``prompt``, to sign in on another device.
    The cache is kept in ``cache_path`` (mode 0600) so a restart does not ask again.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        scope: str,
        cache_path: Path | None,
        prompt: Callable[[str], None],
        ca_cert: str | None = None,
        *,
        connection: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(
            token_url,
            client_id,
            scope,
            ca_cert,
            connection=connection,
            timeout=timeout,
            transport=transport,
        )
        self.cache_path = Path(cache_path) if cache_path is not None else None
        self.prompt = prompt
        self.prompts = 0

    def build_application(self, http: MsalHttp) -> Any:
        import msal

        cache = msal.SerializableTokenCache()
        if self.cache_path is not None and self.cache_path.exists():
            try:
                cache.deserialize(self.cache_path.read_text())
            except ValueError as exc:
                raise ConfigError(
                    f"token cache {self.cache_path} is not a valid msal cache: {exc}; "
                    "delete it to sign in again",
                    location=f"connection {self.name!r}",
                ) from exc
        return msal.PublicClientApplication(
            self.client_id,
            authority=self.authority,
            instance_discovery=False,
            http_client=http,
            token_cache=cache,
        )

    def fetch(self) -> tuple[str, float | None]:
        app = self.application()
        scopes = self.scopes()
        result: dict[str, Any] | None = None
        accounts = self.call(app.get_accounts)
        if accounts:
            result = self.call(app.acquire_token_silent, scopes, account=accounts[0])
        if not result or "access_token" not in result:
            flow = self.call(app.initiate_device_flow, scopes=scopes)
            if "user_code" not in flow:
                raise self.refused(flow)
            self.prompts += 1
            self.prompt(
                str(
                    flow.get("message")
                    or f"To sign in, open {flow.get('verification_uri')} and enter the code "
                    f"{flow['user_code']}"
                )
            )
            result = self.call(app.acquire_token_by_device_flow, flow)
        token = self.token_of(result)
        self._save(app.token_cache)
        return token

    def forget(self) -> None:
        super().forget()
        if self._app is not None:
            self._save(self._app.token_cache)

    def _save(self, cache: Any) -> None:
        if self.cache_path is None or not cache.has_state_changed:
            return
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.cache_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(cache.serialize())
        cache.has_state_changed = False

    def __repr__(self) -> str:
        return f"{super().__repr__()[:-1]}, cache_path={str(self.cache_path)!r})"
