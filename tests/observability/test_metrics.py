"""Prometheus metrics and the log line of each pass, page, batch and record error; after a
real pass against the sandboxes the exposition shows the pass and its HTTP requests."""

from __future__ import annotations

import io
import json

from prometheus_client.parser import text_string_to_metric_families

from accord.observability import (
    configure_logging,
    observe_batch,
    observe_page,
    observe_pass,
    observe_record_error,
    observe_request,
    render_metrics,
)
from accord.observability.metrics import REGISTRY
from accord.sync.passes import PassOptions, run_pass
from tests.worlds import WorldFactory


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _samples() -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = render_metrics().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_each_observation_counts_and_logs_one_line() -> None:
    out = io.StringIO()
    configure_logging("INFO", stream=out)
    before = {
        "pass": _value("accord_passes_total", mapping="M1", direction="to_crm", status="success"),
        "inserted": _value(
            "accord_records_total", mapping="M1", direction="to_crm", outcome="inserted"
        ),
        "page": _value("accord_pages_total", mapping="M1", direction="to_crm"),
        "partial": _value("accord_write_batches_total", entity="accounts", outcome="partial"),
        "error": _value("accord_record_errors_total", mapping="M1", direction="to_crm"),
    }
    observe_pass("M1", "to_crm", "success", 2.5, {"inserted": 3, "failed": 0}, job_id="j1")
    observe_page("M1", "to_crm", 40, job_id="j1")
    observe_batch("accounts", ops=10, failed=2, seconds=0.2, job_id="j1")
    observe_record_error("M1", "to_crm", "rejected: token=abc123", job_id="j1", record_id="C-1")
    assert (
        _value("accord_passes_total", mapping="M1", direction="to_crm", status="success")
        == before["pass"] + 1
    )
    assert (
        _value("accord_records_total", mapping="M1", direction="to_crm", outcome="inserted")
        == before["inserted"] + 3
    )
    assert _value("accord_pages_total", mapping="M1", direction="to_crm") == before["page"] + 1
    assert (
        _value("accord_write_batches_total", entity="accounts", outcome="partial")
        == before["partial"] + 1
    )
    assert (
        _value("accord_record_errors_total", mapping="M1", direction="to_crm")
        == before["error"] + 1
    )
    assert _value("accord_pass_seconds_sum", mapping="M1", direction="to_crm") >= 2.5
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["event"] for line in lines] == [
        "pass finished",
        "page processed",
        "write batch",
        "record failed",
    ]
    assert all(line["job_id"] == "j1" for line in lines)
    assert lines[0]["counts"] == {"inserted": 3, "failed": 0} and lines[1]["records"] == 40
    assert lines[2]["outcome"] == "partial" and lines[2]["level"] == "warning"
    assert lines[3]["record_id"] == "C-1" and "abc123" not in out.getvalue()


def test_requests_count_by_status_and_throttling() -> None:
    before = _value("accord_throttled_total", connection="t-conn")
    observe_request("t-conn", "GET", 429, 0.01, throttled=True)
    observe_request("t-conn", "GET", None, 0.5, throttled=False)
    samples = _samples()
    get = frozenset({("connection", "t-conn"), ("method", "GET")})
    assert samples[("accord_http_requests_total", get | {("status", "429")})] >= 1
    assert samples[("accord_http_requests_total", get | {("status", "error")})] >= 1
    assert samples[("accord_http_request_seconds_count", get)] >= 2
    assert _value("accord_throttled_total", connection="t-conn") == before + 1


def test_a_real_pass_shows_in_the_metrics_and_the_log(make_world: WorldFactory) -> None:
    world = make_world(records=5)
    out = io.StringIO()
    configure_logging("INFO", stream=out)
    labels = {"mapping": "CURRENCY", "direction": "to_crm", "status": "success"}
    passes_before = _value("accord_passes_total", **labels)
    crm_before = sum(
        v for (name, lab), v in _samples().items()
        if name == "accord_http_requests_total" and ("connection", "crm") in lab
    )  # fmt: skip
    with world.context() as ctx:
        result = run_pass(ctx, "CURRENCY", "to_crm", PassOptions(kind="full"))
    assert result.status == "success" and result.counts["inserted"] > 0
    assert _value("accord_passes_total", **labels) == passes_before + 1
    samples = _samples()
    bc_gets = samples[
        (
            "accord_http_requests_total",
            frozenset({("connection", "bc"), ("method", "GET"), ("status", "200")}),
        )
    ]
    crm_after = sum(
        v for (name, lab), v in samples.items()
        if name == "accord_http_requests_total" and ("connection", "crm") in lab
    )  # fmt: skip
    assert bc_gets >= 1 and crm_after > crm_before
    assert (
        _value("accord_records_total", mapping="CURRENCY", direction="to_crm", outcome="inserted")
        >= result.counts["inserted"]
    )
    (line,) = [json.loads(x) for x in out.getvalue().splitlines() if '"pass finished"' in x]
    assert line["mapping"] == "CURRENCY" and line["job_id"] == result.job_id
    assert line["status"] == "success" and line["integration"] == ctx.config.name
    assert line["counts"]["inserted"] == result.counts["inserted"]
    # the inserts went to Dataverse in $batch calls, each logged with its connection
    batches = [
        b
        for b in (json.loads(x) for x in out.getvalue().splitlines() if '"write batch"' in x)
        if b["entity"] != "bcbi_companies"  # the company row, made once when mappings compile
    ]
    assert batches and all(
        b["entity"] == "transactioncurrencies" and b["connection"] == "crm" for b in batches
    )
    assert sum(b["ops"] for b in batches) >= result.counts["inserted"]
