"""End to end: item availability (inventory less open sales orders) from Business Central's
custom API reaches the Sales product's quantityonhand with the bc-sales template, changes after
an order is created, on demand (``accord items availability ITEM``) and on the scheduled pass."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from accord.connectors.base import WriteOp
from accord.services import operations
from accord.state.couplings import record_id
from tests.cli.helpers import on
from tests.worlds import World, WorldFactory

PRODUCTS = ["UNIT GROUP", "ITEM UOM", "ITEM-PRODUCT", "ITEM AVAILABILITY"]
"""What the test needs synchronized (the other mappings' own tests cover them)."""


def product_of(world: World, number: str) -> dict[str, Any]:
    found = [p for p in world.dv.store.all("products") if p["productnumber"] == number]
    assert len(found) == 1, found
    return found[0]


def place_order(world: World, item: dict[str, Any], quantity: int) -> None:
    customer = next(c for c in world.bc.store.all("customers") if c["blocked"] == " ")
    with world.context() as ctx:
        [made] = ctx.connector("erp").write(
            "salesOrders",
            [WriteOp("create", "o", {"customerId": customer["id"]})],
        )
        assert made.ok, made.error
        [line] = ctx.connector("erp").write(
            "salesOrderLines",
            [
                WriteOp(
                    "create",
                    "l",
                    {"documentId": made.id, "itemId": item["id"], "quantity": quantity},
                )
            ],
        )
        assert line.ok, line.error


def test_availability_reaches_the_product_and_follows_orders(make_world: WorldFactory) -> None:
    world = make_world(records=8, template="bc-sales")
    runs = operations.sync_full(world.hub, PRODUCTS, create_new=True)
    assert all(r.status == "success" for r in runs), [(r.mapping, r.message) for r in runs]
    company = world.bc.company_id
    item = next(
        i for i in world.bc.store.all("items", company) if not i["blocked"] and i["inventory"]
    )
    start = product_of(world, item["number"])
    row = next(
        r for r in world.bc.store.all("itemAvailabilities", company) if r["id"] == item["id"]
    )
    assert Decimal(str(start["quantityonhand"])) == Decimal(str(row["availableQuantity"]))

    place_order(world, item, 3)
    ran = on(world, "items", "availability", item["number"], "--json")
    assert ran.code == 0, ran.output
    shown = json.loads(ran.stdout)
    assert shown["item"] == item["number"] and shown["product_id"] == start["productid"]
    assert Decimal(str(shown["availableQuantity"])) == Decimal(str(row["availableQuantity"])) - 3
    assert Decimal(str(shown["quantityOnSalesOrders"])) == (
        Decimal(str(row["quantityOnSalesOrders"])) + 3
    )
    assert shown["pass"]["mapping"] == "ITEM AVAILABILITY"
    now = product_of(world, item["number"])
    assert Decimal(str(now["quantityonhand"])) == Decimal(str(shown["availableQuantity"]))
    assert now["name"] == start["name"]  # only the quantity moved

    place_order(world, item, 2)  # the scheduled (incremental) pass carries the next change
    world.bc.clock.advance(1)
    results = operations.sync_incremental(world.hub, ["ITEM AVAILABILITY"])
    assert [r.status for r in results] == ["success"], results
    later = product_of(world, item["number"])
    assert Decimal(str(later["quantityonhand"])) == Decimal(str(shown["availableQuantity"])) - 2

    text = on(world, "items", "availability", item["number"])
    assert text.code == 0 and f"-> product {start['productid']}" in text.stdout
    unknown = on(world, "items", "availability", "NO-SUCH-ITEM")
    assert unknown.code == 2 and "names no item" in unknown.stderr
    blocked = next(i for i in world.bc.store.all("items", company) if i["blocked"])
    refused = on(world, "items", "availability", blocked["number"])
    assert refused.code == 2 and "has no Sales product yet" in refused.stderr


def test_an_item_made_from_a_sales_product_gets_its_availability(
    make_world: WorldFactory,
) -> None:
    """ITEM AVAILABILITY reaches the product ITEM-PRODUCT coupled the item to, not a product
    of the item's number: an item made in BC from a Sales product has a number of its own."""
    world = make_world(records=8, template="bc-sales")
    company = world.bc.company_id
    seeded = {i["id"] for i in world.bc.store.all("items", company)}
    runs = operations.sync_full(world.hub, PRODUCTS, create_new=True)
    assert all(r.status == "success" for r in runs), [(r.mapping, r.message) for r in runs]
    pairs = {
        record_id(c, "erp"): record_id(c, "crm")
        for c in world.couplings("ITEM-PRODUCT")
        if c.state == "coupled"
    }
    made = [
        (item, pairs[item["id"]])
        for item in world.bc.store.all("items", company)
        if item["id"] not in seeded and item["id"] in pairs and not item["blocked"]
    ]
    assert made, "the sync made no item from a Sales product"
    item, product_id = made[0]
    assert world.dv.store.get("products", product_id)["productnumber"] != item["number"]

    place_order(world, item, 2)
    ran = on(world, "items", "availability", item["number"], "--json")
    assert ran.code == 0, ran.output
    shown = json.loads(ran.stdout)
    assert shown["product_id"] == product_id
    available = Decimal(str(shown["availableQuantity"]))
    assert available == Decimal(str(shown["inventory"])) - 2
    product = world.dv.store.get("products", product_id)
    assert Decimal(str(product["quantityonhand"])) == available

    place_order(world, item, 1)  # and on the scheduled pass
    world.bc.clock.advance(1)
    results = operations.sync_incremental(world.hub, ["ITEM AVAILABILITY"])
    assert [r.status for r in results] == ["success"], results
    product = world.dv.store.get("products", product_id)
    assert Decimal(str(product["quantityonhand"])) == available - 1
