"""Business Central sales documents over loopback HTTPS: exactly the fields of the v2.0 pages,
headers with lines and totals, posted documents read-only, bound actions that post."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from accord.sandboxes import SandboxHandle
from accord.sandboxes.business_central.app import BusinessCentral

PAGES = {  # sandbox entity set -> entity of bc-v2.0-entities.derived.json
    "salesOrders": "salesorder",
    "salesOrderLines": "salesorderline",
    "salesQuotes": "salesquote",
    "salesQuoteLines": "salesquoteline",
    "salesShipments": "salesShipment",
    "salesShipmentLines": "salesShipmentLine",
    "salesInvoices": "salesinvoice",
    "salesInvoiceLines": "salesinvoiceline",
    "salesCreditMemos": "salescreditmemo",
    "salesCreditMemoLines": "salescreditmemoline",
    "customerPayments": "customerpayment",
    "customerPaymentJournals": "customerPaymentJournal",
}


def test_fields_are_exactly_those_of_the_resource_pages(
    bc: SandboxHandle, shared_dir: Path
) -> None:
    derived = json.loads(
        (shared_dir / "specs/business-central/bc-v2.0-entities.derived.json").read_text()
    )["entities"]
    for entity, page in PAGES.items():
        wanted = [p["name"] for p in derived[page]["properties"]]
        assert bc.store.specs[entity].names == wanted, entity


def url(bc: SandboxHandle, path: str) -> str:
    return f"companies({bc.company_id})/{path}"


def customer(bc: SandboxHandle, *, taxable: bool) -> dict[str, Any]:
    rows = [
        c for c in bc.store.all("customers") if c["taxLiable"] is taxable and c["blocked"] == " "
    ]
    return rows[0]


def items(bc: SandboxHandle, count: int) -> list[dict[str, Any]]:
    return [i for i in bc.store.all("items") if not i["blocked"]][:count]


def order(bc_http: httpx.Client, bc: SandboxHandle, ext: str, lines: list[dict[str, Any]]) -> Any:
    body = {
        "customerNumber": customer(bc, taxable=False)["number"],
        "externalDocumentNumber": ext,
        "salesOrderLines": lines,
    }
    resp = bc_http.post(url(bc, "salesOrders"), json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()


def lines_of(bc_http: httpx.Client, bc: SandboxHandle, header: str, doc: str) -> list[Any]:
    resp = bc_http.get(url(bc, f"{header}({doc})/{header[:-1]}Lines"))
    assert resp.status_code == 200, resp.text
    return list(resp.json()["value"])


def test_order_deep_insert_fills_customer_lines_and_totals(
    bc: SandboxHandle, bc_http: httpx.Client
) -> None:
    first, second = items(bc, 2)
    who = customer(bc, taxable=True)
    resp = bc_http.post(
        url(bc, "salesOrders"),
        json={
            "customerId": who["id"],
            "externalDocumentNumber": "ORD-DEEP-1",
            "salesOrderLines": [
                {"lineObjectNumber": first["number"], "quantity": 3, "unitPrice": 10.10},
                {"lineType": "Comment", "description": "Deliver to the back door"},
                {"itemId": second["id"], "quantity": 1},
            ],
        },
    )
    assert resp.status_code == 201, resp.text
    head = resp.json()
    assert head["number"].startswith("S-ORD") and head["status"] == "Draft"
    assert head["customerNumber"] == who["number"] and head["customerName"] == who["displayName"]
    assert head["sellToCity"] == who["city"] and head["fullyShipped"] is False
    lines = lines_of(bc_http, bc, "salesOrders", head["id"])
    assert [line["sequence"] for line in lines] == [10000, 20000, 30000]
    assert [line["lineType"] for line in lines] == ["Item", "Comment", "Item"]
    assert lines[0]["itemId"] == first["id"] and lines[0]["description"] == first["displayName"]
    assert lines[2]["lineObjectNumber"] == second["number"]
    assert Decimal(str(lines[2]["unitPrice"])) == Decimal(str(second["unitPrice"]))
    net = Decimal("30.30") + Decimal(str(second["unitPrice"]))
    tax = sum(Decimal(str(line["totalTaxAmount"])) for line in lines)
    assert tax == (Decimal("30.30") * 6 / 100).quantize(Decimal("0.01")) + (
        Decimal(str(second["unitPrice"])) * 6 / 100
    ).quantize(Decimal("0.01"))
    assert Decimal(str(head["totalAmountExcludingTax"])) == net
    assert Decimal(str(head["totalAmountIncludingTax"])) == net + tax
    assert lines[0]["shipQuantity"] == 3 and lines[0]["invoiceQuantity"] == 3


def test_a_bad_line_leaves_no_half_document(bc: SandboxHandle, bc_http: httpx.Client) -> None:
    before = bc.store.count("salesOrders")
    resp = bc_http.post(
        url(bc, "salesOrders"),
        json={
            "customerNumber": customer(bc, taxable=False)["number"],
            "salesOrderLines": [
                {"lineObjectNumber": items(bc, 1)[0]["number"], "quantity": 1},
                {"lineObjectNumber": "NO-SUCH-ITEM", "quantity": 1},
            ],
        },
    )
    assert resp.status_code == 400
    assert "The Item does not exist" in resp.json()["error"]["message"]
    assert "No.='NO-SUCH-ITEM'" in resp.json()["error"]["message"]
    assert bc.store.count("salesOrders") == before


def test_header_and_line_rules(bc: SandboxHandle, bc_http: httpx.Client) -> None:
    missing = bc_http.post(url(bc, "salesOrders"), json={"externalDocumentNumber": "X"})
    assert missing.status_code == 400
    assert "Sell-to Customer No. must have a value" in missing.json()["error"]["message"]
    head = order(bc_http, bc, "ORD-RULES", [])
    assert head["fullyShipped"] is False and Decimal(str(head["totalAmountIncludingTax"])) == 0
    long = bc_http.post(
        url(bc, "salesOrderLines"),
        json={"documentId": head["id"], "lineType": "Comment", "description": "x" * 101},
    )
    assert long.status_code == 400
    assert long.json()["error"]["code"] == "Application_StringExceededLength"
    line = bc_http.post(
        url(bc, "salesOrderLines"),
        json={
            "documentId": head["id"],
            "lineObjectNumber": items(bc, 1)[0]["number"],
            "quantity": 2,
            "unitPrice": 5,
        },
    ).json()
    changed = bc_http.patch(
        url(bc, f"salesOrderLines({line['id']})"),
        json={"quantity": 4},
        headers={"If-Match": line["@odata.etag"]},
    )
    assert changed.status_code == 200 and Decimal(str(changed.json()["amountExcludingTax"])) == 20
    total = bc_http.get(url(bc, f"salesOrders({head['id']})")).json()["totalAmountExcludingTax"]
    assert Decimal(str(total)) == 20
    unfiltered = bc_http.get(url(bc, "salesOrderLines"))
    assert unfiltered.status_code == 400
    assert "specify an Id or a Document Id" in unfiltered.json()["error"]["message"]
    filtered = bc_http.get(
        url(bc, "salesOrderLines"), params={"$filter": f"documentId eq {head['id']}"}
    )
    assert [row["id"] for row in filtered.json()["value"]] == [line["id"]]


def test_orders_list_page_and_filter(bc: SandboxHandle, bc_http: httpx.Client) -> None:
    for number in range(5):
        order(bc_http, bc, f"ORD-PAGE-{number}", [])
    seen: list[str] = []
    link: str | None = url(bc, "salesOrders")
    params: dict[str, str] | None = {"$filter": "startswith(externalDocumentNumber,'ORD-PAGE-')"}
    while link:
        body = bc_http.get(link, params=params, headers={"Prefer": "odata.maxpagesize=2"}).json()
        seen += [row["externalDocumentNumber"] for row in body["value"]]
        link, params = body.get("@odata.nextLink"), None
    assert sorted(seen) == [f"ORD-PAGE-{n}" for n in range(5)]


def ship_and_invoice(bc_http: httpx.Client, bc: SandboxHandle, doc: str) -> httpx.Response:
    return bc_http.post(url(bc, f"salesOrders({doc})/Microsoft.NAV.shipAndInvoice"))


def test_two_partial_shipments_then_the_order_is_gone(
    bc: SandboxHandle, bc_http: httpx.Client
) -> None:
    item = items(bc, 1)[0]
    head = order(
        bc_http, bc, "ORD-PARTIAL", [{"itemId": item["id"], "quantity": 5, "unitPrice": 2}]
    )
    line = lines_of(bc_http, bc, "salesOrders", head["id"])[0]
    bc_http.patch(
        url(bc, f"salesOrderLines({line['id']})"),
        json={"shipQuantity": 2, "invoiceQuantity": 2},
        headers={"If-Match": "*"},
    )
    assert ship_and_invoice(bc_http, bc, head["id"]).status_code == 204
    after = lines_of(bc_http, bc, "salesOrders", head["id"])[0]
    assert (after["shippedQuantity"], after["invoicedQuantity"], after["shipQuantity"]) == (2, 2, 3)
    assert bc_http.get(url(bc, f"salesOrders({head['id']})")).json()["fullyShipped"] is False
    assert ship_and_invoice(bc_http, bc, head["id"]).status_code == 204
    assert bc_http.get(url(bc, f"salesOrders({head['id']})")).status_code == 404
    where = {"$filter": f"orderNumber eq '{head['number']}'"}
    shipments = bc_http.get(url(bc, "salesShipments"), params=where).json()["value"]
    assert len(shipments) == 2 and all(s["number"].startswith("PS-SHPT") for s in shipments)
    shipped = [lines_of(bc_http, bc, "salesShipments", s["id"])[0]["quantity"] for s in shipments]
    assert sorted(shipped) == [2, 3]
    invoices = bc_http.get(url(bc, "salesInvoices"), params=where).json()["value"]
    assert sorted(Decimal(str(i["remainingAmount"])) for i in invoices) == [4, 6]
    assert {i["status"] for i in invoices} == {"Open"} and invoices[0]["orderId"] == head["id"]
    posted = shipments[0]
    assert bc_http.post(url(bc, "salesShipments"), json={}).status_code == 405
    denied = bc_http.patch(
        url(bc, f"salesShipments({posted['id']})"), json={}, headers={"If-Match": "*"}
    )
    assert denied.status_code == 405
    frozen = bc_http.patch(
        url(bc, f"salesInvoices({invoices[0]['id']})"),
        json={"externalDocumentNumber": "CHANGED"},
        headers={"If-Match": "*"},
    )
    assert frozen.status_code == 400 and "has been posted" in frozen.json()["error"]["message"]
    assert ship_and_invoice(bc_http, bc, invoices[0]["id"]).status_code == 404


def test_nothing_to_post_and_unknown_action(bc: SandboxHandle, bc_http: httpx.Client) -> None:
    head = order(bc_http, bc, "ORD-EMPTY", [])
    empty = ship_and_invoice(bc_http, bc, head["id"])
    assert empty.status_code == 400 and "There is nothing to post" in empty.text
    wrong = bc_http.post(url(bc, f"salesOrders({head['id']})/Microsoft.NAV.post"))
    assert wrong.status_code == 400 and "not bound" in wrong.text


def test_quote_make_order_keeps_lines_and_external_number(
    bc: SandboxHandle, bc_http: httpx.Client
) -> None:
    item = items(bc, 1)[0]
    quote = bc_http.post(
        url(bc, "salesQuotes"),
        json={
            "customerNumber": customer(bc, taxable=False)["number"],
            "externalDocumentNumber": "QUO-1",
            "validUntilDate": "2027-01-31",
            "salesQuoteLines": [{"itemId": item["id"], "quantity": 7, "unitPrice": 3}],
        },
    ).json()
    assert quote["number"].startswith("S-QUO") and quote["status"] == "Draft"
    sent = bc_http.post(url(bc, f"salesQuotes({quote['id']})/Microsoft.NAV.send"))
    assert sent.status_code == 204
    assert bc_http.get(url(bc, f"salesQuotes({quote['id']})")).json()["status"] == "Sent"
    made = bc_http.post(url(bc, f"salesQuotes({quote['id']})/Microsoft.NAV.makeOrder"))
    assert made.status_code == 204, made.text
    assert bc_http.get(url(bc, f"salesQuotes({quote['id']})")).status_code == 404
    found = bc_http.get(
        url(bc, "salesOrders"), params={"$filter": "externalDocumentNumber eq 'QUO-1'"}
    ).json()["value"]
    assert len(found) == 1
    lines = lines_of(bc_http, bc, "salesOrders", found[0]["id"])
    assert [(line["itemId"], line["quantity"]) for line in lines] == [(item["id"], 7)]
    assert Decimal(str(found[0]["totalAmountExcludingTax"])) == 21


def test_invoice_post_pay_in_two_payments(bc: SandboxHandle, bc_http: httpx.Client) -> None:
    item = items(bc, 1)[0]
    draft = bc_http.post(
        url(bc, "salesInvoices"),
        json={
            "customerNumber": customer(bc, taxable=False)["number"],
            "salesInvoiceLines": [{"itemId": item["id"], "quantity": 1, "unitPrice": 100}],
        },
    ).json()
    assert draft["status"] == "Draft" and draft["number"].startswith("S-INV")
    assert (
        bc_http.post(url(bc, f"salesInvoices({draft['id']})/Microsoft.NAV.post")).status_code == 204
    )
    posted = bc_http.get(url(bc, f"salesInvoices({draft['id']})")).json()
    assert posted["number"].startswith("PS-INV") and posted["status"] == "Open"
    assert Decimal(str(posted["remainingAmount"])) == 100
    again = bc_http.post(url(bc, f"salesInvoices({draft['id']})/Microsoft.NAV.post"))
    assert again.status_code == 400 and "already posted" in again.text
    postings = bc.core.extra["router"].documents.postings
    assert isinstance(bc.core.extra["router"], BusinessCentral)
    for amount in (60, 40):
        paid = bc_http.post(
            url(bc, "customerPayments"),
            json={"appliesToInvoiceNumber": posted["number"], "amount": amount},
        )
        assert paid.status_code == 201, paid.text
        assert paid.json()["customerNumber"] == posted["customerNumber"]
        assert paid.json()["journalDisplayName"] == "GENERAL"
        postings.post_payments(bc.company_id)
        state = bc_http.get(url(bc, f"salesInvoices({draft['id']})")).json()
        assert state["status"] == ("Open" if amount == 60 else "Paid")
    assert Decimal(str(state["remainingAmount"])) == 0
    refused = bc_http.post(url(bc, f"salesInvoices({draft['id']})/Microsoft.NAV.cancel"))
    assert refused.status_code == 400 and "paid" in refused.text


def test_cancel_an_unpaid_invoice_gives_a_corrective_credit_memo(
    bc: SandboxHandle, bc_http: httpx.Client
) -> None:
    item = items(bc, 1)[0]
    draft = bc_http.post(
        url(bc, "salesInvoices"),
        json={
            "customerNumber": customer(bc, taxable=False)["number"],
            "salesInvoiceLines": [{"itemId": item["id"], "quantity": 2, "unitPrice": 5}],
        },
    ).json()
    bc_http.post(url(bc, f"salesInvoices({draft['id']})/Microsoft.NAV.post"))
    assert (
        bc_http.post(url(bc, f"salesInvoices({draft['id']})/Microsoft.NAV.cancel")).status_code
        == 204
    )
    assert bc_http.get(url(bc, f"salesInvoices({draft['id']})")).json()["status"] == "Canceled"
    memos = bc_http.get(
        url(bc, "salesCreditMemos"), params={"$filter": f"invoiceId eq {draft['id']}"}
    ).json()["value"]
    assert [(m["status"], Decimal(str(m["totalAmountExcludingTax"]))) for m in memos] == [
        ("Corrective", 10)
    ]


@pytest.mark.parametrize("entity", ["salesShipmentLines", "salesInvoiceLines"])
def test_every_line_list_needs_its_document(
    bc: SandboxHandle, bc_http: httpx.Client, entity: str
) -> None:
    assert bc_http.get(url(bc, entity)).status_code == 400


def test_expand_lines_on_a_header_and_a_list(bc: SandboxHandle, bc_http: httpx.Client) -> None:
    item = items(bc, 1)[0]
    head = order(bc_http, bc, "ORD-EXPAND", [{"itemId": item["id"], "quantity": 2}])
    one = bc_http.get(
        url(bc, f"salesOrders({head['id']})"), params={"$expand": "salesOrderLines"}
    ).json()
    assert [line["quantity"] for line in one["salesOrderLines"]] == [2]
    listed = bc_http.get(
        url(bc, "salesOrders"),
        params={
            "$filter": "externalDocumentNumber eq 'ORD-EXPAND'",
            "$select": "number",
            "$expand": "salesOrderLines",
        },
    ).json()["value"]
    assert set(listed[0]) == {"@odata.etag", "number", "salesOrderLines"}
    assert listed[0]["salesOrderLines"][0]["itemId"] == item["id"]
    wrong = bc_http.get(url(bc, "salesOrders"), params={"$expand": "customer"})
    assert wrong.status_code == 400 and "Could not find a property" in wrong.text


def test_totals_count_every_line(bc: SandboxHandle, bc_http: httpx.Client) -> None:
    item = items(bc, 1)[0]
    head = order(
        bc_http,
        bc,
        "ORD-FOUR-LINES",
        [{"itemId": item["id"], "quantity": n, "unitPrice": 1} for n in (1, 2, 3, 4)],
    )
    assert Decimal(str(head["totalAmountExcludingTax"])) == 10
    lines = lines_of(bc_http, bc, "salesOrders", head["id"])
    assert [line["sequence"] for line in lines] == [10000, 20000, 30000, 40000]


def test_a_deep_insert_with_expand_returns_the_lines_it_made(
    bc: SandboxHandle, bc_http: httpx.Client
) -> None:
    first, second = items(bc, 2)
    body = {
        "customerNumber": customer(bc, taxable=False)["number"],
        "externalDocumentNumber": "ORD-DEEP-EXPAND",
        "salesOrderLines": [
            {"sequence": 20000, "lineObjectNumber": second["number"], "quantity": 1},
            {"sequence": 10000, "lineObjectNumber": first["number"], "quantity": 2},
        ],
    }
    resp = bc_http.post(url(bc, "salesOrders?$expand=salesOrderLines"), json=body)
    assert resp.status_code == 201, resp.text
    made = resp.json()
    stored = lines_of(bc_http, bc, "salesOrders", made["id"])
    assert [(r["id"], r["sequence"]) for r in made["salesOrderLines"]] == [
        (r["id"], r["sequence"]) for r in stored
    ]
    assert [r["sequence"] for r in stored] == [10000, 20000]
    assert Decimal(str(made["totalAmountExcludingTax"])) == sum(
        Decimal(str(r["amountExcludingTax"])) for r in stored
    )
    plain = bc_http.post(url(bc, "salesOrders"), json={**body, "externalDocumentNumber": "X2"})
    assert plain.status_code == 201 and "salesOrderLines" not in plain.json()
    wrong = bc_http.post(url(bc, "salesOrders?$expand=customer"), json=body)
    assert wrong.status_code == 400 and "customer" in wrong.json()["error"]["message"]
