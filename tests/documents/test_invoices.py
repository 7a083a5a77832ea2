"""Posted invoices and credit memos, Business Central -> Sales, end to end over the
sandboxes: an order taken from Sales, shipped and invoiced in BC becomes a Sales invoice with
its lines, totals and tax, tied to the Sales order; paid in two payments it stays open after
the first and is Paid after the second; a credit memo becomes a negative Sales invoice tied to
the order of the invoice it credits (held until that invoice came); nothing is made twice."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.documents.conftest import Intake
from tests.sandboxes.conftest import api_client

INVOICES = "SALES INVOICE"
MEMOS = "SALES CREDIT MEMO"
GROUP = "/api/accord/integration/v1.0"
AUTOMATIC = ((INVOICES, "auto_transfer_invoices"), (MEMOS, "auto_transfer_credit_memos"))


@pytest.fixture(scope="module")
def bc_http(intake: Intake) -> Iterator[httpx.Client]:
    with api_client(intake.world.bc) as client:
        yield client


def company(intake: Intake) -> str:
    return f"companies({intake.world.bc.company_id})"


def posted_invoice(intake: Intake, http: httpx.Client, name: str, lines: list[Any]) -> Any:
    """A Sales order ``name`` taken to BC by order intake, then shipped and invoiced there."""
    order = intake.submit(name, lines)
    ran = intake.cli("orders", "create-in-erp", name)
    assert ran.code == 0, ran.output
    [head] = intake.bc_orders(name)
    done = http.post(f"{company(intake)}/salesOrders({head['id']})/Microsoft.NAV.shipAndInvoice")
    assert done.status_code == 204, done.text
    [invoice] = [i for i in intake.bc.all("salesInvoices") if i["orderNumber"] == head["number"]]
    return order, invoice


def pay(intake: Intake, http: httpx.Client, invoice: str, amount: Decimal) -> None:
    """A customer payment applied to ``invoice``, posted by the custom API's journal action."""
    made = http.post(
        f"{company(intake)}/customerPayments",
        json={"appliesToInvoiceNumber": invoice, "amount": float(amount)},
    )
    assert made.status_code == 201, made.text
    [journal] = [j for j in intake.bc.all("customerPaymentJournals") if j["code"] == "GENERAL"]
    root = intake.world.bc.base_url.replace("/api/v2.0", GROUP)
    posted = http.post(
        f"{root}/{company(intake)}/customerPaymentJournalOperations({journal['id']})"
        "/Microsoft.NAV.post"
    )
    assert posted.status_code == 204, posted.text


def sales_invoices(intake: Intake, number: str) -> list[dict[str, Any]]:
    return [i for i in intake.dv.all("invoices") if i["invoicenumber"] == number]


def details(intake: Intake, invoice: str) -> list[dict[str, Any]]:
    rows = [d for d in intake.dv.all("invoicedetails") if d["_invoiceid_value"] == invoice]
    return sorted(rows, key=lambda d: d["sequencenumber"])


def sync(intake: Intake, *args: str) -> list[dict[str, Any]]:
    """What the transfer did to each document, then what its status pass did."""
    ran = intake.cli("invoices", "sync", *args, "--json")
    assert ran.code == 0, ran.output
    runs = json.loads(ran.stdout)["runs"]
    return [{**d, "kind": run["kind"]} for run in runs for d in run["documents"]]


def done(runs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(d["kind"], d["status"]) for d in runs]


def test_a_posted_invoice_comes_once_and_is_paid_after_its_second_payment(
    intake: Intake, bc_http: httpx.Client
) -> None:
    first, second = intake.products()[:2]
    order, invoice = posted_invoice(
        intake,
        bc_http,
        "SO-INVOICED",
        [
            {"_productid_value": first["productid"], "quantity": Decimal(3)},
            {"_productid_value": second["productid"], "priceperunit": Decimal("12.50")},
        ],
    )
    number = invoice["number"]
    made, followed = sync(intake, number)
    assert (made["status"], followed["status"]) == ("created", "unchanged")
    [sales] = sales_invoices(intake, number)
    assert sales["invoiceid"] == made["target_id"]
    assert sales["_salesorderid_value"] == order
    assert sales["_customerid_value"] == intake.sales_order(order)["_customerid_value"]
    assert (sales["statecode"], sales["statuscode"]) == (0, 4)  # Active, Billed
    bc_lines = sorted(
        (r for r in intake.bc.all("salesInvoiceLines") if r["documentId"] == invoice["id"]),
        key=lambda r: r["sequence"],
    )
    lines = details(intake, sales["invoiceid"])
    assert [(d["_productid_value"], d["quantity"], d["priceperunit"]) for d in lines] == [
        (first["productid"], Decimal(3), Decimal(10)),
        (second["productid"], Decimal(1), Decimal("12.50")),
    ]
    assert [d["tax"] for d in lines] == [r["totalTaxAmount"] for r in bc_lines]
    assert sales["totaltax"] == invoice["totalTaxAmount"] != 0
    assert sales["totalamount"] == invoice["totalAmountIncludingTax"] == invoice["remainingAmount"]
    assert sales["totalamountlessfreight"] == invoice["totalAmountExcludingTax"]

    total = Decimal(str(invoice["totalAmountIncludingTax"]))
    pay(intake, bc_http, number, Decimal(10))
    partly = done(sync(intake, number))
    assert partly == [("transfer", "already"), ("status", "unchanged")]  # partly paid: open
    assert sales_invoices(intake, number)[0]["statecode"] == 0
    pay(intake, bc_http, number, total - 10)
    assert done(sync(intake, number)) == [("transfer", "already"), ("status", "updated")]
    [paid] = sales_invoices(intake, number)
    assert (paid["statecode"], paid["statuscode"]) == (2, 100001)  # Paid, Complete
    assert done(sync(intake, number)) == [("transfer", "already"), ("status", "unchanged")]
    assert len(sales_invoices(intake, number)) == 1
    assert len(details(intake, sales["invoiceid"])) == 2
    assert intake.bc.all("salesInvoices") and all(  # posted documents are never written
        i["number"] != number or i["status"] == "Paid" for i in intake.bc.all("salesInvoices")
    )


