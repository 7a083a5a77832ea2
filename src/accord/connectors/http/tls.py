"""TLS helpers shared by the API client and the token endpoints."""

from __future__ import annotations

import ssl


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
