"""An order submitted again after a change in Sales (reopened, changed, submitted: Microsoft's
way to change a taken order): its lines reach the BC order by line key, and what BC or the
mapping refuses holds the order, naming the line and the fix, with nothing else written."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

from accord.state.couplings import record_id
from tests.documents.conftest import Intake
from tests.documents.test_order_status import operate


def resubmit(intake: Intake, name: str) -> dict[str, Any]:
    ran = intake.cli("orders", "create-in-erp", name, "--json")
    [doc] = json.loads(ran.stdout)["runs"][0]["documents"]
    return dict(doc) | {"code": ran.code}


def sales_lines(intake: Intake, order: str) -> list[dict[str, Any]]:
    rows = [r for r in intake.dv.all("salesorderdetails") if r["_salesorderid_value"] == order]
    return sorted(rows, key=lambda r: r["sequencenumber"])


def test_lines_changed_and_added_in_sales_reach_the_bc_order_when_submitted_again(
    intake: Intake,
) -> None:
    first, second = intake.products()[:2]
    order = intake.submit("SO-AGAIN-LINES", [{"_productid_value": first["productid"]}])
    assert intake.cli("orders", "create-in-erp", "SO-AGAIN-LINES").code == 0
    [bc_order] = intake.bc_orders("SO-AGAIN-LINES")
    [line] = sales_lines(intake, order)
    intake.dv.update_raw("salesorderdetails", line["salesorderdetailid"], {"quantity": 4})
    intake.dv.insert(
        "salesorderdetails",
        {
            "salesorderdetailid": str(uuid.uuid4()),
            "_salesorderid_value": order,
            "sequencenumber": 2,
            "isproductoverridden": False,
            "_productid_value": second["productid"],
            "quantity": Decimal(2),
            "priceperunit": Decimal(10),
        },
    )
    intake.dv.update_raw("salesorders", order, {"lastbackofficesubmit": None})
    doc = resubmit(intake, "SO-AGAIN-LINES")
    assert (doc["code"], doc["status"], doc["target_id"]) == (0, "already", bc_order["id"]), doc
    lines = intake.bc_lines("SO-AGAIN-LINES")
    assert [(r["lineObjectNumber"], r["quantity"]) for r in lines] == [
        (first["item_number"], 4),
        (second["item_number"], 2),
    ]
    assert intake.sales_order(order)["lastbackofficesubmit"]  # marked again
    assert [o["id"] for o in intake.bc_orders("SO-AGAIN-LINES")] == [bc_order["id"]]


def test_a_line_removed_in_sales_after_bc_shipped_holds_the_order_naming_it(
    intake: Intake,
) -> None:
    first, second = intake.products()[:2]
    order = intake.submit(
        "SO-AGAIN-SHIPPED",
        [{"_productid_value": first["productid"]}, {"_productid_value": second["productid"]}],
    )
    assert intake.cli("orders", "create-in-erp", "SO-AGAIN-SHIPPED").code == 0
    [bc_order] = intake.bc_orders("SO-AGAIN-SHIPPED")
    operate(intake, bc_order["id"], "release")
    operate(intake, bc_order["id"], "ship")
    before = intake.bc_lines("SO-AGAIN-SHIPPED")
    removed = sales_lines(intake, order)[1]
    intake.dv.delete("salesorderdetails", removed["salesorderdetailid"])
    intake.dv.update_raw("salesorders", order, {"lastbackofficesubmit": None})
    doc = resubmit(intake, "SO-AGAIN-SHIPPED")
    assert (doc["code"], doc["status"]) == (1, "held"), doc
    message = " ".join(doc["messages"])
    assert "SO-AGAIN-SHIPPED" in message and removed["salesorderdetailid"] in message
    assert f"position {before[1]['sequence']}" in message and "put the line back" in message
    assert intake.bc_lines("SO-AGAIN-SHIPPED") == before  # nothing written
    assert not intake.sales_order(order)["lastbackofficesubmit"]  # not marked as taken


def test_a_line_unit_goes_through_item_uom_and_an_uncoupled_one_holds_the_order(
    intake: Intake,
) -> None:
    product = intake.products()[0]
    pairs = {
        str(record_id(c, "crm")): str(record_id(c, "erp"))
        for c in intake.world.couplings("ITEM UOM")
        if c.state == "coupled"
    }
    units = {r["id"]: r for r in intake.bc.all("itemUnitsOfMeasure")}
    mine = [
        (crm, units[erp])
        for crm, erp in pairs.items()
        if erp in units and units[erp]["itemNumber"] == product["item_number"]
    ]  # a unit other than the base one where the item has one (BC's default otherwise)
    uom, unit = max(mine, key=lambda pair: pair[1]["quantityPerUnitOfMeasure"] != 1)
    intake.submit("SO-UNIT", [{"_productid_value": product["productid"], "_uomid_value": uom}])
    assert intake.cli("orders", "create-in-erp", "SO-UNIT").code == 0
    [line] = intake.bc_lines("SO-UNIT")
    assert line["unitOfMeasureCode"] == unit["unitOfMeasureCode"]

    stray = intake.dv.insert("uoms", {"uomid": str(uuid.uuid4()), "name": "CRATE"})["uomid"]
    intake.submit(
        "SO-UNIT-STRAY", [{"_productid_value": product["productid"], "_uomid_value": stray}]
    )
    ran = intake.cli("orders", "create-in-erp", "SO-UNIT-STRAY", "--json")
    [doc] = json.loads(ran.stdout)["runs"][0]["documents"]
    assert (ran.code, doc["status"]) == (1, "held"), doc
    message = " ".join(doc["messages"])
    assert "SO-UNIT-STRAY" in message and "_uomid_value" in message and stray in message
    assert intake.bc_orders("SO-UNIT-STRAY") == []  # nothing half-written
