"""The FastAPI application of ``accord serve``: the REST API, ``/healthz`` and ``/metrics``."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

import accord
from accord.api import errors, routes
from accord.api.metrics import refresh_gauges
from accord.api.schemas import Health
from accord.api.webhooks import webhook_router
from accord.observability import render_metrics
from accord.runtime.executor import Executor
from accord.runtime.workloads import DrainInbox
from accord.services.hub import Hub
from accord.state import workloads

CONTENT_TYPE = CONTENT_TYPE_LATEST


def create_app(hub: Hub, executor: Executor) -> FastAPI:
    """The API over ``hub``; long work goes to ``executor``."""
    app = FastAPI(
        title="Accord",
        version=getattr(accord, "__version__", "0"),
        description="Accord's REST API. Every /api/v1 route needs 'Authorization: Bearer "
        "<token>' (issue one with 'accord tokens create NAME').",
    )
    app.state.hub = hub
    app.state.executor = executor
    errors.install(app)
    app.include_router(routes.router)
    app.include_router(webhook_router(lambda: hub, lambda: executor.submit(DrainInbox())))

    @app.get("/healthz", response_model=Health, tags=["operations"])
    def healthz(request: Request) -> Response | Health:
        """Liveness and the state database; 503 when the database does not answer."""
        try:
            with hub.db.session() as session:
                session.execute(text("SELECT 1"))
                depth = workloads.depth(session)
        except Exception as exc:
            body = Health(status="unavailable", database=f"unreachable: {type(exc).__name__}")
            return JSONResponse(body.model_dump(), status_code=503)
        return Health(status="ok", database="ok", queue=depth)

    @app.get(
        "/metrics",
        tags=["operations"],
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text."}},
    )
    def metrics() -> Response:
        """Prometheus metrics: passes, records by outcome, latencies, queue depth, throttling."""
        refresh_gauges(hub)
        return Response(render_metrics(), media_type=CONTENT_TYPE)

    return app
