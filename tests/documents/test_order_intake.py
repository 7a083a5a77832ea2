"""Order intake, Dynamics 365 Sales -> Business Central, end to end over the sandboxes:
a Submitted order becomes one BC order with its lines, and its pick-up is marked on the
Sales order; asked twice, submitted twice or resumed, it is never made twice."""

from __future__ import annotations

import json
from decimal import Decimal

from tests.documents.conftest import MAPPING, Intake


def test_an_order_is_created_once_with_its_lines_and_marked(intake: Intake) -> None:
    first, second = intake.products()[:2]
    order = intake.submit(
        "SO-ONCE",
        [
            {"_productid_value": first["productid"], "quantity": Decimal("2.5")},
            {"_productid_value": second["productid"], "priceperunit": Decimal("7.25")},
        ],
    )
    ran = intake.cli("orders", "create-in-erp", "SO-ONCE", "--json")
    assert ran.code == 0, ran.output
    [doc] = json.loads(ran.stdout)["runs"][0]["documents"]
    assert doc["status"] == "created"
    [made] = intake.bc_orders("SO-ONCE")
    assert made["customerId"] in intake.coupled("CUSTOMER", "erp")
    lines = intake.bc_lines("SO-ONCE")
    assert [(r["lineObjectNumber"], r["quantity"]) for r in lines] == [
        (first["item_number"], Decimal("2.5")),
        (second["item_number"], Decimal(1)),
    ]
    assert lines[1]["unitPrice"] == Decimal("7.25")
    sales = intake.sales_order(order)
    assert (sales["statecode"], sales["statuscode"]) == (1, 3)
    assert sales["lastbackofficesubmit"]

    again = intake.cli("orders", "create-in-erp", "SO-ONCE", "--json")
    assert again.code == 0, again.output
    assert json.loads(again.stdout)["runs"][0]["documents"][0]["status"] == "already"
    # submitted again in Sales (its mark cleared): taken by the automatic run, not made twice
    intake.dv.update_raw("salesorders", order, {"lastbackofficesubmit": None})
    auto = intake.cli("documents", "run", MAPPING, "--all", "--json")
    assert auto.code == 0, auto.output
    assert len(intake.bc_orders("SO-ONCE")) == 1
    assert len(intake.bc_lines("SO-ONCE")) == 2
    assert intake.sales_order(order)["lastbackofficesubmit"]
