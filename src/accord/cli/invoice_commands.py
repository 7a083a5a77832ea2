"""Posted invoices and credit memos, ERP -> CRM: ``accord invoices sync [NUMBER...]``.

Exit codes (ADR 0009): 0 every document went through (or was transferred before); 1 a
document was held, stopped or not found; 2 the command failed."""

from __future__ import annotations

from typing import Annotated

import typer

from accord.cli.common import guarded, hub
from accord.cli.documents_commands import DocMappingOpt, finish_runs
from accord.cli.root import IntegrationOpt, JsonOpt
from accord.services import documents

invoices_app = typer.Typer(
    help="Posted invoices and credit memos from the ERP to the CRM.", no_args_is_help=True
)


@invoices_app.command("sync")
@guarded
def sync(
    numbers: Annotated[
        list[str] | None,
        typer.Argument(help="Posted invoice (or credit memo) numbers (default: every one)."),
    ] = None,
    credit_memos: Annotated[
        bool, typer.Option("--credit-memos", help="The numbers are credit memos.")
    ] = False,
    mapping: DocMappingOpt = None,
    integration: IntegrationOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Transfer posted invoices to the CRM now (Microsoft: Create Invoice in Sales).

    A document transferred before is not made again; one paid in full (or canceled) since
    is set Paid (Canceled) in the CRM by the status pass that follows the transfer. Without
    NUMBER: every posted invoice and credit memo."""
    h = hub()
    entities = ["salesCreditMemos"] if credit_memos else ["salesInvoices"]
    if not numbers and not credit_memos:
        entities.append("salesCreditMemos")
    names = (
        [mapping] if mapping else [documents.default_mapping(h, e, integration) for e in entities]
    )
    runs = [
        run
        for name in names
        for run in documents.run_and_follow(
            h, name, numbers or [], integration=integration, automatic=True
        )
    ]
    finish_runs(runs, json_out)
