"""Synchronizing: ``accord sync``, ``preview``, ``retry`` and ``run`` (and ``demo``)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from accord.cli import jsonout, outcome, render
from accord.cli.common import EXIT_RECORDS, console, fail, guarded, hub, print_json, progress_bar
from accord.cli.documents_commands import finish_runs, run_json, show_runs
from accord.cli.root import DirectionOpt, IntegrationOpt, JsonOpt, MappingOpt
from accord.documents.outcomes import DocumentRun
from accord.services import documents, operations
from accord.services.hub import Hub
from accord.sync.passes import PassResult

if TYPE_CHECKING:
    from accord.runtime.executor import Executor

RecordsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--record",
        "-r",
        help="A source record by id, the first 8+ characters of its id, or its natural key "
        "(repeatable; needs one --mapping and a --direction).",
    ),
]


def finish_passes(
    results: list[PassResult],
    json_out: bool,
    title: str,
    kind: str,
    documents_run: list[DocumentRun] | None = None,
    **extra: object,
) -> NoReturn:
    """Show (or print as JSON) passes and the document runs that followed them, name the
    reasons of failed ones, exit by outcome."""
    code = outcome.passes_code(results)
    if documents_run and not all(r.ok for r in documents_run):
        code = max(code, EXIT_RECORDS)
    if documents_run:
        extra["documents"] = [run_json(r) for r in documents_run]
    if json_out:
        passes = [jsonout.pass_json(r) for r in results]
        print_json({"kind": kind, "exit_code": code, **extra, "passes": passes})
    else:
        render.passes_table(results, title)
        if documents_run:
            show_runs(documents_run)
    outcome.report_passes(results)
    raise typer.Exit(code)


@guarded
def sync(
    full: Annotated[bool, typer.Option(help="Full synchronization in dependency order.")] = False,
    create_new: Annotated[
        bool | None,
        typer.Option(
            help="With --full: create counterparts for records no match couples "
            "(default: each mapping's create_new_if_no_match; off, they are reported)."
        ),
    ] = None,
    mapping: MappingOpt = None,
    records: RecordsOpt = None,
    direction: DirectionOpt = None,
    integration: IntegrationOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Synchronize: incremental by default, --full, or chosen records in a chosen direction.

    Exit 0 all good, 1 records failed or conflicts were held, 2 a pass failed."""
    _check_records(records, mapping, direction)
    h = hub()
    if records:
        result = _records_now(h, mapping, records, direction, integration, dry_run=False)
        finish_passes([result], json_out, "Synchronized now", "records")
    if not full:
        with progress_bar(not json_out) as advance:
            results = operations.sync_incremental(
                h, mapping, integration=integration, progress=advance
            )
        # documents whose trigger is automatic follow the master data they need
        taken = [] if mapping else documents.run_automatic(h, integration)
        finish_passes(results, json_out, "Passes", "incremental", taken)
    with progress_bar(not json_out) as advance:
        runs = operations.sync_full(
            h, mapping, integration=integration, progress=advance, create_new=create_new
        )
    code = outcome.runs_code(runs)
    if json_out:
        print_json(
            {"kind": "full", "exit_code": code, "mappings": [jsonout.run_json(r) for r in runs]}
        )
    else:
        render.full_sync_table(runs)
    outcome.report_runs(runs)
    raise typer.Exit(code)


def _check_records(
    records: list[str] | None, mapping: list[str] | None, direction: str | None
) -> None:
    if records and (not mapping or len(mapping) != 1 or direction is None):
        fail("chosen records need exactly one --mapping and a --direction")


def _records_now(
    h: Hub,
    mapping: list[str] | None,
    records: list[str],
    direction: str | None,
    integration: str | None,
    *,
    dry_run: bool,
) -> PassResult:
    """Synchronize (or preview) chosen records of one mapping in one direction."""
    _check_records(records, mapping, direction)
    assert mapping is not None and direction is not None
    return operations.sync_now(
        h, mapping[0], records, direction, integration=integration, dry_run=dry_run
    )


