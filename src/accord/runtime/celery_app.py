"""The Celery executor: workloads published to a broker (RabbitMQ or Redis), run by workers.

A message carries only the workload's key; the workload itself is the row recorded by
:func:`~accord.runtime.executor.submit_row` in the shared state database. Messages are
acknowledged *after* the workload ran (``acks_late``) and given back when the worker dies
(``reject_on_worker_lost``; and the broker requeues what an unacknowledged connection held),
one at a time per worker thread (prefetch 1): a worker killed with -9 loses nothing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from celery import Celery, Task

from accord.observability.logs import get_logger
from accord.runtime.executor import Handlers, Submitted, execute, submit_row
from accord.runtime.workloads import Workload
from accord.state import workloads as table
from accord.state.db import Database

TASK = "accord.run_workload"
DEFAULT_QUEUE = "accord"


@dataclass
class Bound:
    """What the worker process runs workloads with (set by :func:`bind`)."""

    db: Database
    handlers: Handlers


_BOUND: dict[int, Bound] = {}


def make_app(broker_url: str, queue: str = DEFAULT_QUEUE) -> Celery:
    """A Celery app publishing to and consuming from ``queue`` on ``broker_url``."""
    app = Celery("accord", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        task_default_queue=queue,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        # Redis: an unacknowledged message returns to the queue after this long
        broker_transport_options={"visibility_timeout": 3600},
    )

    @app.task(name=TASK, bind=True, max_retries=None, acks_late=True)  # type: ignore[untyped-decorator]
    def run_workload(self: Task, key: str) -> str:
        bound = _BOUND.get(id(app))
        if bound is None:
            raise RuntimeError("this Celery app has no state database bound; use 'accord worker'")
        outcome = execute(bound.db, bound.handlers, key)
        if outcome.status in ("retry", "busy"):
            raise self.retry(countdown=outcome.delay)
        return outcome.status

    return app


def bind(app: Celery, db: Database, handlers: Handlers) -> None:
    """Let this process's workers of ``app`` run workloads against ``db``."""
    _BOUND[id(app)] = Bound(db, handlers)


class CeleryExecutor:
    """Records each workload, then publishes it once (a duplicate key publishes nothing)."""

    def __init__(self, db: Database, app: Celery):
        self.db = db
        self.app = app

    def submit(self, workload: Workload) -> Submitted:
        submitted = submit_row(self.db, workload)
        if submitted.created:
            self.publish(workload.key)
        return submitted

    def publish(self, key: str) -> None:
        self.app.send_task(TASK, args=[key], task_id=key)

    def close(self) -> None:
        self.app.close()


class Sweeper:
    """Republishes workloads a dead worker left ``running`` (their lease lapsed), every
    ``every`` seconds. RabbitMQ gives a dead consumer's messages back at once; Redis only
    after its visibility timeout, and a message may be lost with a broker: this closes both
    gaps. A copy too many is harmless: the workload runs under its lease and runs once."""

    def __init__(self, executor: CeleryExecutor, every: float = 15.0):
        self.executor = executor
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="accord-sweeper", daemon=True)

    def sweep(self) -> list[str]:
        with self.executor.db.session() as session:
            keys = table.stranded(session)
        for key in keys:
            get_logger(workload=key).warning("republishing a workload its worker left")
            self.executor.publish(key)
        return keys

    def start(self) -> Sweeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.sweep()
            except Exception as exc:  # the database or broker is away: next round
                get_logger().warning("sweep failed", error=str(exc))


def worker_argv(queue: str, concurrency: int, name: str, loglevel: str = "INFO") -> list[str]:
    """Arguments of a worker: threads in one process (a kill -9 takes all of its work down
    together, and the broker gives every unacknowledged message back)."""
    return [
        "worker",
        f"--queues={queue}",
        "--pool=threads",
        f"--concurrency={concurrency}",
        f"--hostname={name}",
        f"--loglevel={loglevel}",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]


def start_worker(app: Celery, argv: list[str]) -> Any:
    """Run a worker in this process until it is stopped."""
    return app.worker_main(argv=argv)
