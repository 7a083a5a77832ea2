"""The custom API group's document pages over loopback HTTPS: order release and reopen,
separate ship and invoice actions, order and quote archives, item availability, customer
ledger entries and payment journal posting, in both companies."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from accord.sandboxes import SandboxHandle
from tests.sandboxes.business_central.test_documents import (
    customer,
    items,
    lines_of,
    order,
    ship_and_invoice,
    url,
)

GROUP = "/api/accord/integration/v1.0"


def group(bc: SandboxHandle, path: str, company: str | None = None) -> str:
    root = bc.base_url.replace("/api/v2.0", GROUP)
    return f"{root}/companies({company or bc.company_id})/{path}"


def act(bc_http: httpx.Client, bc: SandboxHandle, page: str, key: str, action: str) -> Any:
    return bc_http.post(group(bc, f"{page}({key})/Microsoft.NAV.{action}"))


def one(bc_http: httpx.Client, address: str) -> dict[str, Any]:
    resp = bc_http.get(address)
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def listed(bc_http: httpx.Client, address: str, where: str | None = None) -> list[Any]:
    resp = bc_http.get(address, params={"$filter": where} if where else None)
    assert resp.status_code == 200, resp.text
    return list(resp.json()["value"])


def set_quantities(
    bc_http: httpx.Client, bc: SandboxHandle, line: str, ship: float, invoice: float
) -> None:
    resp = bc_http.patch(
        url(bc, f"salesOrderLines({line})"),
        json={"shipQuantity": ship, "invoiceQuantity": invoice},
        headers={"If-Match": "*"},
    )
    assert resp.status_code == 200, resp.text


def test_release_refuses_line_edits_until_reopened(
    bc: SandboxHandle, bc_http: httpx.Client
) -> None:
    item = items(bc, 1)[0]
    head = order(bc_http, bc, "OPS-REL", [{"itemId": item["id"], "quantity": 3}])
    page = one(bc_http, group(bc, f"salesOrderOperations({head['id']})"))
    assert (page["number"], page["status"]) == (head["number"], "Open")
    assert act(bc_http, bc, "salesOrderOperations", head["id"], "release").status_code == 204
    assert one(bc_http, group(bc, f"salesOrderOperations({head['id']})"))["status"] == "Released"
    line = lines_of(bc_http, bc, "salesOrders", head["id"])[0]
    edit = bc_http.patch(
        url(bc, f"salesOrderLines({line['id']})"), json={"quantity": 4}, headers={"If-Match": "*"}
    )
    assert edit.status_code == 400
    assert "Status must be equal to 'Open'" in edit.json()["error"]["message"]
    to_ship = bc_http.patch(  # Qty. to Ship has no TestStatusOpen in BC
        url(bc, f"salesOrderLines({line['id']})"),
        json={"shipQuantity": 2},
        headers={"If-Match": "*"},
    )
    assert to_ship.status_code == 200, to_ship.text
    assert to_ship.json()["shipQuantity"] == 2 and to_ship.json()["quantity"] == 3
    mixed = bc_http.patch(
        url(bc, f"salesOrderLines({line['id']})"),
        json={"shipQuantity": 1, "quantity": 4},
        headers={"If-Match": "*"},
    )
    assert mixed.status_code == 400 and "Status must be equal to 'Open'" in mixed.text
    added = bc_http.post(
        url(bc, f"salesOrders({head['id']})/salesOrderLines"),
        json={"itemId": item["id"], "quantity": 1},
    )
    assert added.status_code == 400 and "Released" in added.text
    assert act(bc_http, bc, "salesOrderOperations", head["id"], "reopen").status_code == 204
    edit = bc_http.patch(
        url(bc, f"salesOrderLines({line['id']})"), json={"quantity": 4}, headers={"If-Match": "*"}
    )
    assert edit.status_code == 200, edit.text
    empty = order(bc_http, bc, "OPS-EMPTY", [])
    refused = act(bc_http, bc, "salesOrderOperations", empty["id"], "release")
    assert refused.status_code == 400 and "nothing to release" in refused.text
    wrong = act(bc_http, bc, "salesOrderOperations", head["id"], "shipAndInvoice")
    assert wrong.status_code == 400 and "not bound" in wrong.text
    patch = bc_http.patch(  # read-only: dropped, as the sandbox's read-only policy says
        group(bc, f"salesOrderOperations({head['id']})"),
        json={"status": "Released"},
        headers={"If-Match": "*"},
    )
    assert patch.status_code == 200 and patch.json()["status"] == "Open", patch.text


def test_two_partial_shipments_then_one_invoice(bc: SandboxHandle, bc_http: httpx.Client) -> None:
    item = items(bc, 1)[0]
    head = order(bc_http, bc, "OPS-SHIP", [{"itemId": item["id"], "quantity": 10, "unitPrice": 5}])
    line = lines_of(bc_http, bc, "salesOrders", head["id"])[0]
    before = one(bc_http, url(bc, f"items({item['id']})"))
    set_quantities(bc_http, bc, line["id"], 4, 0)
    assert act(bc_http, bc, "salesOrderOperations", head["id"], "ship").status_code == 204
    after = lines_of(bc_http, bc, "salesOrders", head["id"])[0]
    assert (after["shippedQuantity"], after["invoicedQuantity"], after["shipQuantity"]) == (4, 0, 6)
    page = one(bc_http, group(bc, f"salesOrderOperations({head['id']})"))
    assert page["status"] == "Released" and page["lastShipmentNumber"].startswith("PS-SHPT")
    assert page["lastInvoiceNumber"] == "" and page["completelyShipped"] is False
    where = f"orderNumber eq '{head['number']}'"
    assert listed(bc_http, url(bc, "salesInvoices"), where) == []
    assert act(bc_http, bc, "salesOrderOperations", head["id"], "ship").status_code == 204
    shipments = listed(bc_http, url(bc, "salesShipments"), where)
    assert len(shipments) == 2
    quantities = sorted(
        lines_of(bc_http, bc, "salesShipments", s["id"])[0]["quantity"] for s in shipments
    )
    assert quantities == [4, 6]
    item_now = one(bc_http, url(bc, f"items({item['id']})"))
    assert Decimal(str(item_now["inventory"])) == Decimal(str(before["inventory"])) - 10
    assert item_now["lastModifiedDateTime"] == before["lastModifiedDateTime"]  # a FlowField
    assert one(bc_http, url(bc, f"salesOrders({head['id']})"))["fullyShipped"] is True
    assert act(bc_http, bc, "salesOrderOperations", head["id"], "invoice").status_code == 204
    assert bc_http.get(url(bc, f"salesOrders({head['id']})")).status_code == 404
    assert bc_http.get(group(bc, f"salesOrderOperations({head['id']})")).status_code == 404
    invoices = listed(bc_http, url(bc, "salesInvoices"), where)
    assert len(invoices) == 1 and Decimal(str(invoices[0]["remainingAmount"])) == 50
    assert lines_of(bc_http, bc, "salesInvoices", invoices[0]["id"])[0]["quantity"] == 10


def test_invoice_never_exceeds_shipped_not_invoiced(
    bc: SandboxHandle, bc_http: httpx.Client
) -> None:
    item = items(bc, 1)[0]
    head = order(bc_http, bc, "OPS-INV", [{"itemId": item["id"], "quantity": 10, "unitPrice": 1}])
    line = lines_of(bc_http, bc, "salesOrders", head["id"])[0]
    nothing = act(bc_http, bc, "salesOrderOperations", head["id"], "invoice")
    assert nothing.status_code == 400 and "nothing to post" in nothing.text
    set_quantities(bc_http, bc, line["id"], 4, 4)
    assert ship_and_invoice(bc_http, bc, head["id"]).status_code == 204
    line = lines_of(bc_http, bc, "salesOrders", head["id"])[0]
    assert (line["shippedQuantity"], line["invoicedQuantity"], line["invoiceQuantity"]) == (4, 4, 6)
    # 6 to invoice but nothing more shipped: invoicing posts nothing (it used to re-invoice 4)
    again = act(bc_http, bc, "salesOrderOperations", head["id"], "invoice")
    assert again.status_code == 400 and "nothing to post" in again.text
    set_quantities(bc_http, bc, line["id"], 0, 6)
    v2 = ship_and_invoice(bc_http, bc, head["id"])
    assert v2.status_code == 400 and "nothing to post" in v2.text
    invoices = listed(bc_http, url(bc, "salesInvoices"), f"orderNumber eq '{head['number']}'")
    assert [Decimal(str(i["totalAmountExcludingTax"])) for i in invoices] == [4]


def test_archives_keep_versions_with_lines(bc: SandboxHandle, bc_http: httpx.Client) -> None:
    item = items(bc, 1)[0]
    quote = bc_http.post(
        url(bc, "salesQuotes"),
        json={
            "customerNumber": customer(bc, taxable=False)["number"],
            "validUntilDate": "2027-03-31",
            "salesQuoteLines": [{"itemId": item["id"], "quantity": 2, "unitPrice": 7}],
        },
    ).json()
    assert act(bc_http, bc, "salesQuoteOperations", quote["id"], "archive").status_code == 204
    line = lines_of(bc_http, bc, "salesQuotes", quote["id"])[0]
    bc_http.patch(
        url(bc, f"salesQuoteLines({line['id']})"), json={"quantity": 5}, headers={"If-Match": "*"}
    )
    assert act(bc_http, bc, "salesQuoteOperations", quote["id"], "archive").status_code == 204
    where = f"number eq '{quote['number']}'"
    versions = listed(bc_http, group(bc, "salesQuoteArchives"), where)
    assert sorted(v["versionNumber"] for v in versions) == [1, 2]
    assert {v["documentId"] for v in versions} == {quote["id"]}
    assert {v["validUntilDate"] for v in versions} == {"2027-03-31"}
    by_version = {
        v["versionNumber"]: listed(
            bc_http, group(bc, "salesQuoteArchiveLines"), f"documentId eq {v['id']}"
        )
        for v in versions
    }
    assert [ln["quantity"] for ln in by_version[1]] == [2]
    assert [ln["quantity"] for ln in by_version[2]] == [5]
    page = one(bc_http, group(bc, f"salesQuoteOperations({quote['id']})"))
    assert page["lastArchivedVersion"] == 2
    denied = bc_http.post(group(bc, "salesQuoteArchives"), json={"number": "X"})
    assert denied.status_code == 405
    head = order(bc_http, bc, "OPS-ARCH", [{"itemId": item["id"], "quantity": 1}])
    assert act(bc_http, bc, "salesOrderOperations", head["id"], "release").status_code == 204
    assert act(bc_http, bc, "salesOrderOperations", head["id"], "archive").status_code == 204
    archived = listed(bc_http, group(bc, "salesOrderArchives"), f"number eq '{head['number']}'")
    assert [(a["versionNumber"], a["status"]) for a in archived] == [(1, "Released")]
    archived_lines = listed(
        bc_http, group(bc, "salesOrderArchiveLines"), f"documentNumber eq '{head['number']}'"
    )
    assert [(ln["quantity"], ln["shippedQuantity"]) for ln in archived_lines] == [(1, 0)]


def availability(bc_http: httpx.Client, bc: SandboxHandle, number: str) -> dict[str, Any]:
    rows = listed(bc_http, group(bc, "itemAvailabilities"), f"itemNumber eq '{number}'")
    assert len(rows) == 1
    return dict(rows[0])


def test_availability_follows_orders_and_shipments(
    bc: SandboxHandle, bc_http: httpx.Client
) -> None:
    item = items(bc, 3)[2]
    start = availability(bc_http, bc, item["number"])
    assert start["itemId"] == item["id"] == start["id"]
    inventory = Decimal(str(start["inventory"]))
    on_orders = Decimal(str(start["quantityOnSalesOrders"]))
    assert Decimal(str(start["availableQuantity"])) == inventory - on_orders
    assert availability(bc_http, bc, item["number"]) == start  # unchanged: same stamp
    head = order(bc_http, bc, "OPS-AVAIL", [{"itemId": item["id"], "quantity": 3}])
    placed = availability(bc_http, bc, item["number"])
    assert Decimal(str(placed["quantityOnSalesOrders"])) == on_orders + 3
    assert Decimal(str(placed["availableQuantity"])) == inventory - on_orders - 3
    assert placed["lastModifiedDateTime"] > start["lastModifiedDateTime"]
    changed = listed(
        bc_http,
        group(bc, "itemAvailabilities"),
        f"lastModifiedDateTime gt {start['lastModifiedDateTime']}",
    )
    assert item["number"] in {r["itemNumber"] for r in changed}
    line = lines_of(bc_http, bc, "salesOrders", head["id"])[0]
    set_quantities(bc_http, bc, line["id"], 1, 0)
    assert act(bc_http, bc, "salesOrderOperations", head["id"], "ship").status_code == 204
    shipped = availability(bc_http, bc, item["number"])
    assert Decimal(str(shipped["inventory"])) == inventory - 1
    assert Decimal(str(shipped["quantityOnSalesOrders"])) == on_orders + 2
    assert Decimal(str(shipped["availableQuantity"])) == inventory - on_orders - 3


def test_invoice_paid_in_two_payments_through_the_api(
    bc: SandboxHandle, bc_http: httpx.Client
) -> None:
    item = items(bc, 1)[0]
    head = order(bc_http, bc, "OPS-PAY", [{"itemId": item["id"], "quantity": 1, "unitPrice": 90}])
    assert ship_and_invoice(bc_http, bc, head["id"]).status_code == 204
    invoice = listed(bc_http, url(bc, "salesInvoices"), f"orderNumber eq '{head['number']}'")[0]
    entries = listed(
        bc_http, group(bc, "customerLedgerEntries"), f"documentNumber eq '{invoice['number']}'"
    )
    assert [(e["documentType"], Decimal(str(e["amount"])), e["open"]) for e in entries] == [
        ("Invoice", 90, True)
    ]
    journal = listed(bc_http, url(bc, "customerPaymentJournals"), "code eq 'GENERAL'")[0]
    act(bc_http, bc, "customerPaymentJournalOperations", journal["id"], "post")  # the seed's
    nothing = act(bc_http, bc, "customerPaymentJournalOperations", journal["id"], "post")
    assert nothing.status_code == 400 and "nothing to post" in nothing.text
    for amount, status, left in ((50, "Open", 40), (40, "Paid", 0)):
        paid = bc_http.post(
            url(bc, "customerPayments"),
            json={"appliesToInvoiceNumber": invoice["number"], "amount": amount},
        )
        assert paid.status_code == 201, paid.text
        page = one(bc_http, group(bc, f"customerPaymentJournalOperations({journal['id']})"))
        assert page["lineCount"] == 1 and Decimal(str(page["totalAmount"])) == amount
        posted = act(bc_http, bc, "customerPaymentJournalOperations", journal["id"], "post")
        assert posted.status_code == 204, posted.text
        state = one(bc_http, url(bc, f"salesInvoices({invoice['id']})"))
        assert (state["status"], Decimal(str(state["remainingAmount"]))) == (status, left)
        entry = listed(
            bc_http,
            group(bc, "customerLedgerEntries"),
            f"documentNumber eq '{invoice['number']}' and documentType eq 'Invoice'",
        )[0]
        assert (Decimal(str(entry["remainingAmount"])), entry["open"]) == (left, left > 0)
    newest = bc_http.get(
        group(bc, "customerLedgerEntries"),
        params={"$filter": "documentType eq 'Payment'", "$orderby": "entryNumber desc", "$top": 2},
    ).json()["value"]
    assert [(Decimal(str(p["amount"])), p["open"]) for p in newest] == [(-40, False), (-50, False)]
    assert listed(bc_http, url(bc, "customerPayments")) == []
    denied = bc_http.post(group(bc, "customerLedgerEntries"), json={"amount": 1})
    assert denied.status_code == 405


def test_second_company_has_its_own_rows(bc: SandboxHandle, bc_http: httpx.Client) -> None:
    other = next(c["id"] for c in listed(bc_http, "companies") if c["id"] != bc.company_id)
    first = {r["id"] for r in listed(bc_http, group(bc, "itemAvailabilities"))}
    second = {r["id"] for r in listed(bc_http, group(bc, "itemAvailabilities", other))}
    assert second and first and not first & second
    who = listed(bc_http, f"companies({other})/customers")[0]
    item = listed(bc_http, f"companies({other})/items", "blocked eq false")[0]
    made = bc_http.post(
        f"companies({other})/salesOrders",
        json={"customerId": who["id"], "salesOrderLines": [{"itemId": item["id"], "quantity": 1}]},
    )
    assert made.status_code == 201, made.text
    key = made.json()["id"]
    assert act_in(bc_http, bc, other, key, "release").status_code == 204
    page = one(bc_http, group(bc, f"salesOrderOperations({key})", other))
    assert page["status"] == "Released"
    assert bc_http.get(group(bc, f"salesOrderOperations({key})")).status_code == 404


def act_in(
    bc_http: httpx.Client, bc: SandboxHandle, company: str, key: str, action: str
) -> httpx.Response:
    return bc_http.post(group(bc, f"salesOrderOperations({key})/Microsoft.NAV.{action}", company))


def test_a_released_quote_refuses_changes(bc: SandboxHandle, bc_http: httpx.Client) -> None:
    item = items(bc, 1)[0]
    quote = bc_http.post(
        url(bc, "salesQuotes"),
        json={
            "customerNumber": customer(bc, taxable=False)["number"],
            "salesQuoteLines": [{"itemId": item["id"], "quantity": 1}],
        },
    ).json()
    assert act(bc_http, bc, "salesQuoteOperations", quote["id"], "release").status_code == 204
    header = bc_http.patch(
        url(bc, f"salesQuotes({quote['id']})"),
        json={"externalDocumentNumber": "LATE"},
        headers={"If-Match": "*"},
    )
    assert header.status_code == 400 and "Document Type=Quote" in header.text
    assert act(bc_http, bc, "salesQuoteOperations", quote["id"], "ship").status_code == 400
    assert act(bc_http, bc, "salesQuoteOperations", quote["id"], "reopen").status_code == 204
    header = bc_http.patch(
        url(bc, f"salesQuotes({quote['id']})"),
        json={"externalDocumentNumber": "LATE"},
        headers={"If-Match": "*"},
    )
    assert header.status_code == 200, header.text
    missing = act(
        bc_http, bc, "salesQuoteOperations", "6f0d2c1e-0000-4000-8000-000000000000", "release"
    )
    assert missing.status_code == 404


def test_metadata_lists_the_bound_actions(bc: SandboxHandle, bc_http: httpx.Client) -> None:
    text = bc_http.get(bc.base_url.replace("/api/v2.0", GROUP) + "/$metadata").text
    for page, action in (
        ("salesOrderOperation", "ship"),
        ("salesQuoteOperation", "archive"),
        ("customerPaymentJournalOperation", "post"),
    ):
        assert (
            f'<Action Name="{action}" IsBound="true"><Parameter Name="bindingParameter" '
            f'Type="Microsoft.NAV.{page}"/></Action>'
        ) in text
    standard = bc_http.get("$metadata").text
    assert 'Name="shipAndInvoice" IsBound="true"' in standard
    assert 'Type="Microsoft.NAV.salesOrderOperation"' not in standard


def test_credit_memos_write_and_apply_ledger_entries(
    bc: SandboxHandle, bc_http: httpx.Client
) -> None:
    item = items(bc, 1)[0]

    def posted_invoice(price: int) -> dict[str, Any]:
        head = order(
            bc_http,
            bc,
            f"OPS-CM-{price}",
            [{"itemId": item["id"], "quantity": 1, "unitPrice": price}],
        )
        assert ship_and_invoice(bc_http, bc, head["id"]).status_code == 204
        return listed(bc_http, url(bc, "salesInvoices"), f"orderNumber eq '{head['number']}'")[0]

    def entries(number: str) -> list[tuple[str, Decimal, Decimal, bool]]:
        rows = listed(bc_http, group(bc, "customerLedgerEntries"), f"documentNumber eq '{number}'")
        return [
            (
                r["documentType"],
                Decimal(str(r["amount"])),
                Decimal(str(r["remainingAmount"])),
                r["open"],
            )
            for r in rows
        ]

    canceled = posted_invoice(30)
    assert act_on(bc_http, bc, "salesInvoices", canceled["id"], "cancel").status_code == 204
    assert entries(canceled["number"]) == [("Invoice", 30, 0, False)]
    memo = listed(bc_http, url(bc, "salesCreditMemos"), f"invoiceNumber eq '{canceled['number']}'")[
        0
    ]
    assert entries(memo["number"]) == [("Credit Memo", -30, 0, False)]

    credited = posted_invoice(20)
    made = act_on(bc_http, bc, "salesInvoices", credited["id"], "makeCorrectiveCreditMemo")
    assert made.status_code == 204
    draft = listed(
        bc_http, url(bc, "salesCreditMemos"), f"invoiceNumber eq '{credited['number']}'"
    )[0]
    assert act_on(bc_http, bc, "salesCreditMemos", draft["id"], "post").status_code == 204
    assert entries(credited["number"]) == [("Invoice", 20, 0, False)]
    memo = one(bc_http, url(bc, f"salesCreditMemos({draft['id']})"))
    assert entries(memo["number"]) == [("Credit Memo", -20, 0, False)]
    assert one(bc_http, url(bc, f"salesInvoices({credited['id']})"))["status"] == "Paid"


def act_on(bc_http: httpx.Client, bc: SandboxHandle, entity: str, key: str, action: str) -> Any:
    return bc_http.post(url(bc, f"{entity}({key})/Microsoft.NAV.{action}"))
