"""Prometheus metrics of the runtime: workloads run by outcome and how long they took.

Queue depth is read from the state database at scrape time (:mod:`accord.api.metrics`)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from accord.observability.metrics import REGISTRY

WORKLOADS = Counter(
    "workloads",
    "Workload deliveries run, by kind and outcome (done, failed, retry, busy...).",
    ["kind", "outcome"],
    namespace="accord",
    registry=REGISTRY,
)
WORKLOAD_SECONDS = Histogram(
    "workload_seconds",
    "Duration of workloads.",
    ["kind"],
    namespace="accord",
    registry=REGISTRY,
    buckets=(0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0),
)


def observe_workload(kind: str, outcome: str, seconds: float) -> None:
    WORKLOADS.labels(kind, outcome).inc()
    WORKLOAD_SECONDS.labels(kind).observe(max(seconds, 0.0))
