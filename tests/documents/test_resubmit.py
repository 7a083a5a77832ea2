"""An order submitted again after a change in Sales (reopened, changed, submitted: Microsoft's
way to change a taken order): its lines reach the BC order by line key, and what BC or the
mapping refuses holds the order, naming the line and the fix, with nothing else written."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

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
