"""Every auth variant, as an :class:`httpx.Auth` (one import place for connection settings).

Fixed credentials: :class:`StaticBearer`, :class:`ApiKeyAuth`, :class:`BasicAuth`.
Renewable tokens: :class:`ClientCredentialsAuth` and :class:`DeviceCodeAuth` (msal),
:class:`JwtBearerAuth`, :class:`RefreshTokenAuth`, :class:`SessionLoginAuth`.
"""

from accord.connectors.http.credentials import (
    ApiKeyAuth,
    BasicAuth,
    CredentialAuth,
    StaticBearer,
    TokenEndpoint,
)
from accord.connectors.http.msal_auth import (
    ClientCredentialsAuth,
    DeviceCodeAuth,
    MsalClientCredentials,
    authority_from_token_url,
)
from accord.connectors.http.oauth import JwtBearerAuth, RefreshTokenAuth, SessionLoginAuth

__all__ = [
    "ApiKeyAuth",
    "BasicAuth",
    "ClientCredentialsAuth",
    "CredentialAuth",
    "DeviceCodeAuth",
    "JwtBearerAuth",
    "MsalClientCredentials",
    "RefreshTokenAuth",
    "SessionLoginAuth",
    "StaticBearer",
    "TokenEndpoint",
    "authority_from_token_url",
]
