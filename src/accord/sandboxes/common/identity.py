"""Microsoft identity platform emulation: OpenID discovery and client-credentials tokens.

Serves ``GET /{tenant}/v2.0/.well-known/openid-configuration`` and
``POST /{tenant}/oauth2/v2.0/token`` on the sandbox's own server. Issued bearer tokens are
JWT-shaped (unsigned claims only), expire on the sandbox clock and can all be expired at once.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from accord.sandboxes.common.clock import Clock


@dataclass
class Grant:
    """One issued access token."""

    client_id: str
    expires_at: float


def _b64(data: dict[str, object]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class Identity:
    """Client-credentials token issuer and bearer-token checker for one sandbox."""

    def __init__(
        self,
        *,
        tenant: str,
        client_id: str,
        client_secret: str,
        scopes: set[str],
        lifetime: int,
        clock: Clock,
    ) -> None:
        self.tenant = tenant
        self.client_id = client_id
        self.client_secret: str | None = client_secret
        self.scopes = scopes
        self.lifetime = lifetime
        self.clock = clock
        self._tokens: dict[str, Grant] = {}
        self._lock = threading.Lock()
        self.issued = 0

    # ------------------------------------------------------------------ admin
    def expire_tokens(self) -> None:
        """Make every issued token invalid (the next API call gets 401)."""
        with self._lock:
            self._tokens.clear()

    def set_credentials(self, client_id: str, client_secret: str | None) -> None:
        """Change the accepted credentials; ``None`` as secret refuses every token request."""
        self.client_id = client_id
        self.client_secret = client_secret

    def revoke(self) -> None:
        """Refuse new tokens and drop the issued ones."""
        self.client_secret = None
        self.expire_tokens()

    # ------------------------------------------------------------------ tokens
    def issue(self, client_id: str, scope: str) -> tuple[str, int]:
        """Create a token for ``client_id``; returns (token, expires_in)."""
        now = self.clock.timestamp()
        claims = {
            "aud": scope.removesuffix("/.default"),
            "iss": f"https://sts.windows.net/{self.tenant}/",
            "iat": int(now),
            "nbf": int(now),
            "exp": int(now + self.lifetime),
            "appid": client_id,
            "tid": self.tenant,
            "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, client_id)),
            "roles": ["API.ReadWrite.All"],
            "jti": secrets.token_hex(8),
        }
        token = ".".join([_b64({"typ": "JWT", "alg": "none"}), _b64(claims), secrets.token_hex(16)])
        with self._lock:
            self._tokens[token] = Grant(client_id, now + self.lifetime)
            self.issued += 1
        return token, self.lifetime

    def verify(self, authorization: str | None) -> str | None:
        """The client id behind a valid, unexpired ``Bearer`` header, else None."""
        if not authorization or authorization[:7].lower() != "bearer ":
            return None
        grant = self._tokens.get(authorization[7:].strip())
        if grant is None or grant.expires_at <= self.clock.timestamp():
            return None
        return grant.client_id

    # ------------------------------------------------------------------ HTTP
    def routes(self) -> list[Route]:
        """Starlette routes for discovery and the token endpoint."""
        return [
            Route("/{tenant}/v2.0/.well-known/openid-configuration", self._discovery),
            Route("/{tenant}/.well-known/openid-configuration", self._discovery),
            Route("/{tenant}/oauth2/v2.0/token", self._token, methods=["POST"]),
        ]

    async def _discovery(self, request: Request) -> Response:
        tenant = request.path_params["tenant"]
        if tenant not in (self.tenant, "organizations", "common"):
            return self._error(400, "invalid_tenant", f"AADSTS90002: Tenant '{tenant}' not found.")
        origin = f"https://{request.headers.get('host', request.url.netloc)}"
        base = f"{origin}/{self.tenant}"
        return JSONResponse(
            {
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "jwks_uri": f"{origin}/{self.tenant}/discovery/v2.0/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": f"{base}/v2.0",
                "request_uri_parameter_supported": False,
                "userinfo_endpoint": f"{origin}/oidc/userinfo",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "http_logout_supported": True,
                "frontchannel_logout_supported": True,
                "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
                "claims_supported": ["sub", "iss", "aud", "exp", "iat", "tid", "appid"],
                "tenant_region_scope": "NA",
                "cloud_instance_name": "microsoftonline.com",
            }
        )

    def _error(self, status: int, error: str, description: str) -> Response:
        trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
        stamp = self.clock.now().strftime("%Y-%m-%d %H:%M:%SZ")
        code = int(description[6:].split(":")[0]) if description.startswith("AADSTS") else 0
        return JSONResponse(
            {
                "error": error,
                "error_description": f"{description} Trace ID: {trace} Correlation ID: {corr} "
                f"Timestamp: {stamp}",
                "error_codes": [code],
                "timestamp": stamp,
                "trace_id": trace,
                "correlation_id": corr,
            },
            status_code=status,
        )

    async def _token(self, request: Request) -> Response:
        tenant = request.path_params["tenant"]
        if tenant != self.tenant:
            return self._error(400, "invalid_request", f"AADSTS90002: Tenant '{tenant}' not found.")
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        client_id, secret = form.get("client_id", ""), form.get("client_secret")
        basic = request.headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            user, _, pwd = base64.b64decode(basic[6:]).decode().partition(":")
            client_id, secret = client_id or user, secret or pwd
        grant = form.get("grant_type")
        if grant != "client_credentials":
            return self._error(
                400,
                "unsupported_grant_type",
                f"AADSTS70003: The app requested an unsupported grant type '{grant}'.",
            )
        if client_id != self.client_id:
            return self._error(
                401,
                "invalid_client",
                f"AADSTS700016: Application with identifier '{client_id}' was not found in the "
                f"directory '{self.tenant}'.",
            )
        if self.client_secret is None or secret != self.client_secret:
            return self._error(
                401,
                "invalid_client",
                "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in "
                "the request is the client secret value, not the client secret ID, for a secret "
                f"added to app '{client_id}'.",
            )
        scopes = form.get("scope", "").split()
        resource_scopes = [s for s in scopes if s not in ("openid", "profile", "offline_access")]
        if len(resource_scopes) != 1 or resource_scopes[0] not in self.scopes:
            return self._error(
                400,
                "invalid_scope",
                f"AADSTS1002012: The provided value for scope {' '.join(scopes)} is not valid. "
                "Client credential flows must have a scope value with /.default suffixed to the "
                "resource identifier (application ID URI).",
            )
        token, expires_in = self.issue(client_id, resource_scopes[0])
        return JSONResponse(
            {
                "token_type": "Bearer",
                "expires_in": expires_in,
                "ext_expires_in": expires_in,
                "access_token": token,
            }
        )
