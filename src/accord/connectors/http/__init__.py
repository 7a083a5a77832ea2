"""Shared HTTP layer: client, auth strategies, retry policy and rate limiting."""

from accord.connectors.http.auth import (
    AuthStrategy,
    MsalClientCredentials,
    NoAuth,
    StaticBearer,
    authority_from_token_url,
)
from accord.connectors.http.client import HttpClient, ssl_context
from accord.connectors.http.policy import RetryPolicy, parse_retry_after
from accord.connectors.http.ratelimit import RateLimiter

__all__ = [
    "AuthStrategy",
    "HttpClient",
    "MsalClientCredentials",
    "NoAuth",
    "RateLimiter",
    "RetryPolicy",
    "StaticBearer",
    "authority_from_token_url",
    "parse_retry_after",
    "ssl_context",
]
