"""``accord worker``, ``accord serve`` and ``accord tokens``: the hub as a service.

Workers run workloads from a broker (Celery), sharing one database; ``serve`` is the REST
API (FastAPI on uvicorn); ``tokens`` issues and revokes the API's tokens.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import threading
from typing import TYPE_CHECKING, Annotated

import typer

from accord.cli.common import console, err_console, guarded, hub

if TYPE_CHECKING:
    from accord.runtime.executor import Executor, Submitted
    from accord.runtime.scheduler import Scheduler
    from accord.runtime.workloads import Workload
    from accord.services.hub import Hub

DEFAULT_BROKER = "amqp://guest:guest@127.0.0.1:5672//"
BrokerOpt = Annotated[
    str,
    typer.Option(
        envvar="ACCORD_BROKER_URL", help="Celery broker: amqp://… (RabbitMQ) or redis://…"
    ),
]
QueueOpt = Annotated[str, typer.Option(envvar="ACCORD_QUEUE", help="Broker queue name.")]


@guarded
def worker(
    broker: BrokerOpt = DEFAULT_BROKER,
    queue: QueueOpt = "accord",
    concurrency: Annotated[int, typer.Option(min=1, help="Workloads run at once.")] = 1,
    name: Annotated[
        str | None, typer.Option(help="Worker name (default: accord-PID@host).")
    ] = None,
    scheduler: Annotated[
        bool, typer.Option(help="Also enqueue each mapping's pass on its interval.")
    ] = False,
    integration: Annotated[str | None, typer.Option(help="Integration the scheduler runs.")] = None,
    sweep_seconds: Annotated[
        float,
        typer.Option(min=0, help="Republish work a dead worker left, this often (0: never)."),
    ] = 15.0,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve this worker's Prometheus metrics on this port.")
    ] = None,
) -> None:
    """Run workloads from the broker until stopped (any number of workers, one database)."""
    from accord.connectors.http.shared_gate import shares
    from accord.runtime import celery_app
    from accord.services.workloads import handlers

    h = hub()
    if shares(broker) and h.settings.rate_limit_storage == "memory://":
        h.settings.rate_limit_storage = broker  # workers share each endpoint's gate (ADR 0025)
    app = celery_app.make_app(broker, queue)
    celery_app.bind(app, h.db, handlers(h))
    stop = threading.Event()
    executor = celery_app.CeleryExecutor(h.db, app)
    if scheduler:
        _start_scheduler(h, executor, integration, stop)
    sweeper = celery_app.Sweeper(executor, sweep_seconds).start() if sweep_seconds else None
    if metrics_port is not None:
        from prometheus_client import start_http_server

        from accord.observability.metrics import REGISTRY

        start_http_server(metrics_port, registry=REGISTRY)
    label = name or f"accord-{os.getpid()}@{socket.gethostname()}"
    console.print(f"Worker {label} on queue {queue!r}; Ctrl+C stops it.")
    try:
        celery_app.start_worker(app, celery_app.worker_argv(queue, concurrency, label))
    finally:
        stop.set()
        if sweeper:
            sweeper.stop()
        h.close()


def scheduler_for(
    h: Hub, executor: Executor, integration: str | None, *, report: bool = False
) -> Scheduler:
    """The integration's scheduler, submitting to ``executor``; notices (and with
    ``report``, what each pass did) are printed."""
    from accord.runtime.scheduler import Scheduler
    from accord.state.store import load_integration

    with h.db.session() as session:
        config = load_integration(session, integration)

    def submitted(workload: Workload, done: Submitted) -> None:
        for p in (done.row.result or {}).get("passes", []):
            counts = "".join(f" {k}={v}" for k, v in p["counts"].items())
            note = f" ({p['message']})" if p.get("message") else ""
            console.print(f"{p['mapping']} {p['direction']}: {p['status']}{counts}{note}")

    return Scheduler.of(
        config,
        executor.submit,
        on_submitted=submitted if report else None,
        on_notice=lambda text: err_console.print(f"[yellow]{text}[/]"),
    )


def _start_scheduler(
    h: Hub, executor: Executor, integration: str | None, stop: threading.Event
) -> None:
    """Submit each mapping's pass (and the renewal) on its interval from a thread."""
    scheduler = scheduler_for(h, executor, integration)
    threading.Thread(target=scheduler.run, args=(stop,), name="scheduler", daemon=True).start()


@guarded
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
    broker: Annotated[
        str | None,
        typer.Option(
            envvar="ACCORD_BROKER_URL",
            help="Enqueue work for 'accord worker's on this broker (default: run it here).",
        ),
    ] = None,
    queue: QueueOpt = "accord",
    scheduler: Annotated[
        bool, typer.Option(help="Also submit each mapping's pass on its interval.")
    ] = False,
    integration: Annotated[str | None, typer.Option(help="Integration the scheduler runs.")] = None,
) -> None:
    """Serve the REST API (OpenAPI at /docs and /openapi.json), /healthz and /metrics."""
    import uvicorn

    from accord.api.app import create_app
    from accord.runtime.celery_app import CeleryExecutor, make_app
    from accord.services.workloads import local_executor

    h = hub()
    executor: Executor = (
        CeleryExecutor(h.db, make_app(broker, queue))
        if broker
        else local_executor(h, background=True)
    )
    stop = threading.Event()
    if scheduler:
        _start_scheduler(h, executor, integration, stop)
    where = f"workers on {queue!r}" if broker else "this process"
    console.print(f"Accord API on http://{host}:{port} (work runs in {where}); Ctrl+C stops it.")
    try:
        uvicorn.run(create_app(h, executor), host=host, port=port, log_level="warning")
    finally:
        stop.set()
        executor.close()
        h.close()


tokens_app = typer.Typer(help="API tokens for 'accord serve'.", no_args_is_help=True)


@tokens_app.command("create")
@guarded
def tokens_create(
    name: Annotated[str, typer.Argument(help="What the token is for, e.g. 'console'.")],
    json_out: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Issue an API token; it is shown this once (only its hash is stored)."""
    from accord.services import tokens

    token, info = tokens.create(hub(), name)
    if json_out:
        print(json.dumps({"name": info.name, "token": token, "prefix": info.prefix}))
        return
    console.print(f"Token [bold]{info.name}[/] (shown once, keep it safe):")
    print(token)


@tokens_app.command("list")
@guarded
def tokens_list(
    json_out: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Issued tokens by name and prefix, with their last use and revocation."""
    from rich.table import Table

    from accord.cli.common import when
    from accord.services import tokens

    found = tokens.listing(hub())
    if json_out:
        print(json.dumps([dataclasses.asdict(t) for t in found], default=str))
        return
    table = Table("Name", "Prefix", "Created", "Last used", "Revoked")
    for t in found:
        table.add_row(t.name, t.prefix + "…", when(t.created_at), when(t.last_used_at),
                      when(t.revoked_at))  # fmt: skip
    console.print(table)


@tokens_app.command("revoke")
@guarded
def tokens_revoke(name: Annotated[str, typer.Argument(help="The token's name.")]) -> None:
    """Revoke a token: the next call with it is refused."""
    from accord.services import tokens

    info = tokens.revoke(hub(), name)
    console.print(f"Token {info.name} revoked.")


def register(app: typer.Typer) -> None:
    """Add the runtime commands to the ``accord`` app."""
    app.command()(worker)
    app.command()(serve)
    app.add_typer(tokens_app, name="tokens")
