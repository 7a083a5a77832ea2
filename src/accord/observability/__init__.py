"""Structured logs (structlog, secrets redacted) and Prometheus metrics of every pass."""

from accord.observability.logs import configure_logging, get_logger
from accord.observability.metrics import (
    observe_batch,
    observe_page,
    observe_pass,
    observe_record_error,
    observe_request,
    render_metrics,
)

__all__ = [
    "configure_logging",
    "get_logger",
    "observe_batch",
    "observe_page",
    "observe_pass",
    "observe_record_error",
    "observe_request",
    "render_metrics",
]
