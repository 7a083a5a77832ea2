"""The numbers of a service-protection limit (:class:`ServiceLimits`) and each service's
preset, from ``api-protocols.md`` §1 and §2 "Limits and errors"; the numbers it leaves open are
chosen in ADR 0015 and are settings too."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class ServiceLimits:
    """One service's limits per user, and the modelled cost of each request."""

    requests: int
    """Requests allowed per window."""
    concurrent: int
    """Requests served at once."""
    window_seconds: float = 300.0
    queue: int = 0
    """Requests that wait for a slot beyond ``concurrent`` (more are refused)."""
    execution_ms: float | None = None
    """Combined execution time allowed per window (None: no such limit)."""
    batch_counts: Literal["request", "operations"] = "request"
    """How a ``$batch`` counts against ``requests``: once, or once per inner operation."""
    execution_ms_per_request: float = 0.0
    execution_ms_per_record: float = 0.0
    """Execution time charged per written record (a ``$batch`` operation or a single write)."""
    latency_per_request: float = 0.0
    latency_per_record: float = 0.0
    """Seconds each request waits in its slot: per request plus per written record."""
    retry_after: bool = True
    """Send ``Retry-After`` on 429 (whole seconds)."""
    concurrency_retry_after: float = 1.0
    prefill_execution: float = 0.0
    """Start each user's window this full of execution time, spread evenly over the window
    before the limits were switched on (or restarted), as if the user had been running at that
    share of the budget all along: a steady state from the start."""
    prefill_requests: float = 0.0
    """The same for the request count."""
    codes: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """Error code and message per breached limit (``requests``, ``execution``, ``concurrency``)."""

    def scaled(self, factor: float) -> ServiceLimits:
        """Same rates, a window ``factor`` times shorter (budgets shrink with it)."""
        if factor <= 0:
            raise ValueError(f"scale factor must be > 0, got {factor!r}")
        return dataclasses.replace(
            self,
            window_seconds=self.window_seconds / factor,
            requests=max(1, math.ceil(self.requests / factor)),
            execution_ms=None if self.execution_ms is None else self.execution_ms / factor,
        )

    def changed(self, **values: Any) -> ServiceLimits:
        """A copy with ``values`` replaced (unknown names raise ValueError naming them)."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown limit setting(s) {sorted(unknown)}; valid: {sorted(known)}")
        return dataclasses.replace(self, **values)

    def costs(self, records: int) -> tuple[float, float, float]:
        """(requests counted, execution ms, latency s) of a request writing ``records``."""
        counted = float(records) if self.batch_counts == "operations" and records > 1 else 1.0
        execution = self.execution_ms_per_request + records * self.execution_ms_per_record
        latency = self.latency_per_request + records * self.latency_per_record
        return counted, execution, latency

    def write_ceiling(self, batch: int) -> float:
        """Records per second the limits allow when writing ``batch`` records per request."""
        counted, execution, latency = self.costs(batch)
        rates = [self.requests / self.window_seconds / counted * batch]
        if self.execution_ms is not None and execution > 0:
            rates.append(self.execution_ms / self.window_seconds / execution * batch)
        if latency > 0:
            rates.append(self.concurrent * batch / latency)
        return min(rates)


BUSINESS_CENTRAL = ServiceLimits(
    requests=6000,
    concurrent=5,
    queue=95,
    retry_after=False,
    latency_per_request=0.05,
    latency_per_record=0.005,
    codes={
        "requests": (
            "Application_TooManyRequests",
            "Too many requests reached. Actual ({actual}). Maximum ({limit}).",
        ),
        "concurrency": (
            "Application_TooManyRequests",
            "Too many concurrent requests reached. Maximum concurrent ({limit}), queue ({queue}).",
        ),
    },
)
"""api-protocols.md §1: 6,000 requests per 5-minute sliding window, 5 concurrent, queue 95;
429 on breach; ``Retry-After`` is documented only for 502/503, so none is sent by default."""

DATAVERSE = ServiceLimits(
    requests=6000,
    concurrent=52,
    execution_ms=1_200_000,
    execution_ms_per_request=50.0,
    execution_ms_per_record=20.0,
    latency_per_request=0.05,
    latency_per_record=0.02,
    codes={
        "requests": (
            "0x80072322",
            "Number of requests exceeded the limit of {limit} over time window of {window} "
            "seconds.",
        ),
        "execution": (
            "0x80072321",
            "Combined execution time of incoming requests exceeded limit of {limit} "
            "milliseconds over time window of {window} seconds. Decrease number of concurrent "
            "requests or reduce the duration of requests and try again later.",
        ),
        "concurrency": (
            "0x80072326",
            "Number of concurrent requests exceeded the limit of {limit}.",
        ),
    },
)
"""api-protocols.md §2: per user, 300-s sliding window: 6,000 requests, 1,200,000 ms combined
execution time, 52 concurrent; 429 with ``Retry-After``."""

PRESETS: dict[str, ServiceLimits] = {
    "business-central": BUSINESS_CENTRAL,
    "dataverse": DATAVERSE,
}
