"""One line for any error a command meets: Accord's own, and the known OS, database and HTTP
errors; anything else is named with a hint to run with ``--debug``."""

from __future__ import annotations

import ssl

import httpx
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from accord.errors import AccordError


def describe(exc: BaseException) -> str:
    """A one-line message for ``exc`` naming what failed and where."""
    if isinstance(exc, AccordError):
        return str(exc)
    if isinstance(exc, ssl.SSLError):
        return f"TLS: {exc.reason or exc}"
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or exc}"
    if isinstance(exc, httpx.HTTPError):
        try:
            where = f"{exc.request.method} {exc.request.url}: "
        except RuntimeError:
            where = ""
        return f"{where}{type(exc).__name__}: {exc}"
    if isinstance(exc, DBAPIError):
        reason = str(exc.orig or exc).strip().splitlines()
        return f"state database: {reason[0] if reason else type(exc).__name__}"
    if isinstance(exc, SQLAlchemyError | OSError):
        return f"{type(exc).__name__}: {exc}"
    return f"unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)"
