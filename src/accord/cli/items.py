"""``accord items availability ITEM``: an item's availability to its Sales product now."""

from __future__ import annotations

from typing import Annotated

import typer

from accord.cli import jsonout, outcome
from accord.cli.common import console, guarded, hub, print_json
from accord.cli.root import IntegrationOpt, JsonOpt
from accord.services.availability import MAPPING, item_availability

items_app = typer.Typer(help="Items: availability on demand.", no_args_is_help=True)
_SHOWN = ("inventory", "quantityOnSalesOrders", "availableQuantity")


@items_app.command()
@guarded
def availability(
    item: Annotated[str, typer.Argument(help="The item's number (or its record id).")],
    integration: IntegrationOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Synchronize one item's availability (inventory less open sales orders) to its Sales
    product now, and print it.

    Exit 0 done, 1 the record failed, 2 the pass or the command failed (ADR 0009)."""
    found = item_availability(hub(), item, integration=integration)
    code = outcome.pass_code(found.result)
    if json_out:
        print_json(
            {
                "kind": "item-availability",
                "exit_code": code,
                "item": found.values.get("itemNumber", item),
                **{name: found.values.get(name) for name in _SHOWN},
                "product_id": found.product_id,
                "pass": jsonout.pass_json(found.result),
            }
        )
    else:
        values = found.values
        console.print(
            f"{values.get('itemNumber', item)}: inventory {values.get('inventory')}, on sales "
            f"orders {values.get('quantityOnSalesOrders')}, available "
            f"{values.get('availableQuantity')}"
            + (
                f" -> product {found.product_id}"
                if found.product_id and code == 0
                else f" (not written: {MAPPING} {found.result.status})"
            ),
            highlight=False,
            soft_wrap=True,
        )
    outcome.report_passes([found.result])
    raise typer.Exit(code)
