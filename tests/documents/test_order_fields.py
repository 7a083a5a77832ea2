"""Order and quote header fields Microsoft's intake sets (reference §1.16), end to end over
the sandboxes: Your Reference = the order (quote) number and Work Description = the
description on the custom API group's page over the Sales Header, the order discount as
BC's invoice discount once the lines are there, line discounts, and freight as a charge
line (a G/L account line or an item charge line, as the settings say)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx

from tests.documents.conftest import MAPPING, Intake
from tests.documents.test_order_status import operate
from tests.documents.test_quotes import bc_quote_lines, bc_quotes, dv_http, make_quote, ok, take

__all__ = ["dv_http"]  # the module-scoped Dataverse client fixture of test_quotes


def _page(intake: Intake, page: str, document_id: str) -> dict[str, Any]:
    """The custom API group's ``page`` row of a BC document, read over HTTP."""
    with intake.world.hub.context() as ctx:
        [row] = ctx.connector("erp").get(page, [document_id])
    return dict(row.values)


def test_order_header_fields_discounts_and_freight(intake: Intake) -> None:
    product = intake.products()[0]
    text = ("Deliver to the loading dock at the back.\n" + "x" * 2000)[:2000]
    order = intake.submit(
        "SO-FIELDS",
        [{"_productid_value": product["productid"], "manualdiscountamount": Decimal("1.25")}],
    )
    intake.dv.update_raw(
        "salesorders",
        order,
        {
            "ordernumber": "ORD-7001",
            "description": text,
            "discountamount": Decimal("2.50"),
            "totaldiscountamount": Decimal("2.50"),
            "freightamount": Decimal("12.35"),
        },
    )
    assert intake.cli("documents", "set", MAPPING, "freight_number", "").code == 0
    held = intake.cli("orders", "create-in-erp", "SO-FIELDS", "--json")
    assert held.code == 1, held.output
    [doc] = json.loads(held.stdout)["runs"][0]["documents"]
    assert doc["status"] == "held"
    assert "SO-FIELDS" in doc["messages"][0] and "freight_number" in doc["messages"][0]
    assert not intake.bc_orders("SO-FIELDS")  # held before the first write

    assert intake.cli("documents", "set", MAPPING, "freight_number", "6100").code == 0
    retried = intake.cli("retry", "--json")
    statuses = {
        d["identity"]: d["status"]
        for r in json.loads(retried.stdout)["runs"]
        for d in r["documents"]
    }
    assert statuses.get("SO-FIELDS") == "completed", retried.output
    [made] = intake.bc_orders("SO-FIELDS")
    assert made["discountAmount"] == Decimal("2.50")
    item, freight = intake.bc_lines("SO-FIELDS")
    assert (item["lineObjectNumber"], item["discountAmount"]) == (
        product["item_number"],
        Decimal("1.25"),
    )
    assert item["amountExcludingTax"] == Decimal("8.75")
    assert (freight["lineType"], freight["lineObjectNumber"], freight["description"]) == (
        "Account",
        "6100",
        "Freight",
    )
    assert (freight["quantity"], freight["unitPrice"]) == (Decimal(1), Decimal("12.35"))
    texts = _page(intake, "salesOrderOperations", made["id"])
    assert texts["yourReference"] == "ORD-7001"
    assert texts["workDescription"] == text  # a Blob: all 2,000 characters

    # submitted again in Sales with other freight: the order's lines (its freight line
    # among them) are brought to the BC order in place, nothing is made twice, and it is
    # marked again (tests/documents/test_resubmit.py has lines added, changed and removed)
    intake.dv.update_raw(
        "salesorders", order, {"freightamount": Decimal("20.00"), "lastbackofficesubmit": None}
    )
    again = intake.cli("orders", "create-in-erp", "SO-FIELDS", "--json")
    assert again.code == 0, again.output
    assert len(intake.bc_orders("SO-FIELDS")) == 1
    still, charged = intake.bc_lines("SO-FIELDS")
    assert still == item and charged["id"] == freight["id"]
    assert charged["unitPrice"] == Decimal("20.00")
    assert intake.sales_order(order)["lastbackofficesubmit"]


def test_freight_as_an_item_charge_line(intake: Intake) -> None:
    product = intake.products()[1]
    order = intake.submit("SO-CHARGE", [{"_productid_value": product["productid"]}])
    intake.dv.update_raw("salesorders", order, {"freightamount": Decimal("7.10")})
    for name, value in (("freight_line_type", "Charge"), ("freight_number", "P-FREIGHT")):
        assert intake.cli("documents", "set", MAPPING, name, value).code == 0
    try:
        ran = intake.cli("orders", "create-in-erp", "SO-CHARGE")
        assert ran.code == 0, ran.output
    finally:
        assert intake.cli("documents", "set", MAPPING, "freight_line_type", "Account").code == 0
    _, charge = intake.bc_lines("SO-CHARGE")
    assert (charge["lineType"], charge["lineObjectNumber"], charge["unitPrice"]) == (
        "Charge",
        "P-FREIGHT",
        Decimal("7.10"),
    )


