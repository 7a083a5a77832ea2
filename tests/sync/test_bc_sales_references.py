"""End to end: what bc-sales carries through the custom API group's customer and item pages
and the price-list line's unit, with Microsoft's directions (docs/adr/0012): a customer's
shipping agent and primary contact both ways, a product's default unit both ways, and a
price-list line's unit to Sales. A primary contact not coupled yet keeps the value it has."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from accord.services import operations, status
from tests.worlds import World, WorldFactory


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """What crosses is the template's and the sandboxes' behaviour: one state database (the
    engine's waiting fields run on both in tests/sync/test_waiting_lookups.py)."""
    return f"sqlite:///{tmp_path / 'state.db'}"


def pairs(world: World, mapping: str) -> dict[str, str]:
    """erp id -> crm id of the mapping's coupled pairs."""
    return {str(a): str(b) for a, b in world.coupled_pairs(mapping) if a and b}


def crm_to_erp(world: World, mapping: str) -> dict[str, str]:
    return {b: a for a, b in pairs(world, mapping).items()}


def numbers(world: World) -> dict[str, str]:
    """BC contact number -> Dataverse contact id of the coupled contacts."""
    bc = world.bc.store
    return {bc.get("contacts", a)["number"]: b for a, b in pairs(world, "CONTACT").items()}


def test_shipping_agent_and_primary_contact_cross_both_ways(make_world: WorldFactory) -> None:
    world = make_world(records=30, template="bc-sales")
    bc, dv = world.bc.store, world.dv.store
    seeded = {a["accountid"] for a in dv.all("accounts")}
    operations.sync_full(world.hub, create_new=True)
    operations.sync_incremental(world.hub)  # primary contacts wait for CONTACT's couplings

    agents = {a["code"]: a["id"] for a in bc.all("shippingAgents")}
    options = pairs(world, "SHIPPING AGENT")  # shipping agent id -> carrier option
    accounts = pairs(world, "CUSTOMER")
    contacts = numbers(world)
    with_agent = with_contact = 0
    for customer_id, account_id in accounts.items():
        if account_id in seeded:
            continue  # matched: a value differing on the two sides is held as a conflict
        customer, account = bc.get("customers", customer_id), dv.get("accounts", account_id)
        if customer["shippingAgentCode"]:
            option = options[agents[customer["shippingAgentCode"]]]
            assert str(account["address1_shippingmethodcode"]) == option
            with_agent += 1
        if customer["primaryContactNumber"] in contacts:
            assert account["_primarycontactid_value"] == contacts[customer["primaryContactNumber"]]
            with_contact += 1
    assert with_agent and with_contact
    assert not status.recent_errors(world.hub, mapping="CUSTOMER")

    # Sales changes the carrier and the primary contact: both reach Business Central
    customer_id, account_id = next(
        (c, a) for c, a in accounts.items() if bc.get("customers", c)["primaryContactNumber"]
    )
    customer = bc.get("customers", customer_id)
    other_agent = next(code for code in agents if code != customer["shippingAgentCode"])
    other_contact = next(n for n in contacts if n != customer["primaryContactNumber"])
    dv.update(
        "accounts",
        account_id,
        {
            "address1_shippingmethodcode": int(options[agents[other_agent]]),
            "_primarycontactid_value": contacts[other_contact],
        },
    )
    operations.sync_incremental(world.hub)
    customer = bc.get("customers", customer_id)
    assert (customer["shippingAgentCode"], customer["primaryContactNumber"]) == (
        other_agent,
        other_contact,
    )

    # Business Central names a contact Sales does not have yet: the account keeps its primary
    # contact (no blank), the customer does not fail, and it follows once the contact couples
    newcomer = bc.insert(
        "contacts", {"number": "CT900000", "displayName": "Nora Newcomer", "type": "Person"}
    )
    bc.update("customers", customer_id, {"primaryContactNumber": newcomer["number"]})
    operations.sync_incremental(world.hub)
    assert dv.get("accounts", account_id)["_primarycontactid_value"] == contacts[other_contact]
    assert not status.recent_errors(world.hub, mapping="CUSTOMER")
    bc.update(
        "contacts",
        newcomer["id"],
        {
            "companyNumber": customer_company(bc, customer["number"]),
            "customerNumber": customer["number"],
            "email": "nora.newcomer@example.com",
        },
    )
    operations.sync_incremental(world.hub)  # CONTACT creates her in Sales (after CUSTOMER)
    operations.sync_incremental(world.hub)  # the waiting customer follows
    assert dv.get("accounts", account_id)["_primarycontactid_value"] == numbers(world).get(
        newcomer["number"]
    )


def customer_company(bc: Any, number: str) -> str:
    """The company contact related to customer ``number``."""
    return str(
        next(
            c["number"]
            for c in bc.all("contacts")
            if c["type"] == "Company" and c["customerNumber"] == number
        )
    )


def test_products_and_price_lines_get_their_units(make_world: WorldFactory) -> None:
    world = make_world(records=30, template="bc-sales")
    bc, dv = world.bc.store, world.dv.store
    seeded = {i["id"] for i in bc.all("items")}
    operations.sync_full(world.hub, create_new=True)

    uoms = pairs(world, "ITEM UOM")  # item unit of measure id -> uom id
    products = pairs(world, "ITEM-PRODUCT")
    checked = 0
    for item_id, product_id in products.items():
        if item_id not in seeded:
            continue  # created from a Sales product: its units follow on later passes
        item, product = bc.get("integrationItems", item_id), dv.get("products", product_id)
        uom = dv.get("uoms", product["_defaultuomid_value"])
        assert product["_defaultuomid_value"] == uoms[item["baseItemUnitOfMeasureId"]]
        assert uom["name"] == item["baseUnitOfMeasureCode"]
        assert uom["_uomscheduleid_value"] == product["_defaultuomscheduleid_value"]
        checked += 1
    assert checked

    lines = pairs(world, "PRICE LIST LINE")
    assert lines
    for line_id, price_id in lines.items():
        line, price = bc.get("priceListLines", line_id), dv.get("productpricelevels", price_id)
        assert price["_uomid_value"] == uoms[line["itemUnitOfMeasureId"]]
        assert dv.get("uoms", price["_uomid_value"])["name"] == (
            line["unitOfMeasureCode"]
            or bc.get("items", products_item(bc, line))["baseUnitOfMeasureCode"]
        )

    # Sales sells an item by the box from now on: its base unit follows in Business Central
    boxes = {
        u["itemNumber"]: u["id"]
        for u in bc.all("itemUnitsOfMeasure")
        if u["unitOfMeasureCode"] == "BOX" and u["id"] in uoms
    }
    item_id = next(
        i
        for i in products
        if bc.get("items", i)["number"] in boxes
        and bc.get("items", i)["baseUnitOfMeasureCode"] != "BOX"
    )
    number = bc.get("items", item_id)["number"]
    dv.update("products", products[item_id], {"_defaultuomid_value": uoms[boxes[number]]})
    operations.sync_incremental(world.hub)
    item = bc.get("integrationItems", item_id)
    assert (item["baseUnitOfMeasureCode"], item["baseItemUnitOfMeasureId"]) == (
        "BOX",
        boxes[number],
    )
    assert (
        crm_to_erp(world, "ITEM UOM")[dv.get("products", products[item_id])["_defaultuomid_value"]]
        == boxes[number]
    )


def products_item(bc: Any, line: dict[str, Any]) -> str:
    """The id of a price-list line's item."""
    return str(next(i["id"] for i in bc.all("items") if i["number"] == line["assetNo"]))
