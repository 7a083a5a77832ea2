"""The two writable fields of the custom API group's operations pages (ADR 0024): Your
Reference and Work Description of a Sales Header, written with PATCH on an order or a quote;
the pages still refuse POST and DELETE and keep every other field read-only."""

from __future__ import annotations

import httpx
import pytest

from accord.sandboxes import SandboxHandle
from tests.sandboxes.business_central.test_custom_documents import act, group, one
from tests.sandboxes.business_central.test_documents import customer, items, order, url


@pytest.mark.parametrize("page", ["salesOrderOperations", "salesQuoteOperations"])
def test_your_reference_and_work_description_are_written_with_patch(
    bc: SandboxHandle, bc_http: httpx.Client, page: str
) -> None:
    item = items(bc, 1)[0]
    if page == "salesOrderOperations":
        head = order(bc_http, bc, "OPS-TEXT", [{"itemId": item["id"], "quantity": 1}])
    else:
        buyer = customer(bc, taxable=False)["id"]
        made = bc_http.post(url(bc, "salesQuotes"), json={"customerId": buyer})
        assert made.status_code == 201, made.text
        head = made.json()
        line = bc_http.post(
            url(bc, f"salesQuotes({head['id']})/salesQuoteLines"),
            json={"itemId": item["id"], "quantity": 1},
        )
        assert line.status_code == 201, line.text
    address = group(bc, f"{page}({head['id']})")
    text = "Leave at the gate.\n" + "y" * 1981
    written = bc_http.patch(
        address,
        json={"yourReference": "ORD-1", "workDescription": text, "number": "X"},
        headers={"If-Match": "*"},
    )
    assert written.status_code == 200, written.text
    row = one(bc_http, address)
    assert (row["yourReference"], row["workDescription"]) == ("ORD-1", text)
    assert row["number"] == head["number"]  # read-only: left as it was
    too_long = bc_http.patch(address, json={"yourReference": "R" * 36}, headers={"If-Match": "*"})
    assert too_long.status_code == 400, too_long.text
    assert act(bc_http, bc, page, head["id"], "release").status_code == 204
    later = bc_http.patch(address, json={"yourReference": "ORD-2"}, headers={"If-Match": "*"})
    assert later.status_code == 200, later.text  # neither field tests the status
    assert bc_http.delete(address, headers={"If-Match": "*"}).status_code == 405
    assert bc_http.post(group(bc, page), json={"yourReference": "new"}).status_code == 405
