"""Shared HTTP layer: client, auth flows, error-policy table, retry policy, rate limiting."""

from accord.connectors.http.auth import (
    ApiKeyAuth,
    BasicAuth,
    ClientCredentialsAuth,
    CredentialAuth,
    DeviceCodeAuth,
    JwtBearerAuth,
    MsalClientCredentials,
    RefreshTokenAuth,
    SessionLoginAuth,
    StaticBearer,
    authority_from_token_url,
)
from accord.connectors.http.client import HttpClient, ssl_context
from accord.connectors.http.concurrency import AdaptiveConcurrency, ConcurrencySettings
from accord.connectors.http.outcomes import (
    DEFAULT_ERRORS,
    ErrorPolicy,
    Failure,
    Outcome,
    Rule,
    failure_from_body,
    failure_of,
)
from accord.connectors.http.policy import RetryPolicy, parse_retry_after
from accord.connectors.http.ratelimit import RateLimiter

__all__ = [
    "DEFAULT_ERRORS",
    "AdaptiveConcurrency",
    "ApiKeyAuth",
    "BasicAuth",
    "ClientCredentialsAuth",
    "ConcurrencySettings",
    "CredentialAuth",
    "DeviceCodeAuth",
    "ErrorPolicy",
    "Failure",
    "HttpClient",
    "JwtBearerAuth",
    "MsalClientCredentials",
    "Outcome",
    "RateLimiter",
    "RefreshTokenAuth",
    "RetryPolicy",
    "Rule",
    "SessionLoginAuth",
    "StaticBearer",
    "authority_from_token_url",
    "failure_from_body",
    "failure_of",
    "parse_retry_after",
    "ssl_context",
]
