"""Webhook receiver routes: thin over :mod:`accord.services.webhooks` (verify, store,
enqueue). They take no API token: each sender proves itself by its own means."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from accord.services import webhooks
from accord.services.hub import Hub


def webhook_router(
    hub: Callable[[], Hub], on_stored: Callable[[], object] | None = None
) -> APIRouter:
    """The receivers, each under ``/webhooks/<system>/<connection>``; ``on_stored`` runs
    after new changes were stored (``accord serve`` enqueues a drain of the inbox)."""
    router = APIRouter(prefix="/webhooks", tags=["webhooks"])

    def answer(reply: webhooks.Reply) -> Response:
        stored = isinstance(reply.body, dict) and reply.body.get("stored")
        if on_stored is not None and reply.status == 202 and stored:
            on_stored()
        return _answer(reply)

    @router.post("/business-central/{connection}")
    async def business_central(connection: str, request: Request) -> Response:
        """Business Central notifications and the subscription handshake."""
        body = await request.body()
        return answer(
            webhooks.receive_business_central(hub(), connection, request.query_params, body)
        )

    @router.post("/dataverse/{connection}")
    async def dataverse(connection: str, request: Request) -> Response:
        """A Dataverse service endpoint (webhook) posting the RemoteExecutionContext."""
        body = await request.body()
        return answer(
            webhooks.receive_dataverse(
                hub(), connection, request.headers, request.query_params, body
            )
        )

    @router.post("/signed/{connection}")
    async def signed(connection: str, request: Request) -> Response:
        """A generic webhook signed the Standard Webhooks way."""
        body = await request.body()
        return answer(webhooks.receive_signed(hub(), connection, request.headers, body))

    return router


def _answer(reply: webhooks.Reply) -> Response:
    if reply.content_type == "text/plain":
        return PlainTextResponse(str(reply.body), status_code=reply.status)
    return JSONResponse(reply.body, status_code=reply.status)
