"""Exit codes from what a run did (ADR 0009), and the reasons of failed passes on stderr."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from accord.cli.common import EXIT_FAILED, EXIT_OK, EXIT_RECORDS, err_console
from accord.sync.full import MappingRun
from accord.sync.passes import PassResult


def pass_code(result: PassResult) -> int:
    """2 when the pass failed; 1 when records failed or conflicts were held; else 0."""
    if result.status == "failed":
        return EXIT_FAILED
    counts = result.counts
    # a dry run counts every conflict it meets, held before or not: only failures count there
    held = counts.get("conflicts", 0) if result.status != "preview" else 0
    if result.status == "error" or counts.get("failed", 0) or held:
        return EXIT_RECORDS
    return EXIT_OK


def passes_code(results: Iterable[PassResult]) -> int:
    return max((pass_code(r) for r in results), default=EXIT_OK)


def runs_code(runs: Iterable[MappingRun]) -> int:
    """A full sync: 2 when a mapping failed or was held by a failed dependency."""
    code = EXIT_OK
    for run in runs:
        if run.status in ("failed", "held"):
            return EXIT_FAILED
        code = max(code, EXIT_RECORDS if run.status == "error" else EXIT_OK)
        code = max(code, passes_code(run.passes))
    return code


def report_passes(results: Sequence[PassResult]) -> None:
    """Why each failed pass failed, one line each on stderr."""
    for r in results:
        if r.status == "failed":
            _reason(f"{r.mapping} {r.direction} failed", r.message)


def report_runs(runs: Sequence[MappingRun]) -> None:
    for run in runs:
        failed = [p for p in run.passes if p.status == "failed"]
        if run.status in ("failed", "held") and not failed:
            _reason(f"{run.mapping} {run.status}", run.message)
        report_passes(failed)


def _reason(what: str, message: str | None) -> None:
    err_console.print(
        f"[bold red]error:[/] {what}: {message or 'no reason given'}",
        highlight=False,
        soft_wrap=True,
    )
