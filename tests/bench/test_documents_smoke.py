"""Smoke test of ``python -m bench documents``: a tiny run of both intakes, its figures in
the keys the docs name."""

from __future__ import annotations

from bench.documents import MIN_REQUESTS, documents_bench


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
    assert figures["min_requests_per_document"] == MIN_REQUESTS
    assert figures["baseline_requests_per_document"] < figures["requests_per_document"] < 9
