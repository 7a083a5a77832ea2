"""Quotes, Dynamics 365 Sales -> Business Central, end to end over the sandboxes: an Active
quote becomes a BC quote valid until its Effective To; each new revision archives the BC
quote and rebuilds it; a won quote whose Sales order exists becomes the BC order through
makeOrder, coupled to that Sales order so order intake never makes a second one; a
revision of a converted quote is held. Quotes are made, revised, won and converted through
the Dataverse requests, as a person in Sales does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from accord.state.couplings import record_id
from tests.documents.conftest import MAPPING, Intake
from tests.sandboxes.conftest import api_client

QUOTE = "QUOTE"


@pytest.fixture(scope="module")
def dv_http(intake: Intake) -> Iterator[httpx.Client]:
    with api_client(intake.world.dv) as client:
        yield client


def ok(resp: httpx.Response) -> dict[str, Any]:
    assert resp.status_code in (200, 201, 204), resp.text
    return dict(resp.json()) if resp.content else {}


def make_quote(intake: Intake, http: httpx.Client, name: str, effective_to: str, count: int) -> str:
    """An Active quote ``name`` with ``count`` lines (made Draft, then activated)."""
    made = ok(
        http.post(
            "quotes",
            json={
                "name": name,
                "customerid_account@odata.bind": f"/accounts({intake.account()})",
                "effectiveto": effective_to,
            },
            headers={"Prefer": "return=representation"},
        )
    )
    add_lines(intake, http, made["quoteid"], count)
    activate(http, made["quoteid"])
    return str(made["quoteid"])


def add_lines(intake: Intake, http: httpx.Client, quote: str, count: int, first: int = 1) -> None:
    products = intake.products()
    for n in range(count):
        product = products[n % len(products)]["productid"]
        ok(
            http.post(
                "quotedetails",
                json={
                    "quoteid@odata.bind": f"/quotes({quote})",
                    "productid@odata.bind": f"/products({product})",
                    "quantity": first + n,
                    "priceperunit": 5,
                    "sequencenumber": first + n,
                },
            )
        )


def activate(http: httpx.Client, quote: str) -> None:
    ok(http.patch(f"quotes({quote})", json={"statecode": 1, "statuscode": 2}))


def revise(http: httpx.Client, quote: str) -> str:
    """ReviseQuote: the quote closes as Revised; its next revision is a Draft copy."""
    return str(ok(http.post("ReviseQuote", json={"QuoteId": quote}))["quoteid"])


def submitted_order(http: httpx.Client, quote: str) -> dict[str, Any]:
    """The Sales order made from ``quote`` (which wins it), submitted: the BC order is made
    from the quote only now (reference §1.16)."""
    order = ok(http.post("ConvertQuoteToSalesOrder", json={"QuoteId": quote}))
    ok(http.patch(f"salesorders({order['salesorderid']})", json={"statecode": 1}))
    return order


def take(intake: Intake, *names: str) -> list[dict[str, Any]]:
    ran = intake.cli("quotes", "create-in-erp", *names, "--json")
    docs: list[dict[str, Any]] = json.loads(ran.stdout)["runs"][0]["documents"]
    return docs


def bc_quotes(intake: Intake, name: str) -> list[dict[str, Any]]:
    return [q for q in intake.bc.all("salesQuotes") if q["externalDocumentNumber"] == name]


def bc_quote_lines(intake: Intake, quote_id: str) -> list[dict[str, Any]]:
    found = [r for r in intake.bc.all("salesQuoteLines") if r["documentId"] == quote_id]
    return sorted(found, key=lambda r: r["sequence"])


def test_three_revisions_leave_two_archived_versions(intake: Intake, dv_http: httpx.Client) -> None:
    first = make_quote(intake, dv_http, "QU-REV", "2027-01-31", 2)
    [doc] = take(intake, "QU-REV")
    assert doc["status"] == "created", doc
    [made] = bc_quotes(intake, "QU-REV")
    assert made["validUntilDate"] == "2027-01-31"
    assert made["customerId"] in intake.coupled("CUSTOMER", "erp")
    assert [r["quantity"] for r in bc_quote_lines(intake, made["id"])] == [1, 2]

    second = revise(dv_http, first)
    ok(dv_http.patch(f"quotes({second})", json={"effectiveto": "2027-02-28"}))
    add_lines(intake, dv_http, second, 1, first=3)
    activate(dv_http, second)
    [doc] = take(intake, "QU-REV")
    assert (doc["status"], doc["source_id"], doc["target_id"]) == ("created", second, made["id"])
    [rebuilt] = bc_quotes(intake, "QU-REV")
    assert rebuilt["id"] == made["id"] and rebuilt["validUntilDate"] == "2027-02-28"
    assert [r["quantity"] for r in bc_quote_lines(intake, made["id"])] == [1, 2, 3]

    third = revise(dv_http, second)
    ok(dv_http.patch(f"quotes({third})", json={"effectiveto": "2027-03-31"}))
    activate(dv_http, third)
    assert take(intake, "QU-REV")[0]["status"] == "created"
    assert take(intake, "QU-REV")[0]["status"] == "already"  # asked again: nothing twice
    [last] = bc_quotes(intake, "QU-REV")
    assert last["id"] == made["id"] and last["validUntilDate"] == "2027-03-31"
    archives = [a for a in intake.bc.all("salesQuoteArchives") if a["documentId"] == made["id"]]
    assert sorted((a["versionNumber"], a["validUntilDate"]) for a in archives) == [
        (1, "2027-01-31"),
        (2, "2027-02-28"),
    ]

    shown = intake.cli("quotes", "history", "QU-REV", "--json")
    assert shown.code == 0, shown.output
    history = json.loads(shown.stdout)
    assert history["documents"] == [made["id"]]
    assert [(v["versionNumber"], v["validUntilDate"]) for v in history["versions"]] == [
        (1, "2027-01-31"),
        (2, "2027-02-28"),
    ]
    plain = intake.cli("quotes", "history", "QU-REV")
    assert plain.code == 0 and plain.stdout.count("QU-REV:") == 2, plain.output
    assert intake.cli("quotes", "history", "QU-NONE").code == 1


def test_one_revision_is_one_archived_version_in_the_history(
    intake: Intake, dv_http: httpx.Client
) -> None:
    """The revision's own coupling names the BC quote twice (its link and its ``revision``
    event): the history still lists it, and its archived version, once."""
    first = make_quote(intake, dv_http, "QU-ONE-REV", "2027-01-31", 1)
    assert take(intake, "QU-ONE-REV")[0]["status"] == "created"
    [made] = bc_quotes(intake, "QU-ONE-REV")
    second = revise(dv_http, first)
    activate(dv_http, second)
    assert take(intake, "QU-ONE-REV")[0]["status"] == "created"
    shown = intake.cli("quotes", "history", "QU-ONE-REV", "--json")
    assert shown.code == 0, shown.output
    history = json.loads(shown.stdout)
    assert history["documents"] == [made["id"]]
    assert [v["versionNumber"] for v in history["versions"]] == [1]
    events = intake.cli("documents", "history", QUOTE, "QU-ONE-REV", "--json")
    keys = [
        e["detail"]["key"]
        for doc in json.loads(events.stdout)["documents"]
        for e in doc["events"]
        if e["name"] == "archive"
    ]
    assert keys == [f"{made['id']}:archive:0"]  # the archived revision's number, 0


def test_a_won_quote_becomes_the_bc_order_of_its_sales_order_once(
    intake: Intake, dv_http: httpx.Client
) -> None:
    quote = make_quote(intake, dv_http, "QU-WON", "2027-01-31", 2)
    assert take(intake, "QU-WON")[0]["status"] == "created"
    [bc_quote] = bc_quotes(intake, "QU-WON")
    ok(
        dv_http.post(
            "WinQuote",
            json={"QuoteClose": {"quoteid@odata.bind": f"/quotes({quote})"}, "Status": 4},
        )
    )
    [doc] = take(intake, "QU-WON")
    assert doc["status"] == "waiting", doc  # no Sales order made from it yet
    assert bc_quotes(intake, "QU-WON") and not intake.bc_orders("QU-WON")

    order = ok(dv_http.post("ConvertQuoteToSalesOrder", json={"QuoteId": quote}))
    assert (order["name"], order["_quoteid_value"], order["statecode"]) == ("QU-WON", quote, 0)
    # reference §1.16: the Sales order is not Submitted yet, so the BC quote is only released
    [doc] = take(intake, "QU-WON")
    assert doc["status"] == "waiting" and "meets" in doc["messages"][0], doc
    assert not intake.bc_orders("QU-WON")
    [operations] = [r for r in intake.bc.all("salesQuoteOperations") if r["id"] == bc_quote["id"]]
    assert operations["status"] == "Released"
    assert take(intake, "QU-WON")[0]["status"] == "waiting"  # released once, still waiting
    history = intake.cli("documents", "history", QUOTE, "QU-WON", "--json")
    names = [e["name"] for e in json.loads(history.stdout)["documents"][0]["events"]]
    assert names.count("release") == 1 and "make_order" not in names

    # Submitted in Sales: now the BC order is made from the quote
    ok(dv_http.patch(f"salesorders({order['salesorderid']})", json={"statecode": 1}))
    [doc] = take(intake, "QU-WON")
    [bc_order] = intake.bc_orders("QU-WON")
    assert (doc["status"], doc["target_id"]) == ("converted", bc_order["id"]), doc
    assert not bc_quotes(intake, "QU-WON")  # makeOrder turned it into the order
    assert [r["quantity"] for r in intake.bc_lines("QU-WON")] == [Decimal(1), Decimal(2)]
    [coupling] = [
        c for c in intake.world.couplings(MAPPING) if record_id(c, "crm") == order["salesorderid"]
    ]
    assert (coupling.state, record_id(coupling, "erp")) == ("coupled", bc_order["id"])
    assert take(intake, "QU-WON")[0]["status"] == "already"
    converted = json.loads(intake.cli("documents", "events", QUOTE, "--json").stdout)["events"]
    assert [(e["event"], e["values"]["name"]) for e in converted if e["identity"] == "QU-WON"] == [
        ("quote.converted", "QU-WON")
    ]

    # order intake marks it and makes no second BC order
    ran = intake.cli("orders", "create-in-erp", "QU-WON", "--json")
    assert ran.code == 0, ran.output
    assert json.loads(ran.stdout)["runs"][0]["documents"][0]["status"] == "already"
    assert [o["id"] for o in intake.bc_orders("QU-WON")] == [bc_order["id"]]
    assert intake.sales_order(order["salesorderid"])["lastbackofficesubmit"]
    assert bc_quote["id"] not in {q["id"] for q in intake.bc.all("salesQuotes")}


def test_a_revision_of_a_converted_quote_is_held(intake: Intake, dv_http: httpx.Client) -> None:
    quote = make_quote(intake, dv_http, "QU-LATE", "2027-01-31", 1)
    assert take(intake, "QU-LATE")[0]["status"] == "created"
    submitted_order(dv_http, quote)  # wins it too
    assert take(intake, "QU-LATE")[0]["status"] == "converted"
    old = intake.dv.get_raw("quotes", quote)
    # a later revision of the same quote (Sales refuses ReviseQuote on a Won quote; a
    # copy made by another tool or an import carries the next revision number)
    intake.dv.insert(
        "quotes",
        {
            "name": "QU-LATE",
            "quotenumber": old["quotenumber"],
            "revisionnumber": 1,
            "_customerid_value": old["_customerid_value"],
            "statecode": 1,
            "statuscode": 2,
        },
    )
    ran = intake.cli("quotes", "create-in-erp", "QU-LATE", "--json")
    assert ran.code == 1, ran.output
    [doc] = json.loads(ran.stdout)["runs"][0]["documents"]
    assert doc["status"] == "held"
    [message] = doc["messages"]
    assert "QU-LATE" in message and "revision 1 cannot be taken" in message
    assert "make a new" in message and "order" in message
    assert len(intake.bc_orders("QU-LATE")) == 1 and not bc_quotes(intake, "QU-LATE")
    retried = intake.cli("retry", "--json")  # nothing changed: held again, nothing made
    assert not bc_quotes(intake, "QU-LATE"), retried.output


def test_killed_after_make_order_the_rerun_couples_the_order_it_made(
    intake: Intake, dv_http: httpx.Client
) -> None:
    from tests.documents.test_order_intake_crashes import eventually, killed_after

    quote = make_quote(intake, dv_http, "QU-KILL", "2027-01-31", 2)
    assert take(intake, "QU-KILL")[0]["status"] == "created"
    [bc_quote] = bc_quotes(intake, "QU-KILL")
    order = submitted_order(dv_http, quote)
    with killed_after(
        intake,
        intake.bc,
        "delete_raw",
        lambda entity, key, *_: entity == "salesQuotes" and key == bc_quote["id"],
        "quotes",
        "create-in-erp",
        "QU-KILL",
    ):
        pass
    eventually(lambda: not bc_quotes(intake, "QU-KILL"))
    [bc_order] = intake.bc_orders("QU-KILL")  # made, the answer lost
    [doc] = take(intake, "QU-KILL")
    assert (doc["status"], doc["target_id"]) == ("converted", bc_order["id"]), doc
    assert [o["id"] for o in intake.bc_orders("QU-KILL")] == [bc_order["id"]]
    coupled = {record_id(c, "crm"): record_id(c, "erp") for c in intake.world.couplings(MAPPING)}
    assert coupled[order["salesorderid"]] == bc_order["id"]
    [quote_coupling] = [c for c in intake.world.couplings(QUOTE) if record_id(c, "crm") == quote]
    assert quote_coupling.state == "coupled" and not quote_coupling.skipped  # ended, not deleted


def test_active_quotes_are_taken_by_automatic_runs_only_when_set(
    intake: Intake, dv_http: httpx.Client
) -> None:
    make_quote(intake, dv_http, "QU-AUTO", "2027-05-31", 1)
    off = intake.cli("documents", "run", QUOTE, "--json")
    assert off.code == 0, off.output
    assert not bc_quotes(intake, "QU-AUTO")  # auto_process_quotes is off, as in BC
    assert intake.cli("documents", "set", QUOTE, "auto_process_quotes", "true").code == 0
    try:
        ran = intake.cli("documents", "run", QUOTE, "--json")
    finally:
        intake.cli("documents", "set", QUOTE, "auto_process_quotes", "false")
    statuses = {d["identity"]: d["status"] for d in json.loads(ran.stdout)["runs"][0]["documents"]}
    assert statuses["QU-AUTO"] == "created", ran.output
    [made] = bc_quotes(intake, "QU-AUTO")
    assert made["validUntilDate"] == "2027-05-31"


def test_a_make_order_that_business_central_refuses_holds_the_quote_with_its_message(
    intake: Intake, dv_http: httpx.Client
) -> None:
    quote = make_quote(intake, dv_http, "QU-EMPTY", "2027-01-31", 0)  # no lines
    order = submitted_order(dv_http, quote)
    ran = intake.cli("quotes", "create-in-erp", "QU-EMPTY", "--json")
    assert ran.code == 1, ran.output
    [doc] = json.loads(ran.stdout)["runs"][0]["documents"]
    assert doc["status"] == "held"
    assert "refused makeOrder" in doc["messages"][0]
    assert "There is nothing to convert." in doc["messages"][0]
    assert bc_quotes(intake, "QU-EMPTY") and not intake.bc_orders("QU-EMPTY")
    assert order["salesorderid"] not in {
        record_id(c, "crm") for c in intake.world.couplings(MAPPING)
    }


def test_killed_after_the_archive_the_rerun_archives_once(
    intake: Intake, dv_http: httpx.Client
) -> None:
    from tests.documents.test_order_intake_crashes import eventually, killed_after

    first = make_quote(intake, dv_http, "QU-KILL-ARCH", "2027-01-31", 1)
    assert take(intake, "QU-KILL-ARCH")[0]["status"] == "created"
    [made] = bc_quotes(intake, "QU-KILL-ARCH")
    second = revise(dv_http, first)
    activate(dv_http, second)

    def versions() -> list[dict[str, Any]]:
        rows = intake.bc.all("salesQuoteArchives")
        return [a for a in rows if a["documentId"] == made["id"]]

    with killed_after(
        intake,
        intake.bc,
        "insert_raw",
        lambda entity, *_: entity == "salesQuoteArchives",
        "quotes",
        "create-in-erp",
        "QU-KILL-ARCH",
    ):
        pass
    eventually(lambda: len(versions()) == 1)
    [doc] = take(intake, "QU-KILL-ARCH")
    assert (doc["status"], doc["source_id"]) == ("completed", second), doc
    assert [v["versionNumber"] for v in versions()] == [1]  # archived once
    assert [q["id"] for q in bc_quotes(intake, "QU-KILL-ARCH")] == [made["id"]]


def test_a_sync_makes_the_bc_order_from_the_won_quote_before_order_intake(
    intake: Intake, dv_http: httpx.Client
) -> None:
    """Both automatic: the won quote's makeOrder runs before order intake, which then only
    marks the Sales order; one BC order, made from the quote."""
    quote = make_quote(intake, dv_http, "QU-SYNC", "2027-01-31", 1)
    assert take(intake, "QU-SYNC")[0]["status"] == "created"
    order = submitted_order(dv_http, quote)
    automatic = ((QUOTE, "auto_process_quotes"), (MAPPING, "auto_create_orders"))
    for mapping, setting in automatic:
        assert intake.cli("documents", "set", mapping, setting, "true").code == 0
    try:
        ran = intake.cli("sync", "--json")
    finally:
        for mapping, setting in automatic:
            intake.cli("documents", "set", mapping, setting, "false")
    runs = [r for r in json.loads(ran.stdout)["documents"] if r["kind"] == "transfer"]
    seen = [
        (r["mapping"], d["status"])
        for r in runs
        for d in r["documents"]
        if d["identity"] == "QU-SYNC"
    ]
    assert seen == [(QUOTE, "converted"), (MAPPING, "already")], ran.output
    [bc_order] = intake.bc_orders("QU-SYNC")
    assert not bc_quotes(intake, "QU-SYNC")  # the order is the quote made into one
    assert intake.sales_order(order["salesorderid"])["lastbackofficesubmit"]
    assert {record_id(c, "erp") for c in intake.world.couplings(MAPPING)} >= {bc_order["id"]}