@guarded
def preview(
    mapping: MappingOpt = None,
    records: RecordsOpt = None,
    direction: DirectionOpt = None,
    integration: IntegrationOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Dry run: list per record and field what a sync would change, writing nothing.

    Exit 1 when records would fail."""
    _check_records(records, mapping, direction)
    h = hub()
    if records:
        results = [_records_now(h, mapping, records, direction, integration, dry_run=True)]
    else:
        results = operations.sync_incremental(h, mapping, integration=integration, dry_run=True)
    code = outcome.passes_code(results)
    if json_out:
        print_json({"exit_code": code, **jsonout.preview_json(results)})
    else:
        from accord.cli.preview import print_preview

        print_preview(results)
    outcome.report_passes(results)
    raise typer.Exit(code)


@guarded
def retry(
    mapping: Annotated[
        str | None, typer.Option("--mapping", "-m", help="Only this mapping.")
    ] = None,
    ids: Annotated[list[str] | None, typer.Argument(help="Only these record ids.")] = None,
    now: Annotated[bool, typer.Option(help="Run an incremental sync right away.")] = False,
    integration: IntegrationOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Clear 'skipped' on failed records so the next pass retries them first; held
    documents are run again now (each completes once)."""
    h = hub()
    count = operations.retry(h, mapping, ids or [], integration=integration)
    if not json_out:
        console.print(f"{count} skipped record(s) will be retried.")
    runs = documents.retry_held(h, mapping, integration=integration)
    if runs and not now:
        finish_runs(runs, json_out, retried=count)
    if now:
        results = operations.sync_incremental(
            h, [mapping] if mapping else None, integration=integration
        )
        finish_passes(results, json_out, "Passes", "incremental", retried=count)
    if json_out:
        print_json({"retried": count})


@guarded
def run(
    cycles: Annotated[int | None, typer.Option(help="Stop after this many rounds.")] = None,
    integration: IntegrationOpt = None,
    broker: Annotated[
        str | None,
        typer.Option(
            envvar="ACCORD_BROKER_URL",
            help="Enqueue the passes for 'accord worker's on this broker (default: run here).",
        ),
    ] = None,
    queue: Annotated[str, typer.Option(envvar="ACCORD_QUEUE", help="Broker queue name.")] = (
        "accord"
    ),
) -> None:
    """The scheduler: enqueues each mapping's incremental pass on its interval, and the
    renewal of webhook subscriptions; they run here, or on workers with --broker."""
    from accord.cli.runtime import scheduler_for

    h = hub()
    executor: Executor
    if broker:
        from accord.runtime.celery_app import CeleryExecutor, make_app

        executor = CeleryExecutor(h.db, make_app(broker, queue))
    else:
        from accord.services.workloads import local_executor

        executor = local_executor(h, attempts=1)  # the scheduler backs a failure off itself
    stop = threading.Event()
    scheduler = scheduler_for(h, executor, integration, report=True)
    where = f"workers on {queue!r}" if broker else "this process"
    console.print(f"Scheduler running (work runs in {where}); Ctrl+C stops it.")
    try:
        scheduler.run(stop, max_cycles=cycles)
    except KeyboardInterrupt:
        stop.set()
        console.print("Stopped.")
    finally:
        executor.close()


@guarded
def demo(
    records: Annotated[int, typer.Option(help="Customers in the sample data.")] = 200,
    seed: Annotated[int, typer.Option(help="Random seed for the sample data.")] = 7,
    json_out: JsonOpt = False,
) -> None:
    """Start the sandboxes, set up, full sync, change both sides, incremental sync, then a
    quote to cash (quote, revision, order, shipments, invoice, payment), step by step.
    Exit 1 when a step of that story failed."""
    from accord.cli.demo import run_demo

    raise typer.Exit(run_demo(records=records, seed=seed, json_out=json_out))
