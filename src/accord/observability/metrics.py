"""Prometheus counters and latencies of passes, pages, write batches, record errors and HTTP.

The engine calls the ``observe_*`` functions; each (except :func:`observe_request`, which
runs once per HTTP request) also writes one structured log line with its context
(integration, mapping, direction, job id, record ids). :func:`render_metrics` gives the
text exposition for a scrape endpoint or a file.
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from accord.observability.logs import get_logger

REGISTRY = CollectorRegistry(auto_describe=True)
"""Accord's own registry: importing Accord never touches prometheus-client's default one."""

_NS = "accord"
_FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_SLOW = (0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0)

PASSES = Counter(
    "passes",
    "Sync passes run, by final status.",
    ["mapping", "direction", "status"],
    namespace=_NS,
    registry=REGISTRY,
)
PASS_SECONDS = Histogram(
    "pass_seconds",
    "Duration of sync passes.",
    ["mapping", "direction"],
    namespace=_NS,
    registry=REGISTRY,
    buckets=_SLOW,
)
RECORDS = Counter(
    "records",
    "Records handled by passes, by outcome.",
    ["mapping", "direction", "outcome"],
    namespace=_NS,
    registry=REGISTRY,
)
PAGES = Counter(
    "pages",
    "Source pages read by passes.",
    ["mapping", "direction"],
    namespace=_NS,
    registry=REGISTRY,
)
WRITE_BATCHES = Counter(
    "write_batches",
    "Write batches sent, by outcome (ok, partial, failed).",
    ["entity", "outcome"],
    namespace=_NS,
    registry=REGISTRY,
)
BATCH_SECONDS = Histogram(
    "batch_seconds",
    "Duration of write batches.",
    ["entity"],
    namespace=_NS,
    registry=REGISTRY,
    buckets=_FAST,
)
RECORD_ERRORS = Counter(
    "record_errors",
    "Records that failed in a pass.",
    ["mapping", "direction"],
    namespace=_NS,
    registry=REGISTRY,
)
HTTP_REQUESTS = Counter(
    "http_requests",
    "HTTP requests sent (retries included); status 'error' when none came.",
    ["connection", "method", "status"],
    namespace=_NS,
    registry=REGISTRY,
)
HTTP_REQUEST_SECONDS = Histogram(
    "http_request_seconds",
    "Latency of HTTP requests.",
    ["connection", "method"],
    namespace=_NS,
    registry=REGISTRY,
    buckets=_FAST,
)
THROTTLED = Counter(
    "throttled",
    "Requests the server throttled (429 or Retry-After).",
    ["connection"],
    namespace=_NS,
    registry=REGISTRY,
)


def observe_pass(
    mapping: str,
    direction: str,
    status: str,
    seconds: float,
    counts: Mapping[str, int],
    **context: object,
) -> None:
    """A pass ended with ``status`` after ``seconds``; ``counts`` are records by outcome."""
    PASSES.labels(mapping, direction, status).inc()
    PASS_SECONDS.labels(mapping, direction).observe(max(seconds, 0.0))
    for outcome, number in counts.items():
        if number:
            RECORDS.labels(mapping, direction, outcome).inc(number)
    log = get_logger(mapping=mapping, direction=direction, **context)
    emit = log.warning if status in {"failed", "error"} else log.info
    emit("pass finished", status=status, seconds=round(seconds, 3), counts=dict(counts))


def observe_page(mapping: str, direction: str, records: int, **context: object) -> None:
    """A pass processed one source page of ``records`` records."""
    PAGES.labels(mapping, direction).inc()
    get_logger(mapping=mapping, direction=direction, **context).info(
        "page processed", records=records
    )


def observe_batch(entity: str, ops: int, failed: int, seconds: float, **context: object) -> None:
    """A write batch of ``ops`` operations on ``entity`` came back with ``failed`` failures."""
    outcome = "ok" if failed == 0 else "failed" if failed >= ops else "partial"
    WRITE_BATCHES.labels(entity, outcome).inc()
    BATCH_SECONDS.labels(entity).observe(max(seconds, 0.0))
    log = get_logger(entity=entity, **context)
    emit = log.info if outcome == "ok" else log.warning
    emit("write batch", ops=ops, failed=failed, outcome=outcome, seconds=round(seconds, 3))


def observe_record_error(mapping: str, direction: str, message: str, **context: object) -> None:
    """One record failed; ``context`` names it (``record_id``, ``job_id``...)."""
    RECORD_ERRORS.labels(mapping, direction).inc()
    get_logger(mapping=mapping, direction=direction, **context).warning(
        "record failed", error=message
    )


def observe_request(
    connection: str, method: str, status: int | None, seconds: float, throttled: bool
) -> None:
    """One HTTP request ended with ``status`` (None: no response) after ``seconds``."""
    HTTP_REQUESTS.labels(connection, method, "error" if status is None else str(status)).inc()
    HTTP_REQUEST_SECONDS.labels(connection, method).observe(max(seconds, 0.0))
    if throttled:
        THROTTLED.labels(connection).inc()


def render_metrics() -> bytes:
    """Every Accord metric in the Prometheus text exposition format."""
    return generate_latest(REGISTRY)