def test_an_order_without_freight_or_texts_gets_no_charge_line(intake: Intake) -> None:
    product = intake.products()[0]
    intake.submit("SO-PLAIN", [{"_productid_value": product["productid"]}])
    assert intake.cli("orders", "create-in-erp", "SO-PLAIN").code == 0
    [line] = intake.bc_lines("SO-PLAIN")
    assert line["lineType"] == "Item"
    [made] = intake.bc_orders("SO-PLAIN")
    assert _page(intake, "salesOrderOperations", made["id"])["workDescription"] == ""


def test_quote_header_fields(intake: Intake, dv_http: httpx.Client) -> None:
    quote = make_quote(intake, dv_http, "QU-FIELDS", "2027-04-30", 1)
    [line] = [d for d in intake.dv.all("quotedetails") if d["_quoteid_value"] == quote]
    intake.dv.update_raw("quotedetails", line["quotedetailid"], {"manualdiscountamount": 1})
    intake.dv.update_raw(
        "quotes",
        quote,
        {"description": "Spring offer", "totaldiscountamount": Decimal("0.50")},
    )
    assert take(intake, "QU-FIELDS")[0]["status"] == "created"
    [made] = bc_quotes(intake, "QU-FIELDS")
    assert made["discountAmount"] == Decimal("0.50")
    [bc_line] = bc_quote_lines(intake, made["id"])
    assert bc_line["discountAmount"] == Decimal(1)
    texts = _page(intake, "salesQuoteOperations", made["id"])
    number = ok(dv_http.get(f"quotes({quote})?$select=quotenumber"))["quotenumber"]
    assert (texts["yourReference"], texts["workDescription"]) == (number, "Spring offer")


def test_requests_per_order_with_its_header_fields(intake: Intake) -> None:
    """An order as Sales makes it (a number, a description, a discount) costs two Business
    Central requests more than a bare one (docs/benchmarks.md): the discount, the texts; the
    header and lines go in one deep insert."""
    product = intake.products()[0]
    order = intake.submit("SO-FIELDS-COUNTED", [{"_productid_value": product["productid"]}] * 5)
    intake.dv.update_raw(
        "salesorders",
        order,
        {"ordernumber": "ORD-7002", "description": "Counted", "totaldiscountamount": 1},
    )
    for handle in (intake.world.bc, intake.world.dv):
        handle.faults.reset_stats()
    assert intake.cli("orders", "create-in-erp", "SO-FIELDS-COUNTED").code == 0
    counted = {
        system: sum(
            n
            for route, n in handle.faults.stats()["by_route"].items()
            if "oauth2" not in route and "openid" not in route and not route.endswith("companies")
        )
        for system, handle in (("erp", intake.world.bc), ("crm", intake.world.dv))
    }
    assert counted == {"erp": 4, "crm": 4}


def test_a_resubmitted_order_is_marked_again_without_touching_its_released_bc_order(
    intake: Intake,
) -> None:
    """Submitted again in Sales (its mark cleared) after BC released the order: only the mark
    is written again; the BC write-backs (discount, texts) are not repeated, which a released
    order would refuse."""
    product = intake.products()[0]
    order = intake.submit("SO-FIELDS-AGAIN", [{"_productid_value": product["productid"]}])
    intake.dv.update_raw(
        "salesorders",
        order,
        {"ordernumber": "ORD-7003", "discountamount": 1, "totaldiscountamount": 1},
    )
    assert intake.cli("orders", "create-in-erp", "SO-FIELDS-AGAIN").code == 0
    [made] = intake.bc_orders("SO-FIELDS-AGAIN")
    operate(intake, made["id"], "release")
    intake.dv.update_raw("salesorders", order, {"lastbackofficesubmit": None})
    ran = intake.cli("orders", "create-in-erp", "SO-FIELDS-AGAIN", "--json")
    assert ran.code == 0, ran.output
    [doc] = json.loads(ran.stdout)["runs"][0]["documents"]
    assert (doc["status"], doc["target_id"]) == ("already", made["id"]), doc
    assert intake.sales_order(order)["lastbackofficesubmit"]
    [still] = intake.bc_orders("SO-FIELDS-AGAIN")
    assert (still["id"], still["discountAmount"]) == (made["id"], Decimal(1))
