"""``accord worker``: Celery workers that run workloads from a broker, sharing one database."""

from __future__ import annotations

import os
import socket
import threading
from typing import TYPE_CHECKING, Annotated

import typer

from accord.cli.common import console, err_console, guarded, hub

if TYPE_CHECKING:
    from accord.runtime.celery_app import CeleryExecutor
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
) -> None:
    """Run workloads from the broker until stopped (any number of workers, one database)."""
    from accord.runtime import celery_app
    from accord.services.workloads import handlers

    h = hub()
    app = celery_app.make_app(broker, queue)
    celery_app.bind(app, h.db, handlers(h))
    stop = threading.Event()
    if scheduler:
        _start_dispatcher(h, celery_app.CeleryExecutor(h.db, app), integration, stop)
    label = name or f"accord-{os.getpid()}@{socket.gethostname()}"
    console.print(f"Worker {label} on queue {queue!r}; Ctrl+C stops it.")
    try:
        celery_app.start_worker(app, celery_app.worker_argv(queue, concurrency, label))
    finally:
        stop.set()
        h.close()


def _start_dispatcher(
    h: Hub, executor: CeleryExecutor, integration: str | None, stop: threading.Event
) -> None:
    """Enqueue each mapping's pass on its interval from a thread of this worker."""
    from accord.runtime.scheduler import Dispatcher
    from accord.state.store import load_integration

    with h.db.session() as session:
        config = load_integration(session, integration)
    intervals = {m.name: float(m.interval_seconds) for m in config.template.mappings if m.enabled}
    dispatcher = Dispatcher(
        config.name,
        intervals,
        executor.submit,
        on_notice=lambda text: err_console.print(f"[yellow]{text}[/]"),
    )
    threading.Thread(target=dispatcher.run, args=(stop,), name="dispatcher", daemon=True).start()


def register(app: typer.Typer) -> None:
    """Add the runtime commands to the ``accord`` app."""
    app.command()(worker)
