"""``python -m bench chaos``: random changes on both sides, faults, killed workers; then compare.

The sandboxes run in this process with the random fault mode on (a share of API requests get
a 429, a 5xx, a timeout, a dropped connection or a partial ``$batch``). Two or more
``accord worker`` processes share one PostgreSQL state and a RabbitMQ (or Redis) queue; this
process keeps one incremental pass per direction queued (a :class:`SyncPass` workload, the
next submitted when the last finished), applies N random changes (:mod:`bench.chaos_model`)
and kills a random worker with -9 now and then, starting it again. Then it waits until the
sides agree (faults still on, no more kills) and counts what is lost, duplicated or divergent.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from accord.sandboxes.common.faults import FAULT_KINDS
from bench.chaos_journal import Journal
from bench.chaos_model import Ledger, template_yaml
from bench.procs import REPO, _env, drop_queue, fresh_database

Log = Callable[[str], None]
BROKER = "amqp://guest:guest@127.0.0.1:5672//"
MAPPING = "CUSTOMER"
RETRY = {"max_attempts": 8, "base_delay": 0.05, "max_delay": 0.5, "max_retry_after": 2.0}
CLIENT_TIMEOUT = 2.0
"""Seconds the connectors wait for an answer; a ``timeout`` fault holds a request longer."""


class Workers:
    """``accord worker`` processes on one queue; :meth:`kill` one with -9 and start it again."""

    def __init__(self, home: Path, database_url: str, broker: str, queue: str, count: int):
        self.home, self.database_url, self.broker, self.queue = home, database_url, broker, queue
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.kills = 0
        for i in range(count):
            self.start(f"w{i}")

    def start(self, name: str) -> None:
        with (self.home / f"{name}.log").open("ab") as log:
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "accord.cli.app", "--home", str(self.home),
                 "--database-url", self.database_url, "worker", "--broker", self.broker,
                 "--queue", self.queue, "--name", f"{name}@{self.queue}",
                 "--sweep-seconds", "2"],
                cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=_env(),
            )  # fmt: skip

    def kill(self, rng: random.Random) -> str:
        name = rng.choice(sorted(self.procs))
        proc = self.procs[name]
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.kills += 1
        self.start(name)
        return name

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class PassDriver:
    """Keeps one pass per direction submitted (the next once the last is done or failed), and
    a reconciliation every ``reconcile_every`` seconds: Business Central shows deletions only
    to webhooks and to a full pass, so the reconciliation is how its deletes are seen here."""

    def __init__(
        self,
        executor: Any,
        directions: list[str],
        reconcile_every: float = 30.0,
        stuck_seconds: float = 180.0,
    ):
        self.executor = executor
        self.lanes = {d: 0.0 for d in directions} | {"reconcile": reconcile_every}
        self.stuck_seconds = stuck_seconds
        self.outcomes: Counter[str] = Counter()
        self.rounds: Counter[str] = Counter()
        self._current: dict[str, tuple[str, float]] = {}
        self._finished: dict[str, float] = {}
        self._serial = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="chaos-passes", daemon=True)

    def start(self) -> PassDriver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def completed(self) -> int:
        """Workloads finished in the lane (direction, reconciliation) that finished fewest."""
        return min(self.rounds[lane] for lane in self.lanes)

    def reconcile_now(self) -> None:
        """Let the next reconciliation start as soon as the current one finished."""
        self._finished.pop("reconcile", None)

    def _submit(self, lane: str) -> None:
        from accord.runtime.workloads import Reconcile, SyncPass, Workload

        self._serial += 1
        key = f"chaos:{lane}:{self._serial}"
        workload: Workload = (
            Reconcile(key=key, mappings=[MAPPING])
            if lane == "reconcile"
            else SyncPass(key=key, mapping=MAPPING, direction=lane)
        )
        self.executor.submit(workload)
        self._current[lane] = (key, time.monotonic())

    def _tick(self, lane: str, every: float) -> None:
        from accord.runtime.executor import fetch

        now = time.monotonic()
        if lane not in self._current:
            if now - self._finished.get(lane, -every) >= every:
                self._submit(lane)
            return
        key, since = self._current[lane]
        row = fetch(self.executor.db, key)
        status = row.status if row is not None else "missing"
        if status in ("done", "failed"):
            self.outcomes[f"{lane}_{status}"] += 1
            self.outcomes["attempts_over_one"] += int(row is not None and row.attempts > 1)
            self.rounds[lane] += 1
            del self._current[lane]
            self._finished[lane] = now
        elif now - since > self.stuck_seconds:
            self.outcomes["stuck"] += 1
            del self._current[lane]

    def _loop(self) -> None:
        while not self._stop.wait(0.1):
            for lane, every in self.lanes.items():
                try:
                    self._tick(lane, every)
                except Exception as exc:  # the database or broker hiccups: next tick
                    print(f"pass driver: {exc}", file=sys.stderr)


def chaos(
    ops: int,
    log: Log,
    *,
    workers: int = 2,
    seed: int = 11,
    rate: float = 40.0,
    fault_rate: float = 0.1,
    kill_every: tuple[float, float] = (3.0, 8.0),
    settle_timeout: float = 600.0,
    reconcile_every: float = 30.0,
    fault_kinds: tuple[str, ...] = FAULT_KINDS,
    broker: str = BROKER,
    database_url: str | None = None,
    keep: Path | None = None,
) -> dict[str, Any]:
    """Run the chaos scenario; returns the figures (``lost``, ``duplicated``, ``divergent``...).

    With ``keep``, the run's folder (worker logs, a journal of the sandboxes' inserts and
    deletes) is that folder and the state database is not dropped (:mod:`bench.chaos_journal`)."""
    from accord.config.settings import Settings
    from accord.runtime.celery_app import CeleryExecutor, make_app
    from accord.sandboxes import run_sandboxes
    from accord.services import setup
    from accord.services.hub import Hub
    from accord.testing.sandbox import settings_from_sandbox

    if workers < 2:
        raise ValueError("the chaos run needs two or more workers")
    rng = random.Random(seed)
    queue = f"accord-chaos-{uuid.uuid4().hex[:10]}"
    started = time.monotonic()
    with ExitStack() as stack:
        if keep is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="accord-chaos-")))
        else:
            folder = keep
            folder.mkdir(parents=True, exist_ok=True)
        url = database_url or stack.enter_context(fresh_database("accord_chaos", keep=bool(keep)))
        sx = stack.enter_context(run_sandboxes(["business-central", "dataverse"], records=0))
        if keep is not None:
            journal = Journal(folder)
            stack.callback(journal.close)
            for system in ("business-central", "dataverse"):
                journal.watch(system, sx[system].store)
            log(f"keeping {folder} and the state database {url}")
        hub = Hub(Settings(home=folder / "home"), database_url=url)
        stack.callback(hub.close)
        for name, system in (("bc", "business-central"), ("crm", "dataverse")):
            options = {"retry": RETRY, "timeout": CLIENT_TIMEOUT}
            setup.connect(hub, settings_from_sandbox(sx[system], name=name, **options))
        template = folder / "chaos.yaml"
        template.write_text(template_yaml())
        setup.init_integration(hub, str(template), {"erp": "bc", "crm": "crm"})
        app = make_app(broker, queue)
        stack.callback(drop_queue, app, queue)
        fired: dict[str, Any] = {}
        for system in ("business-central", "dataverse"):
            fired[system] = (
                sx[system]
                .core.faults.chaos(
                    fault_rate,
                    seed=rng.randrange(1 << 30),
                    timeout_delay=CLIENT_TIMEOUT + 1.0,
                    kinds=fault_kinds,
                )
                .fired
            )
        pool = Workers(folder / "home", url, broker, queue, workers)
        stack.callback(pool.stop)
        driver = PassDriver(
            CeleryExecutor(hub.db, app), ["to_crm", "to_erp"], reconcile_every
        ).start()
        stack.callback(driver.stop)
        ledger = Ledger(sx, rng, stored_ids(hub))
        log(f"{workers} workers on {queue}; {ops} changes at {rate}/s, faults {fault_rate:.0%}")
        _apply(ledger, pool, ops, rate, kill_every, rng, log)
        changed_until = time.monotonic()
        log(f"changes done after {changed_until - started:.0f} s, {pool.kills} kills; settling")
        figures, converged = _settle(ledger, driver, settle_timeout, log)
        converge_seconds = round(time.monotonic() - changed_until, 1) if converged else None
        return {
            "ops": ops,
            "kills": pool.kills,
            **figures,
            "converge_seconds": converge_seconds,
            "converged": converged,
            "workers": workers,
            "fault_rate": fault_rate,
            "fault_kinds": list(fault_kinds),
            "faults": {k: dict(v) for k, v in fired.items()},
            "passes": dict(driver.outcomes),
            "breakdown": ledger.breakdown(),
            **ledger.summary(),
            "seconds": round(time.monotonic() - started, 1),
        }
    raise AssertionError("unreachable")


def stored_ids(hub: Any) -> Callable[[str], bool]:
    """Whether the state holds a Business Central customer id in a coupling."""
    from sqlalchemy import select

    from accord.state.models import CouplingLink

    def stored(bc_id: str) -> bool:
        with hub.db.session() as session:
            query = select(CouplingLink.coupling_id).where(
                CouplingLink.role == "erp", CouplingLink.record_id == bc_id
            )
            return session.scalars(query).first() is not None

    return stored


def _apply(
    ledger: Ledger,
    pool: Workers,
    ops: int,
    rate: float,
    kill_every: tuple[float, float],
    rng: random.Random,
    log: Log,
) -> None:
    """``ops`` changes at ``rate`` per second, killing a worker every ``kill_every`` seconds.

    The kills are placed by change number (from their own seeded draw), not by the clock, so
    a seed gives the same changes and the same kill points however fast the machine is."""
    begin = time.monotonic()
    killer = random.Random(rng.randrange(1 << 30))

    def gap() -> int:
        return max(1, round(killer.uniform(*kill_every) * rate))

    next_kill = gap()
    for op in range(ops):
        ledger.step(op)
        if op + 1 >= next_kill:
            killed = pool.kill(killer)
            log(f"op {op}: killed {killed} (kill {pool.kills})")
            next_kill = op + 1 + gap()
        pause = begin + (op + 1) / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)


def _settle(
    ledger: Ledger, driver: PassDriver, timeout: float, log: Log
) -> tuple[dict[str, int], bool]:
    """Wait until two comparisons a full round apart (a pass each way and a reconciliation)
    find nothing wrong, or time out."""
    deadline = time.monotonic() + timeout
    driver.reconcile_now()
    clean_after: int | None = None
    figures = ledger.compare()
    while time.monotonic() < deadline:
        time.sleep(1.0)
        figures = ledger.compare()
        if any(figures.values()):
            clean_after = None
            continue
        if clean_after is None:
            clean_after = driver.completed()
        elif driver.completed() >= clean_after + 2:
            return figures, True
        else:
            driver.reconcile_now()
    log(f"not converged after {timeout:.0f} s: {figures}")
    for kind, what in ledger.problems()[:20]:
        log(f"  {kind}: {what}")
    return figures, False
