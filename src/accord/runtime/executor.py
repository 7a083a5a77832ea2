"""Running a submitted workload, and the local (in-process) executor.

:func:`execute` is the one way a workload runs, whichever executor delivered it: it takes
the workload's lease (``workload:<key>``, 30 s, renewed by a heartbeat), skips a workload
that has finished already (a duplicate delivery), runs the kind's handler and records the
outcome. A worker killed mid-run leaves the workload ``running`` with a lease that lapses
(at once on the same host, where the dead process is seen); the redelivered message then
runs it again on another worker, and the engine's recorded create intents keep that second
run from writing anything twice.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from accord.errors import AccordError, TransientError
from accord.observability.logs import get_logger
from accord.runtime.metrics import observe_workload
from accord.runtime.workloads import Workload, parse_workload
from accord.state import leases
from accord.state import workloads as table
from accord.state.db import Database
from accord.state.runtime_tables import WorkloadRow
from accord.sync.context import worker_id
from accord.sync.passes import PassBusy

Handler = Callable[[Workload], dict[str, Any]]
"""Runs one workload; returns a JSON-able summary (job ids, counts) stored as its result."""
Handlers = Mapping[str, Handler]

LEASE_SECONDS = 30.0
RETRY_SECONDS = 5.0
"""First wait before a workload sent back (busy pass, transient failure) is tried again;
it doubles with each attempt, up to :data:`MAX_RETRY_SECONDS`."""
MAX_RETRY_SECONDS = 300.0
MAX_ATTEMPTS = 6
"""Starts (a killed worker's included) after which a transient failure fails the workload;
the scheduler's next pass carries on from where the state stands."""

Status = Literal["done", "failed", "retry", "busy", "finished-before", "missing"]


@dataclass(frozen=True)
class Outcome:
    """What one delivery of a workload came to; ``delay`` for ``retry`` and ``busy``."""

    key: str
    status: Status
    message: str | None = None
    delay: float = RETRY_SECONDS


def execute(
    db: Database,
    handlers: Handlers,
    key: str,
    *,
    owner: str | None = None,
    lease_seconds: float = LEASE_SECONDS,
) -> Outcome:
    """Run the submitted workload ``key`` once, under its lease, and record the outcome."""
    owner = owner or worker_id()
    keeper = leases.LeaseKeeper(
        db, f"workload:{key}", owner, ttl=lease_seconds, beat=lease_seconds / 3
    )
    released = False
    try:  # the lease and the start in one transaction, the outcome and the release in one
        early: Outcome | None = None
        with db.session() as session:
            if not keeper.take(session):
                released = True  # nothing was taken
                return Outcome(key, "busy", "another worker is running it")
            row = table.start(session, key, owner)
            if row is None:
                found = table.get(session, key)
                early = Outcome(key, "missing" if found is None else "finished-before")
                keeper.release(session)
            else:
                payload, attempts = dict(row.payload), row.attempts
        if early is not None:
            released = True
            return early
        outcome, result = _run(handlers, key, payload, attempts)
        stored = "queued" if outcome.status == "retry" else outcome.status
        with db.session() as session:
            table.finish(session, key, stored, message=outcome.message, result=result)
            keeper.release(session)
        released = True
        return outcome
    finally:
        if not released:
            keeper.release()


def _run(
    handlers: Handlers, key: str, payload: dict[str, Any], attempts: int
) -> tuple[Outcome, dict[str, Any] | None]:
    """Run the handler; what came of it and the result to store."""
    log = get_logger(workload=key, kind=payload.get("kind"))
    started = time.monotonic()
    outcome: Outcome
    result: dict[str, Any] | None = None
    try:
        workload = parse_workload(payload, f"workload {key}")
        handler = handlers.get(workload.kind)
        if handler is None:
            raise AccordError(f"this worker has no handler for {workload.kind!r} workloads")
        result = handler(workload)
        outcome = Outcome(key, "done")
    except (TransientError, PassBusy) as exc:
        if attempts >= MAX_ATTEMPTS:
            outcome = Outcome(key, "failed", f"gave up after {attempts} attempts: {exc}")
        else:
            backoff = min(MAX_RETRY_SECONDS, RETRY_SECONDS * 2 ** (attempts - 1))
            delay = getattr(exc, "retry_after", None) or backoff
            outcome = Outcome(key, "retry", str(exc), delay)
    except AccordError as exc:
        outcome = Outcome(key, "failed", str(exc))
        result = {"error": type(exc).__name__}  # the scheduler stops on refused credentials
    except Exception as exc:  # one bad workload never stops the worker
        log.exception("workload crashed")
        outcome = Outcome(key, "failed", f"{type(exc).__name__}: {exc}")
    observe_workload(str(payload.get("kind")), outcome.status, time.monotonic() - started)
    (log.info if outcome.status == "done" else log.warning)(
        "workload " + outcome.status, message=outcome.message
    )
    return outcome, result


@dataclass(frozen=True)
class Submitted:
    """A submission: the workload's row as it stands, and whether this submission was new."""

    row: WorkloadRow
    created: bool


def submit_row(db: Database, workload: Workload) -> Submitted:
    """Record ``workload`` under its key (idempotent)."""
    with db.session() as session:
        row, created = table.record(
            session, workload.key, workload.kind, workload.model_dump(mode="json")
        )
    return Submitted(row, created)


def fetch(db: Database, key: str) -> WorkloadRow | None:
    with db.session() as session:
        return table.get(session, key)


class LocalExecutor:
    """The embedded default: runs workloads in this process, no broker.

    Inline (``background=False``) ``submit`` returns once the workload has run; with
    ``background=True`` one thread runs them in submission order, as ``accord serve`` does.
    A workload sent back (busy pass, transient failure) is tried ``attempts`` times in all.
    """

    def __init__(
        self,
        db: Database,
        handlers: Handlers,
        *,
        background: bool = False,
        attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.db = db
        self.handlers = handlers
        self.attempts = attempts
        self.sleep = sleep
        self.owner = worker_id()
        self._pool = ThreadPoolExecutor(1, "accord-local") if background else None
        self._lock = threading.Lock()

    def submit(self, workload: Workload) -> Submitted:
        submitted = submit_row(self.db, workload)
        if not submitted.created:
            return submitted
        if self._pool is not None:
            self._pool.submit(self.run, workload.key)
            return submitted
        self.run(workload.key)
        return Submitted(fetch(self.db, workload.key) or submitted.row, True)

    def run(self, key: str) -> Outcome:
        outcome = Outcome(key, "missing")
        for attempt in range(self.attempts):
            outcome = execute(self.db, self.handlers, key, owner=self.owner)
            if outcome.status not in ("retry", "busy"):
                return outcome
            if attempt + 1 < self.attempts:
                self.sleep(min(outcome.delay, 30.0))
        with self.db.session() as session:
            table.finish(
                session,
                key,
                "failed",
                message=f"gave up after {self.attempts} attempts: {outcome.message}",
            )
        return Outcome(key, "failed", outcome.message)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)


class Executor(Protocol):
    """Where submitted workloads run: in this process or on workers."""

    def submit(self, workload: Workload) -> Submitted: ...

    def close(self) -> None: ...
