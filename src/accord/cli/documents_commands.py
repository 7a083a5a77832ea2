"""Documents: ``accord orders create-in-erp | status``, ``accord quotes create-in-erp |
history``, ``accord documents run | status | set | history``.

Exit codes (ADR 0009): 0 every document went through (or was transferred before); 1 a
document was held, stopped or not found; 2 the command failed."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, NoReturn

import typer

from accord.cli.common import EXIT_OK, EXIT_RECORDS, console, err_console, guarded, hub, print_json
from accord.cli.root import IntegrationOpt, JsonOpt
from accord.documents.outcomes import DocumentRun
from accord.services import document_archives, documents

orders_app = typer.Typer(help="Sales orders between the CRM and the ERP.", no_args_is_help=True)
documents_app = typer.Typer(help="Document mappings (kind: document).", no_args_is_help=True)

DocMappingOpt = Annotated[
    str | None,
    typer.Option("--mapping", "-m", help="The document mapping (default: the one for orders)."),
]


def run_json(run: DocumentRun) -> dict[str, Any]:
    return {
        "mapping": run.mapping,
        "kind": run.kind,
        "job_id": run.job_id,
        "counts": dict(run.counts),
        "documents": [
            {
                "identity": o.identity,
                "source_id": o.source_id or None,
                "status": o.status,
                "target_id": o.target_id,
                "messages": o.messages,
            }
            for o in run.outcomes
        ],
    }


def finish_runs(runs: list[DocumentRun], json_out: bool, **extra: Any) -> NoReturn:
    """Show what each document run did and exit by its outcome."""
    code = EXIT_OK if all(r.ok for r in runs) else EXIT_RECORDS
    if json_out:
        print_json({"exit_code": code, **extra, "runs": [run_json(r) for r in runs]})
    else:
        show_runs(runs)
    raise typer.Exit(code)


def show_runs(runs: list[DocumentRun]) -> None:
    """Each document's outcome, one line each; why held or stopped on stderr."""
    for run in runs:
        name = run.mapping + (" (status)" if run.kind == "status" else "")
        if not run.outcomes:
            console.print(f"{name}: no document to take.")
        for o in run.outcomes:
            target = f" -> {o.target_id}" if o.target_id else ""
            console.print(f"{name} {o.identity}: {o.status}{target}", highlight=False)
            for message in o.messages:
                err_console.print(f"  {message}", highlight=False, soft_wrap=True)


