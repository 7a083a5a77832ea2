"""Smoke test of ``python -m bench documents``: a tiny run of both intakes, its figures in
the keys the docs name."""

from __future__ import annotations

from bench.documents import MIN_REQUESTS, documents_bench, min_requests


def test_documents_benchmark_runs_and_reports_its_keys() -> None:
    figures = documents_bench(3, 2, lambda line: None)
    for key in (
        "accord_documents_per_s",
        "baseline_documents_per_s",
        "requests_per_document",
        "min_requests_per_document",
        "peak_rss_mb",
    ):
        assert figures[key] > 0, key
    assert figures["min_requests_per_document_one_by_one"] == MIN_REQUESTS
    # 3 orders: Accord takes them as one chunk, the baseline one by one (5 each and sign-in)
    assert (
        figures["requests_per_document"] < MIN_REQUESTS < figures["baseline_requests_per_document"]
    )
    assert figures["peak_rss_mb"] > 0 and figures["baseline_peak_rss_mb"] > 0


def test_the_fewest_requests_the_apis_allow() -> None:
    # per 1,000: 1 page of orders with lines, 2 write-back batches, 25 lookups, 10 inserts
    assert min_requests(1000) == (1 + 2 + 25 + 10) / 1000
    assert min_requests(1) == 5  # one order: each of the five once
