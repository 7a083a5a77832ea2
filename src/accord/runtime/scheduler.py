"""The schedulers: each mapping's incremental passes on its own interval, until stopped.

:class:`Dispatcher` enqueues each due pass as a workload for the executor (workers run it);
:class:`Scheduler` runs them itself in one process (``accord run``).

A mapping is due when its interval has passed since its last run; due mappings run in
dependency order, then the due document mappings (``accord run`` only; workers do not run
them yet). A pass another worker holds is left to that worker; a transient failure
(throttling, an unreachable system) backs the mapping off and the scheduler carries on; an
authentication failure stops it with the reason, so expired credentials never fail silently.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from accord.documents.engine import run_documents
from accord.documents.outcomes import DocumentRun
from accord.documents.status import follows_status, run_status
from accord.errors import AuthError, TransientError
from accord.runtime.workloads import SyncPass
from accord.sync.context import SyncContext
from accord.sync.passes import PassBusy, PassOptions, PassResult, run_pass
from accord.sync.plan import dependency_order

Clock = Callable[[], float]


@dataclass
class Scheduler:
    """Runs due mappings of one sync context."""

    ctx: SyncContext
    clock: Clock = time.monotonic
    on_result: Callable[[PassResult], None] | None = None
    on_notice: Callable[[str], None] | None = None
    max_backoff: float = 900.0
    _next_due: dict[str, float] = field(default_factory=dict)
    _failures: dict[str, int] = field(default_factory=dict)

    def due(self) -> list[str]:
        """Mappings due now, in dependency order."""
        now = self.clock()
        specs = {m.name: m for m in self.ctx.config.template.mappings if m.enabled}
        order = dependency_order(
            {n: [d for d in s.depends_on if d in specs] for n, s in specs.items()}
        )
        return [n for n in order if self._next_due.get(n, 0.0) <= now]

    def run_due(self) -> list[PassResult]:
        """Run every due mapping once; returns what the passes did."""
        results: list[PassResult] = []
        for name in self.due():
            mapping = self.ctx.mapping(name)
            delay = float(mapping.spec.interval_seconds)
            try:
                for direction in mapping.directions():
                    result = run_pass(self.ctx, name, direction, PassOptions(kind="incremental"))
                    results.append(result)
                    if self.on_result:
                        self.on_result(result)
                    if result.status == "failed":
                        raise TransientError(result.message or "pass failed")
                self._failures.pop(name, None)
            except PassBusy as exc:
                self._notice(f"{name}: {exc}")
            except TransientError as exc:
                count = self._failures.get(name, 0) + 1
                self._failures[name] = count
                delay = min(self.max_backoff, 5.0 * 2 ** (count - 1))
                self._notice(f"{name}: {exc}; retrying in {delay:.0f} s")
            self._next_due[name] = self.clock() + delay
        self.run_documents_due()
        return results

    def run_documents_due(self) -> list[DocumentRun]:
        """Each due document mapping: stopped transfers resume, and the triggered documents
        are taken when its trigger is automatic (ADR 0021), then its status pass."""
        runs: list[DocumentRun] = []
        now = self.clock()
        for doc in self.ctx.config.template.documents:
            key = f"document:{doc.name}"
            if not doc.enabled or doc.mode != "transfer" or self._next_due.get(key, 0.0) > now:
                continue
            delay = float(doc.interval_seconds)
            try:
                run = run_documents(self.ctx, doc.name)
                runs.append(run)
                if follows_status(doc):  # then what became of the transferred ones
                    followed = run_status(self.ctx, doc.name)
                    runs += [followed] if followed.job_id is not None else []
                if run.outcomes:
                    self._notice(
                        f"{doc.name}: "
                        + " ".join(f"{k}={v}" for k, v in sorted(run.counts.items()))
                    )
                self._failures.pop(key, None)
            except TransientError as exc:
                count = self._failures.get(key, 0) + 1
                self._failures[key] = count
                delay = min(self.max_backoff, 5.0 * 2 ** (count - 1))
                self._notice(f"{doc.name}: {exc}; retrying in {delay:.0f} s")
            self._next_due[key] = self.clock() + delay
        return runs

    def seconds_until_due(self) -> float:
        if not self._next_due:
            return 0.0
        return max(0.0, min(self._next_due.values()) - self.clock())

    def run(self, stop: threading.Event, *, max_cycles: int | None = None) -> None:
        """Loop until ``stop`` is set (or ``max_cycles`` rounds have run)."""
        cycles = 0
        while not stop.is_set():
            try:
                self.run_due()
            except AuthError as exc:
                self._notice(f"stopping: {exc}")
                raise
            cycles += 1
            if max_cycles is not None and cycles >= max_cycles:
                return
            stop.wait(max(0.5, self.seconds_until_due()))

    def _notice(self, text: str) -> None:
        if self.on_notice:
            self.on_notice(text)


Submit = Callable[[SyncPass], object]


@dataclass
class Dispatcher:
    """The scheduler of a scaled-out hub: it enqueues each due mapping's pass, never runs it.

    Each pass is submitted as a :class:`SyncPass` whose key names the mapping and its
    interval slot (``pass:<integration>:<mapping>:<slot>``), so several dispatchers (one per
    worker) submit each slot's pass once between them. A mapping whose submission fails is
    reported and tried at the next round; the others go on.
    """

    integration: str
    intervals: dict[str, float]
    """Mapping -> seconds between passes (enabled mappings only)."""
    submit: Submit
    wall_clock: Clock = time.time
    on_notice: Callable[[str], None] | None = None
    _last_slot: dict[str, int] = field(default_factory=dict)

    def dispatch_due(self) -> list[SyncPass]:
        """Submit every mapping whose current slot has not been submitted by this dispatcher."""
        sent: list[SyncPass] = []
        now = self.wall_clock()
        for name, interval in self.intervals.items():
            slot = int(now // max(interval, 1.0))
            if self._last_slot.get(name) == slot:
                continue
            workload = SyncPass(
                key=f"pass:{self.integration}:{name}:{slot}",
                integration=self.integration,
                mapping=name,
            )
            try:
                self.submit(workload)
            except Exception as exc:  # a broker hiccup for one mapping: try it next round
                self._notice(f"{name}: could not enqueue its pass: {exc}")
                continue
            self._last_slot[name] = slot
            sent.append(workload)
        return sent

    def run(self, stop: threading.Event, *, tick: float = 1.0) -> None:
        while not stop.is_set():
            self.dispatch_due()
            stop.wait(tick)

    def _notice(self, text: str) -> None:
        if self.on_notice:
            self.on_notice(text)
