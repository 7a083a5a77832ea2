"""The scheduler: it enqueues each mapping's incremental pass on its interval, and the renewal
of webhook subscriptions, as workloads; it never runs them itself.

An executor runs what it submits: the local one in this process (``accord run``, the embedded
default, no broker), or Celery workers (``accord worker``, several machines, one database).
Each periodic job is due when its interval slot starts, under the key
``<what>:<integration>:<name>:<slot>``, so any number of schedulers (one per worker) submit
each slot's workload once between them; due passes are submitted in dependency order.

What the scheduler learns of a workload depends on where it ran: the local executor returns
it finished, so a failed pass (throttling, an unreachable system, a pass another worker
holds) is tried again after a back-off (5 s doubling, at most ``max_backoff``) under a fresh
key, while the others carry on; refused credentials stop the scheduler with the reason, so
expired credentials never fail silently. Workers retry their own workloads (ADR 0014).
One job whose submission fails (a broker hiccup) is reported and tried at the next round.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from accord.errors import AuthError
from accord.runtime.executor import Submitted
from accord.runtime.workloads import RenewSubscriptions, RunDocuments, SyncPass, Workload
from accord.state.store import IntegrationConfig
from accord.sync.plan import dependency_order

Clock = Callable[[], float]
Submit = Callable[[Workload], Submitted]
RENEW_EVERY = 3600.0
"""Seconds between renewal rounds; each renews what lapses within a day (BC's last 3)."""


@dataclass(frozen=True)
class Periodic:
    """A workload submitted every ``interval`` seconds; ``make`` builds it for a key."""

    name: str
    interval: float
    make: Callable[[str], Workload]
    prefix: str = "pass"


def passes_and_renewal(
    config: IntegrationConfig,
    *,
    renew_every: float = RENEW_EVERY,
    renew_within: float | None = None,
) -> list[Periodic]:
    """Each enabled mapping's pass (in dependency order), each document mapping's run, then
    the subscription renewal."""
    specs = {m.name: m for m in config.template.mappings if m.enabled}
    order = dependency_order({n: [d for d in s.depends_on if d in specs] for n, s in specs.items()})
    name = config.name

    def sync_pass(mapping: str) -> Callable[[str], Workload]:
        return lambda key: SyncPass(key=key, integration=name, mapping=mapping)

    def renewal(key: str) -> Workload:
        if renew_within is None:
            return RenewSubscriptions(key=key, integration=name)
        return RenewSubscriptions(key=key, integration=name, within_seconds=renew_within)

    def documents(mapping: str) -> Callable[[str], Workload]:
        return lambda key: RunDocuments(key=key, integration=name, mapping=mapping)

    jobs = [Periodic(n, float(specs[n].interval_seconds), sync_pass(n)) for n in order]
    jobs += [
        Periodic(d.name, float(d.interval_seconds), documents(d.name), prefix="documents")
        for d in config.template.documents
        if d.enabled and d.mode == "transfer"
    ]
    return [*jobs, Periodic("subscriptions", renew_every, renewal, prefix="renew")]


@dataclass
class Scheduler:
    """Submits each periodic job of one integration when it is due."""

    integration: str
    jobs: Sequence[Periodic]
    submit: Submit
    clock: Clock = time.time
    on_submitted: Callable[[Workload, Submitted], None] | None = None
    on_notice: Callable[[str], None] | None = None
    max_backoff: float = 900.0
    _last_slot: dict[str, int] = field(default_factory=dict)
    _retry: dict[str, tuple[float, int]] = field(default_factory=dict)
    """Job -> (when to try again, failures in a row), for jobs whose workload failed here."""

    @classmethod
    def of(
        cls,
        config: IntegrationConfig,
        submit: Submit,
        *,
        renew_every: float = RENEW_EVERY,
        renew_within: float | None = None,
        clock: Clock = time.time,
        on_submitted: Callable[[Workload, Submitted], None] | None = None,
        on_notice: Callable[[str], None] | None = None,
    ) -> Scheduler:
        """The scheduler of ``config``'s passes and its subscription renewal."""
        jobs = passes_and_renewal(config, renew_every=renew_every, renew_within=renew_within)
        return cls(config.name, jobs, submit, clock, on_submitted, on_notice)

    def _slot(self, job: Periodic, now: float) -> int:
        return int(now // max(job.interval, 1.0))

    def _is_due(self, job: Periodic, now: float) -> bool:
        retry = self._retry.get(job.name)
        if retry is not None:
            return now >= retry[0]
        return self._last_slot.get(job.name) != self._slot(job, now)

    def due(self) -> list[str]:
        """Jobs due now, in order."""
        now = self.clock()
        return [j.name for j in self.jobs if self._is_due(j, now)]

    def run_due(self) -> list[Submitted]:
        """Submit every due job once; returns the submissions (finished ones when the
        executor runs them here)."""
        submitted: list[Submitted] = []
        now = self.clock()
        for job in self.jobs:
            if not self._is_due(job, now):
                continue
            slot = self._slot(job, now)
            failures = self._retry.get(job.name, (0.0, 0))[1]
            key = f"{job.prefix}:{self.integration}:{job.name}:{slot}"
            workload = job.make(key + (f".{failures}" if failures else ""))
            try:
                done = self.submit(workload)
            except Exception as exc:  # a broker hiccup for one job: try it next round
                self._notice(f"{job.name}: could not enqueue it: {exc}")
                continue
            submitted.append(done)
            if self.on_submitted:
                self.on_submitted(workload, done)
            self._last_slot[job.name] = slot
            if done.row.status != "failed":
                self._retry.pop(job.name, None)
                continue
            if (done.row.result or {}).get("error") == AuthError.__name__:
                self._notice(f"stopping: {done.row.message}")
                raise AuthError(done.row.message or "credentials were refused")
            delay = min(self.max_backoff, 5.0 * 2**failures)
            self._retry[job.name] = (self.clock() + delay, failures + 1)
            self._notice(f"{job.name}: {done.row.message}; retrying in {delay:.0f} s")
        return submitted

    def seconds_until_due(self) -> float:
        now = self.clock()
        if any(self._is_due(j, now) for j in self.jobs) or not self.jobs:
            return 0.0
        return min(
            self._retry[j.name][0] - now
            if j.name in self._retry
            else (self._slot(j, now) + 1) * max(j.interval, 1.0) - now
            for j in self.jobs
        )

    def run(self, stop: threading.Event, *, max_cycles: int | None = None) -> None:
        """Loop until ``stop`` is set (or ``max_cycles`` rounds have run)."""
        cycles = 0
        while not stop.is_set():
            self.run_due()
            cycles += 1
            if max_cycles is not None and cycles >= max_cycles:
                return
            stop.wait(max(0.2, self.seconds_until_due()))

    def _notice(self, text: str) -> None:
        if self.on_notice:
            self.on_notice(text)
