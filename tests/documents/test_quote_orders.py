"""A won quote and order intake: the BC order is the quote made into one (``makeOrder``),
also when the order is asked for by name; an intake that went first holds the quote."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.documents.conftest import MAPPING, Intake
from tests.documents.test_quotes import (
    bc_quotes,
    make_quote,
    ok,
    submitted_order,
    take,
)
from tests.sandboxes.conftest import api_client


@pytest.fixture(scope="module")
def dv_http(intake: Intake) -> Iterator[httpx.Client]:
    with api_client(intake.world.dv) as client:
        yield client


def test_an_order_asked_by_name_is_made_from_its_won_quote(
    intake: Intake, dv_http: httpx.Client
) -> None:
    """Microsoft's intake of an order made from a quote coupled to a BC quote converts that
    quote: one BC order, the quote's, and no BC quote left behind."""
    quote = make_quote(intake, dv_http, "QU-BYNAME", "2027-01-31", 2)
    assert take(intake, "QU-BYNAME")[0]["status"] == "created"
    [bc_quote] = bc_quotes(intake, "QU-BYNAME")
    order = submitted_order(dv_http, quote)  # won, converted, submitted; no quote run since
    ran = intake.cli("orders", "create-in-erp", "QU-BYNAME", "--json")
    assert ran.code == 0, ran.output
    assert json.loads(ran.stdout)["runs"][0]["documents"][0]["status"] == "already"
    [bc_order] = intake.bc_orders("QU-BYNAME")
    assert not bc_quotes(intake, "QU-BYNAME")  # makeOrder turned the BC quote into the order
    assert bc_quote["id"] not in {q["id"] for q in intake.bc.all("salesQuotes")}
    assert intake.sales_order(order["salesorderid"])["lastbackofficesubmit"]
    history = intake.cli("documents", "history", "QUOTE", "QU-BYNAME", "--json")
    names = [e["name"] for e in json.loads(history.stdout)["documents"][0]["events"]]
    assert names.count("make_order") == 1 and bc_order["id"]


def test_a_won_quote_whose_order_intake_took_first_is_held_until_its_bc_quote_goes(
    intake: Intake, dv_http: httpx.Client
) -> None:
    quote = make_quote(intake, dv_http, "QU-FIRST", "2027-01-31", 1)
    assert take(intake, "QU-FIRST")[0]["status"] == "created"
    [bc_quote] = bc_quotes(intake, "QU-FIRST")
    order = ok(dv_http.post("ConvertQuoteToSalesOrder", json={"QuoteId": quote}))
    ok(dv_http.patch(f"salesorders({order['salesorderid']})", json={"statecode": 1}))
    # an automatic intake run went first (on demand, the quote would make the order)
    assert intake.cli("documents", "run", MAPPING, "--all").code == 0
    [bc_order] = intake.bc_orders("QU-FIRST")
    ran = intake.cli("quotes", "create-in-erp", "QU-FIRST", "--json")
    assert ran.code == 1, ran.output
    [doc] = json.loads(ran.stdout)["runs"][0]["documents"]
    assert doc["status"] == "held" and bc_order["id"] in doc["messages"][0]
    assert f"delete salesQuotes {bc_quote['id']}" in doc["messages"][0]
    assert intake.bc_orders("QU-FIRST") == [bc_order]  # makeOrder never ran

    intake.bc.delete_raw("salesQuotes", bc_quote["id"])  # a BC user removes the quote
    retried = intake.cli("retry", "--json")  # other held documents may stay held
    [converted] = [
        d
        for run in json.loads(retried.stdout)["runs"]
        for d in run["documents"]
        if d["identity"] == "QU-FIRST"
    ]
    assert (converted["status"], converted["target_id"]) == ("converted", bc_order["id"])
    assert take(intake, "QU-FIRST")[0]["status"] == "already"
    assert intake.bc_orders("QU-FIRST") == [bc_order]