@orders_app.command("create-in-erp")
@guarded
def create_in_erp(
    names: Annotated[list[str], typer.Argument(help="Order names (the CRM's order Name).")],
    mapping: DocMappingOpt = None,
    integration: IntegrationOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Create the named orders in the ERP now (Microsoft: Create in Business Central).

    An order already created there is not created again; its pick-up is marked in the CRM."""
    h = hub()
    name = mapping or documents.default_mapping(h, "salesorders", integration)
    finish_runs([documents.run(h, name, names, integration=integration)], json_out)


@orders_app.command("status")
@guarded
def order_status(
    names: Annotated[
        list[str] | None, typer.Argument(help="Order names (default: every transferred order).")
    ] = None,
    mapping: DocMappingOpt = None,
    integration: IntegrationOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Tell the CRM what became of transferred orders in the ERP now (Microsoft: the Sales
    Order Status job): one timeline post per release, shipment and invoice; fulfilled and
    invoiced once the ERP posted everything. Exit 1 when an order failed or is unknown."""
    h = hub()
    name = mapping or documents.default_mapping(h, "salesorders", integration)
    finish_runs([documents.status(h, name, names or [], integration=integration)], json_out)


@documents_app.command("status")
@guarded
def status(
    mapping: Annotated[str, typer.Argument(help="Document mapping, e.g. 'SALES ORDER'.")],
    names: Annotated[
        list[str] | None, typer.Argument(help="Documents by identity (default: all followed).")
    ] = None,
    integration: IntegrationOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Run a document mapping's status pass: events, posts and write-backs after transfer."""
    finish_runs([documents.status(hub(), mapping, names or [], integration=integration)], json_out)


@documents_app.command("run")
@guarded
def run(
    mapping: Annotated[str, typer.Argument(help="Document mapping, e.g. 'SALES ORDER'.")],
    names: Annotated[
        list[str] | None, typer.Argument(help="Documents by identity (default: triggered ones).")
    ] = None,
    every: Annotated[
        bool,
        typer.Option("--all", help="Take every triggered document, also when not automatic."),
    ] = False,
    integration: IntegrationOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Run a document mapping: stopped transfers resume, then the named or triggered ones;
    then its status pass over what it transferred (write-backs after a pass, posts)."""
    automatic = True if every else None
    finish_runs(
        documents.run_and_follow(
            hub(), mapping, names or [], integration=integration, automatic=automatic
        ),
        json_out,
    )


@documents_app.command("set")
@guarded
def set_value(
    mapping: Annotated[str, typer.Argument(help="Document mapping, e.g. 'SALES ORDER'.")],
    name: Annotated[str, typer.Argument(help="Setting, e.g. write_in_item.")],
    value: Annotated[str, typer.Argument(help="Its value (true/false for a switch).")],
    integration: IntegrationOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Give a document mapping's setting a value (the write-in item, automatic pick-up)."""
    typed: Any = {"true": True, "false": False}.get(value.lower(), value)
    now = documents.set_setting(hub(), mapping, name, typed, integration=integration)
    if json_out:
        print_json({"mapping": mapping, "settings": now})
    else:
        console.print(f"{mapping}: {name} = {typed!r}", highlight=False)


@documents_app.command("history")
@guarded
def history(
    mapping: Annotated[str, typer.Argument(help="Document mapping, e.g. 'SALES ORDER'.")],
    key: Annotated[str, typer.Argument(help="The document's identity (order Name) or an id.")],
    integration: IntegrationOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """A document's history: each step, with its time, where and why."""
    found = documents.history(hub(), mapping, key, integration=integration)
    if json_out:
        print_json({"mapping": mapping, "key": key, "documents": [asdict(d) for d in found]})
        raise typer.Exit(EXIT_OK if found else EXIT_RECORDS)
    if not found:
        err_console.print(f"no document {key!r} in {mapping}")
        raise typer.Exit(EXIT_RECORDS)
    for doc in found:
        ids = ", ".join(f"{role} {rid or '-'}" for role, rid in doc.records.items())
        console.print(f"{key}: {doc.state}{' (held)' if doc.held else ''}; {ids}")
        for e in doc.events:
            where = f" [{e.role}]" if e.role else ""
            why = f": {e.reason}" if e.reason else ""
            console.print(
                f"  {e.occurred_at:%Y-%m-%d %H:%M:%S} {e.name}{where}{why}", highlight=False
            )


@documents_app.command("events")
@guarded
def events(
    mapping: Annotated[
        str | None, typer.Argument(help="Document mapping (default: every one).")
    ] = None,
    after: Annotated[
        int, typer.Option("--after", help="Only events after this id (a listener's cursor).")
    ] = 0,
    name: Annotated[
        str | None, typer.Option("--name", help="Only this event, e.g. order.shipped.")
    ] = None,
    integration: IntegrationOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Business events the documents raised (order.shipped, invoice.paid), oldest first."""
    found = documents.business_events(
        hub(), mapping, after=after, name=name, integration=integration
    )
    if json_out:
        print_json({"events": [asdict(e) for e in found]})
        return
    for e in found:
        values = ", ".join(f"{k}={v}" for k, v in e.values.items())
        console.print(
            f"{e.id} {e.occurred_at:%Y-%m-%d %H:%M:%S} {e.event} {e.mapping} {e.identity}"
            + (f" ({values})" if values else ""),
            highlight=False,
        )


quotes_app = typer.Typer(help="Sales quotes from the CRM to the ERP.", no_args_is_help=True)


@quotes_app.command("create-in-erp")
@guarded
def quotes_create_in_erp(
    names: Annotated[list[str], typer.Argument(help="Quote names (the CRM's quote Name).")],
    mapping: DocMappingOpt = None,
    integration: IntegrationOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Take the named quotes now (Microsoft: Process in Business Central).

    An Active quote becomes an ERP quote (a new revision archives and rebuilds it); a won
    quote whose CRM order exists becomes the ERP order, coupled to that order."""
    h = hub()
    name = mapping or documents.default_mapping(h, "quotes", integration)
    finish_runs([documents.run(h, name, names, integration=integration)], json_out)


@quotes_app.command("history")
@guarded
def quotes_history(
    name: Annotated[str, typer.Argument(help="The quote's Name (or an id).")],
    mapping: DocMappingOpt = None,
    integration: IntegrationOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The archived versions of a quote in the ERP (one per earlier revision)."""
    h = hub()
    chosen = mapping or documents.default_mapping(h, "quotes", integration)
    found = document_archives.archived_versions(h, chosen, name, integration=integration)
    code = EXIT_OK if found.documents else EXIT_RECORDS
    if json_out:
        print_json({"exit_code": code, **asdict(found)})
        raise typer.Exit(code)
    if not found.documents:
        err_console.print(f"no quote {name!r} in {chosen}")
        raise typer.Exit(code)
    if not found.versions:
        console.print(f"{name}: no archived version")
    for v in found.versions:
        shown = ", ".join(f"{k} {v[k]}" for k in sorted(v) if k not in ("id",) and v[k] is not None)
        console.print(f"{name}: {shown}", highlight=False)
    raise typer.Exit(code)
