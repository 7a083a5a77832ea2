"""Dataverse sales documents over loopback HTTPS: a document is created in its first state,
changes state by Update only where the service allows and by its request elsewhere, is
read-only outside its editable state, and keeps its totals from its lines."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from accord.sandboxes import SandboxHandle


def first(dv: SandboxHandle, entity: str) -> dict[str, Any]:
    return dv.store.all(entity)[0]


def create(dv_http: httpx.Client, entity: str, body: dict[str, Any]) -> dict[str, Any]:
    resp = dv_http.post(entity, json=body, headers={"Prefer": "return=representation"})
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


def order(dv: SandboxHandle, dv_http: httpx.Client, name: str, **extra: Any) -> dict[str, Any]:
    account = first(dv, "accounts")["accountid"]
    return create(
        dv_http,
        "salesorders",
        {"name": name, "customerid_account@odata.bind": f"/accounts({account})", **extra},
    )


def line(dv: SandboxHandle, dv_http: httpx.Client, doc: str, **values: Any) -> httpx.Response:
    product = first(dv, "products")["productid"]
    body = {"salesorderid@odata.bind": f"/salesorders({doc})", **values}
    if not values.get("isproductoverridden"):
        body["productid@odata.bind"] = f"/products({product})"
    return dv_http.post("salesorderdetails", json=body, headers={"Prefer": "return=representation"})


def get(dv_http: httpx.Client, path: str) -> dict[str, Any]:
    resp = dv_http.get(path)
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def test_an_order_is_created_active_and_keeps_its_totals(
    dv: SandboxHandle, dv_http: httpx.Client
) -> None:
    made = order(dv, dv_http, "SO totals", freightamount=5)
    assert (made["statecode"], made["statuscode"]) == (0, 1)
    assert made["ordernumber"].startswith("ORD-")
    doc = made["salesorderid"]
    first_line = line(dv, dv_http, doc, quantity=3, priceperunit=2.5)
    assert first_line.status_code == 201, first_line.text
    assert Decimal(str(first_line.json()["baseamount"])) == Decimal("7.50")
    write_in = line(
        dv,
        dv_http,
        doc,
        isproductoverridden=True,
        productdescription="Custom work",
        quantity=1,
        priceperunit=10,
        manualdiscountamount=1,
    )
    assert write_in.status_code == 201 and write_in.json()["_productid_value"] is None
    header = get(dv_http, f"salesorders({doc})")
    assert Decimal(str(header["totallineitemamount"])) == Decimal("16.50")
    assert Decimal(str(header["totalamount"])) == Decimal("21.50")
    bad = line(dv, dv_http, doc, isproductoverridden=True, quantity=1)
    assert bad.status_code == 400 and "productdescription" in bad.text
    refused = dv_http.post(
        "salesorders",
        json={"name": "born submitted", "statecode": 1},
    )
    assert refused.status_code == 400 and "created in state Active" in refused.text


def test_submitted_order_is_read_only_until_flipped_back(
    dv: SandboxHandle, dv_http: httpx.Client
) -> None:
    doc = order(dv, dv_http, "SO marker")["salesorderid"]
    assert line(dv, dv_http, doc, quantity=1, priceperunit=1).status_code == 201
    submitted = dv_http.patch(f"salesorders({doc})", json={"statecode": 1, "statuscode": 3})
    assert submitted.status_code == 204, submitted.text
    blocked = dv_http.patch(f"salesorders({doc})", json={"lastbackofficesubmit": "2026-11-27"})
    assert blocked.status_code == 400 and "Cannot Update a Read-Only Entity" in blocked.text
    no_lines = line(dv, dv_http, doc, quantity=1, priceperunit=1)
    assert no_lines.status_code == 400 and "Read-Only" in no_lines.text
    for body in ({"statecode": 0}, {"lastbackofficesubmit": "2026-11-27"}, {"statecode": 1}):
        resp = dv_http.patch(f"salesorders({doc})", json=body)
        assert resp.status_code == 204, (body, resp.text)
    final = get(dv_http, f"salesorders({doc})")
    assert (final["statecode"], final["statuscode"], final["lastbackofficesubmit"]) == (
        1,
        3,
        "2026-11-27",
    )


def test_fulfil_and_cancel_need_their_requests(dv: SandboxHandle, dv_http: httpx.Client) -> None:
    doc = order(dv, dv_http, "SO fulfil")["salesorderid"]
    by_update = dv_http.patch(f"salesorders({doc})", json={"statecode": 3})
    assert by_update.status_code == 400 and "FulfillSalesOrder" in by_update.text
    cancel = dv_http.patch(f"salesorders({doc})", json={"statecode": 2})
    assert cancel.status_code == 400 and "CancelSalesOrder" in cancel.text
    close = {"subject": "Shipped", "salesorderid@odata.bind": f"/salesorders({doc})"}
    missing = dv_http.post("FulfillSalesOrder", json={"OrderClose": close})
    assert missing.status_code == 400 and "Status" in missing.text
    done = dv_http.post("FulfillSalesOrder", json={"OrderClose": close, "Status": 100001})
    assert done.status_code == 204, done.text
    row = get(dv_http, f"salesorders({doc})")
    assert (row["statecode"], row["statuscode"]) == (3, 100001)
    again = dv_http.post("CancelSalesOrder", json={"OrderClose": close, "Status": 4})
    assert again.status_code == 400 and "must be in state" in again.text
    invoiced = dv_http.patch(f"salesorders({doc})", json={"statecode": 4})
    assert invoiced.status_code == 204
    assert get(dv_http, f"salesorders({doc})")["statuscode"] == 100003


def test_quote_activate_revise_and_win(dv: SandboxHandle, dv_http: httpx.Client) -> None:
    account = first(dv, "accounts")["accountid"]
    product = first(dv, "products")["productid"]
    quote = create(
        dv_http,
        "quotes",
        {
            "name": "Q revisions",
            "customerid_account@odata.bind": f"/accounts({account})",
            "effectiveto": "2027-01-31",
        },
    )
    qid = quote["quoteid"]
    assert (quote["statecode"], quote["revisionnumber"]) == (0, 0)
    detail = dv_http.post(
        "quotedetails",
        json={
            "quoteid@odata.bind": f"/quotes({qid})",
            "productid@odata.bind": f"/products({product})",
            "quantity": 2,
            "priceperunit": 4,
        },
    )
    assert detail.status_code == 204, detail.text
    won_early = dv_http.post(
        "WinQuote", json={"QuoteClose": {"quoteid@odata.bind": f"/quotes({qid})"}, "Status": 4}
    )
    assert won_early.status_code == 400 and "must be in state 1" in won_early.text
    assert dv_http.patch(f"quotes({qid})", json={"statecode": 1}).status_code == 204
    assert dv_http.patch(f"quotes({qid})", json={"name": "x"}).status_code == 400
    revised = dv_http.post("ReviseQuote", json={"QuoteId": qid, "ColumnSet": {"AllColumns": True}})
    assert revised.status_code == 200, revised.text
    new = revised.json()
    assert (new["revisionnumber"], new["statecode"], new["quotenumber"]) == (
        1,
        0,
        quote["quotenumber"],
    )
    old = get(dv_http, f"quotes({qid})")
    assert (old["statecode"], old["statuscode"]) == (3, 7)
    copied = dv_http.get("quotedetails", params={"$filter": f"_quoteid_value eq {new['quoteid']}"})
    assert [Decimal(str(d["baseamount"])) for d in copied.json()["value"]] == [Decimal("8.00")]
    twice = dv_http.post("ReviseQuote", json={"QuoteId": qid})
    assert twice.status_code == 400
    nid = new["quoteid"]
    assert dv_http.patch(f"quotes({nid})", json={"statecode": 1}).status_code == 204
    won = dv_http.post(
        "WinQuote", json={"QuoteClose": {"quoteid@odata.bind": f"/quotes({nid})"}, "Status": 4}
    )
    assert won.status_code == 204
    assert get(dv_http, f"quotes({nid})")["statecode"] == 2
    by_update = dv_http.patch(f"quotes({qid})", json={"statecode": 2})
    assert by_update.status_code == 400


def test_invoice_paid_by_update_and_posts_never_change(
    dv: SandboxHandle, dv_http: httpx.Client
) -> None:
    account = first(dv, "accounts")["accountid"]
    invoice = create(
        dv_http,
        "invoices",
        {"name": "INV paid", "customerid_account@odata.bind": f"/accounts({account})"},
    )
    iid = invoice["invoiceid"]
    partial = dv_http.patch(f"invoices({iid})", json={"statecode": 2, "statuscode": 100002})
    assert partial.status_code == 204, partial.text
    complete = dv_http.patch(f"invoices({iid})", json={"statuscode": 100001})
    assert complete.status_code == 204, complete.text
    wrong = dv_http.patch(f"invoices({iid})", json={"statecode": 0})
    assert wrong.status_code == 400
    doc = order(dv, dv_http, "SO timeline")["salesorderid"]
    post = create(
        dv_http,
        "posts",
        {
            "text": "The order status has changed to Released.",
            "regardingobjectid_salesorder@odata.bind": f"/salesorders({doc})",
        },
    )
    assert post["_regardingobjectid_value"] == doc and (post["source"], post["type"]) == (1, 7)
    changed = dv_http.patch(f"posts({post['postid']})", json={"text": "edited"})
    assert changed.status_code == 400 and "does not support entities of type 'post'" in changed.text
    timeline = dv_http.get("posts", params={"$filter": f"_regardingobjectid_value eq {doc}"})
    assert [p["text"] for p in timeline.json()["value"]] == [post["text"]]


def test_orders_page_and_filter(dv: SandboxHandle, dv_http: httpx.Client) -> None:
    for number in range(5):
        order(dv, dv_http, f"SO page {number}")
    seen: list[str] = []
    link: str | None = "salesorders"
    params: dict[str, str] | None = {"$filter": "startswith(name,'SO page ')", "$select": "name"}
    while link:
        body = dv_http.get(link, params=params, headers={"Prefer": "odata.maxpagesize=2"}).json()
        seen += [row["name"] for row in body["value"]]
        link, params = body.get("@odata.nextLink"), None
    assert sorted(seen) == [f"SO page {n}" for n in range(5)]


def test_deep_insert_and_expand_details(dv: SandboxHandle, dv_http: httpx.Client) -> None:
    account = first(dv, "accounts")["accountid"]
    product = first(dv, "products")["productid"]
    before = dv.store.count("salesorders")
    bad = dv_http.post(
        "salesorders",
        json={
            "name": "SO deep bad",
            "customerid_account@odata.bind": f"/accounts({account})",
            "order_details": [
                {"productid@odata.bind": f"/products({product})", "quantity": 1},
                {"quantity": 1},
            ],
        },
    )
    assert bad.status_code == 400 and "needs a product" in bad.text
    assert dv.store.count("salesorders") == before
    made = create(
        dv_http,
        "salesorders",
        {
            "name": "SO deep",
            "customerid_account@odata.bind": f"/accounts({account})",
            "order_details": [
                {"productid@odata.bind": f"/products({product})", "quantity": 2, "priceperunit": 3},
                {
                    "isproductoverridden": True,
                    "productdescription": "Write-in",
                    "quantity": 1,
                    "priceperunit": 4,
                },
            ],
        },
    )
    doc = made["salesorderid"]
    one = get(dv_http, f"salesorders({doc})?$expand=order_details")
    assert [Decimal(str(d["baseamount"])) for d in one["order_details"]] == [6, 4]
    assert Decimal(str(one["totalamount"])) == 10
    listed = dv_http.get(
        "salesorders",
        params={"$filter": "name eq 'SO deep'", "$select": "name", "$expand": "order_details"},
    ).json()["value"]
    assert set(listed[0]) == {"@odata.etag", "name", "order_details"}
    assert len(listed[0]["order_details"]) == 2
    wrong = dv_http.get("salesorders", params={"$expand": "quote_details"})
    assert wrong.status_code == 400


def test_convert_quote_to_sales_order(dv: SandboxHandle, dv_http: httpx.Client) -> None:
    account = first(dv, "accounts")["accountid"]
    product = first(dv, "products")["productid"]
    quote = create(
        dv_http,
        "quotes",
        {"name": "Q convert", "customerid_account@odata.bind": f"/accounts({account})"},
    )
    qid = quote["quoteid"]
    detail = dv_http.post(
        "quotedetails",
        json={
            "quoteid@odata.bind": f"/quotes({qid})",
            "productid@odata.bind": f"/products({product})",
            "quantity": 3,
            "priceperunit": 2,
        },
    )
    assert detail.status_code == 204, detail.text
    draft = dv_http.post("ConvertQuoteToSalesOrder", json={"QuoteId": qid})
    assert draft.status_code == 400 and "Active or Won" in draft.text
    assert dv_http.patch(f"quotes({qid})", json={"statecode": 1}).status_code == 204
    converted = dv_http.post(
        "ConvertQuoteToSalesOrder", json={"QuoteId": qid, "ColumnSet": {"AllColumns": True}}
    )
    assert converted.status_code == 200, converted.text
    order = converted.json()
    assert (order["name"], order["_quoteid_value"], order["_customerid_value"]) == (
        "Q convert",
        qid,
        account,
    )
    assert (order["statecode"], order["statuscode"]) == (0, 1)
    assert order["ordernumber"].startswith("ORD-")
    won = get(dv_http, f"quotes({qid})")
    assert (won["statecode"], won["statuscode"]) == (2, 4)
    lines = dv_http.get(
        "salesorderdetails", params={"$filter": f"_salesorderid_value eq {order['salesorderid']}"}
    ).json()["value"]
    assert [(Decimal(str(d["quantity"])), d["_productid_value"]) for d in lines] == [
        (Decimal(3), product)
    ]
    assert Decimal(str(order["totalamount"])) == Decimal("6.00")
    missing = dv_http.post(
        "ConvertQuoteToSalesOrder", json={"QuoteId": "00000000-0000-0000-0000-000000000001"}
    )
    assert missing.status_code == 404
