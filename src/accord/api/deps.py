"""What every route depends on: the hub, the executor and a valid API token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from accord.runtime.executor import Executor
from accord.services import tokens
from accord.services.hub import Hub

bearer = HTTPBearer(
    auto_error=False,
    description="An API token from 'accord tokens create NAME'.",
)


def get_hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


def get_executor(request: Request) -> Executor:
    executor: Executor = request.app.state.executor
    return executor


def require_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> tokens.TokenInfo:
    """The caller's live token; 401 saying why (none, unknown, revoked) otherwise."""
    if credentials is None and request.headers.get("authorization"):
        raise tokens.TokenRefused("the Authorization header must be 'Bearer <token>'")
    return tokens.verify(get_hub(request), credentials.credentials if credentials else None)


HubDep = Annotated[Hub, Depends(get_hub)]
ExecutorDep = Annotated[Executor, Depends(get_executor)]