def test_a_credit_memo_becomes_a_negative_sales_invoice(
    intake: Intake, bc_http: httpx.Client
) -> None:
    product = intake.products()[0]
    order, invoice = posted_invoice(
        intake,
        bc_http,
        "SO-CREDITED",
        [{"_productid_value": product["productid"], "quantity": Decimal(2)}],
    )
    base = f"{company(intake)}/salesInvoices({invoice['id']})"
    assert bc_http.post(f"{base}/Microsoft.NAV.makeCorrectiveCreditMemo").status_code == 204
    [draft] = [m for m in intake.bc.all("salesCreditMemos") if m["invoiceId"] == invoice["id"]]
    posted = bc_http.post(f"{company(intake)}/salesCreditMemos({draft['id']})/Microsoft.NAV.post")
    assert posted.status_code == 204, posted.text
    [memo] = [m for m in intake.bc.all("salesCreditMemos") if m["id"] == draft["id"]]

    # the credited invoice has not come to Sales yet: the memo waits for it, held
    early = intake.cli("invoices", "sync", "--credit-memos", memo["number"], "--json")
    assert early.code == 1, early.output
    [held] = json.loads(early.stdout)["runs"][0]["documents"]
    assert held["status"] == "held" and invoice["id"] in held["messages"][0], held
    assert "invoiceId" in held["messages"][0] and INVOICES in held["messages"][0]
    assert sales_invoices(intake, memo["number"]) == []
    # the credited invoice, paid by the memo in BC, comes Paid
    came = done(sync(intake, invoice["number"]))
    assert came == [("transfer", "created"), ("status", "updated")]
    assert sales_invoices(intake, invoice["number"])[0]["statecode"] == 2
    retried = intake.cli("retry", "--json")
    [made] = [
        d
        for run in json.loads(retried.stdout)["runs"]
        for d in run["documents"]
        if d["identity"] == memo["number"]
    ]
    assert made["status"] == "completed", retried.output  # held, then finished
    [sales] = sales_invoices(intake, memo["number"])
    assert sales["description"] == f"Credit memo {memo['number']}"
    assert sales["_salesorderid_value"] == order  # the order of the invoice it credits
    assert [
        (d["_productid_value"], d["quantity"]) for d in details(intake, sales["invoiceid"])
    ] == [(product["productid"], Decimal(-2))]
    assert sales["totalamount"] == -Decimal(str(memo["totalAmountIncludingTax"]))
    assert sales["totaltax"] == -Decimal(str(memo["totalTaxAmount"]))
    again = done(sync(intake, "--credit-memos", memo["number"]))
    assert again == [("transfer", "already")]
    assert len(sales_invoices(intake, memo["number"])) == 1


def test_a_sync_takes_posted_invoices_when_automatic(intake: Intake, bc_http: httpx.Client) -> None:
    product = intake.products()[1]
    _, invoice = posted_invoice(
        intake, bc_http, "SO-AUTO-INVOICE", [{"_productid_value": product["productid"]}]
    )
    for mapping, setting in AUTOMATIC:
        assert intake.cli("documents", "set", mapping, setting, "true").code == 0
    try:
        ran = intake.cli("sync", "--json")
        again = intake.cli("invoices", "sync", "--json")  # every posted one, again
    finally:
        for mapping, setting in AUTOMATIC:
            intake.cli("documents", "set", mapping, setting, "false")
    assert ran.code == 0, ran.output
    runs = {r["mapping"]: r for r in json.loads(ran.stdout)["documents"] if r["kind"] == "transfer"}
    statuses = {d["identity"]: d["status"] for d in runs[INVOICES]["documents"]}
    assert statuses[invoice["number"]] == "created"
    assert again.code == 0, again.output
    later = json.loads(again.stdout)["runs"]
    assert [(r["mapping"], r["kind"]) for r in later] == [
        (INVOICES, "transfer"),
        (INVOICES, "status"),
        (MEMOS, "transfer"),
    ]
    assert {d["status"] for r in later if r["kind"] == "transfer" for d in r["documents"]} <= {
        "already"
    }
    assert {d["status"] for r in later if r["kind"] == "status" for d in r["documents"]} <= {
        "unchanged",
        "updated",  # the seed's paid invoices are set Paid once
    }
    posted = [i for i in intake.bc.all("salesInvoices") if i["status"] in ("Open", "Paid")]
    taken = set(intake.coupled("SALES ORDER", "erp"))
    for each in posted:
        [sales] = sales_invoices(intake, each["number"])
        if each["orderId"] not in taken:  # made in BC, not from a Sales order: no order tie
            assert sales["_salesorderid_value"] is None, each["number"]
    assert any(i["orderId"] and i["orderId"] not in taken for i in posted)  # the seed's
