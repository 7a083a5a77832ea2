"""Errors as JSON: every refusal is a 4xx (or 5xx) with ``error`` and a ``detail`` saying why."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from accord.errors import AccordError, ConfigError, TransientError
from accord.services.catalog import NotFound
from accord.services.tokens import TokenRefused


class ErrorBody(BaseModel):
    """The body of every error answer."""

    error: str
    """unauthorized, not_found, bad_request, invalid_request, unavailable, upstream_error."""
    detail: str
    where: str | None = None


ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in (
        (400, "The request names something invalid (the detail says what)."),
        (401, "No API token, an unknown one or a revoked one."),
        (404, "What the path names does not exist."),
        (422, "The body or a parameter does not validate."),
    )
}


def _answer(status: int, error: str, detail: str, where: str | None = None) -> JSONResponse:
    body = ErrorBody(error=error, detail=detail, where=where)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers that turn errors into JSON answers."""

    @app.exception_handler(TokenRefused)
    async def refused(_: Request, exc: TokenRefused) -> JSONResponse:
        return _answer(401, "unauthorized", exc.message)

    @app.exception_handler(AccordError)
    async def accord_error(_: Request, exc: AccordError) -> JSONResponse:
        if isinstance(exc, NotFound):
            return _answer(404, "not_found", exc.message)
        if isinstance(exc, ConfigError):
            return _answer(400, "bad_request", exc.message, exc.location)
        if isinstance(exc, TransientError):
            return _answer(503, "unavailable", exc.message)
        return _answer(502, "upstream_error", exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        return _answer(422, "invalid_request", problems)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 404 and exc.detail == "Not Found":
            detail = f"no route {request.method} {request.url.path}; see /openapi.json"
            return _answer(404, "not_found", detail)
        return _answer(exc.status_code, "http_error", str(exc.detail))
