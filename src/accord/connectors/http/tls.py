"""TLS helpers shared by the API client and the token endpoints."""

from __future__ import annotations

import ssl

from accord.errors import ConfigError


def ssl_context(ca_cert: str | None) -> ssl.SSLContext:
    """A verifying TLS context trusting ``ca_cert`` (a PEM file) or the system store; a
    missing or unreadable file is a clear error naming it."""
    if not ca_cert:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=ca_cert)
    except (OSError, ssl.SSLError) as exc:
        reason = "not found" if isinstance(exc, FileNotFoundError) else str(exc)
        raise ConfigError(f"CA certificate file {ca_cert}: {reason}", location="ca_cert") from exc


def is_tls_failure(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) is a TLS handshake or verification failure."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)
