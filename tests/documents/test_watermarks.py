"""Watermarks of document mappings, end to end over the sandboxes: automatic runs of posted
invoices and quotes read only what changed since the last complete run; the mark stays where
it was when a run is killed or a document fails, so nothing is missed; a won quote waiting for
its Sales order is read again until it is made into the order. Documents are "changed long
ago" by touching them with the sandbox's clock two hours back (beyond the mark's overlap)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import httpx
import pytest

from accord.state import documents as state
from accord.state.models import Watermark
from tests.documents.conftest import Intake
from tests.documents.test_invoices import INVOICES, posted_invoice
from tests.documents.test_order_intake_crashes import killed_after
from tests.documents.test_quotes import QUOTE, activate, make_quote, ok, revise, take
from tests.sandboxes.conftest import api_client


@pytest.fixture(scope="module")
def bc_http(intake: Intake) -> Iterator[httpx.Client]:
    with api_client(intake.world.bc) as client:
        yield client


@pytest.fixture(scope="module")
def dv_http(intake: Intake) -> Iterator[httpx.Client]:
    with api_client(intake.world.dv) as client:
        yield client


@contextmanager
def automatic(intake: Intake, mapping: str, setting: str) -> Iterator[None]:
    assert intake.cli("documents", "set", mapping, setting, "true").code == 0
    try:
        yield
    finally:
        intake.cli("documents", "set", mapping, setting, "false")


def run(intake: Intake, mapping: str) -> dict[str, str]:
    """Identity -> status of what an automatic transfer run of ``mapping`` took."""
    ran = intake.cli("documents", "run", mapping, "--json")
    runs = json.loads(ran.stdout)["runs"]
    return {
        d["identity"]: d["status"] for r in runs if r["kind"] == "transfer" for d in r["documents"]
    }


def age(store: Any, entity: str, key: str, field: str) -> None:
    """Every ``entity`` row last changed two hours ago (touched with the clock set back)."""
    store.clock.advance(-7200)
    try:
        for row in store.all(entity):
            store.update_raw(entity, row[key], {})
    finally:
        store.clock.advance(7200)
    assert all(r[field] < store.now_text(store.specs[entity])[:13] for r in store.all(entity))


def mark(intake: Intake, mapping: str, role: str) -> datetime | None:
    with intake.world.hub.db.session() as session:
        mid = state.mapping_row_id(session, "bc-sales", mapping)
        row = session.get(Watermark, (mid, role))
        return row.since if row is not None else None


def test_automatic_invoice_runs_read_only_what_changed(
    intake: Intake, bc_http: httpx.Client
) -> None:
    with automatic(intake, INVOICES, "auto_transfer_invoices"):
        first = run(intake, INVOICES)
        assert first and set(first.values()) <= {"created", "already"}, first
        assert mark(intake, INVOICES, "erp") is not None
        age(intake.bc, "salesInvoices", "id", "lastModifiedDateTime")
        assert run(intake, INVOICES) == {}  # nothing changed: nothing read again
        product = intake.products()[0]
        _, invoice = posted_invoice(
            intake, bc_http, "SO-WM-1", [{"_productid_value": product["productid"]}]
        )
        assert run(intake, INVOICES) == {invoice["number"]: "created"}
        age(intake.bc, "salesInvoices", "id", "lastModifiedDateTime")

        # a document failing (Sales refuses for a while): the mark stays, nothing is missed
        _, second = posted_invoice(
            intake, bc_http, "SO-WM-2", [{"_productid_value": product["productid"]}]
        )
        before = mark(intake, INVOICES, "erp")
        refusing = intake.world.dv.faults.add(
            status=503, path=r"invoices|\$batch", method="POST", count=None
        )
        try:
            failed = run(intake, INVOICES)
        finally:
            intake.world.dv.faults.clear()
        assert refusing.hits and failed == {second["number"]: "failed"}, failed
        assert mark(intake, INVOICES, "erp") == before
        assert run(intake, INVOICES) == {second["number"]: "completed"}
        moved = mark(intake, INVOICES, "erp")  # moved on (in the same second it may stay)
        assert moved is not None and before is not None and moved >= before
        again = run(intake, INVOICES)  # read again only within the mark's overlap
        assert set(again.values()) <= {"already"}, again


def test_a_killed_run_leaves_the_mark_and_the_next_run_takes_what_it_read(
    intake: Intake, bc_http: httpx.Client
) -> None:
    product = intake.products()[1]
    with automatic(intake, INVOICES, "auto_transfer_invoices"):
        run(intake, INVOICES)
        age(intake.bc, "salesInvoices", "id", "lastModifiedDateTime")
        before = mark(intake, INVOICES, "erp")
        _, invoice = posted_invoice(
            intake, bc_http, "SO-WM-KILL", [{"_productid_value": product["productid"]}]
        )
        number = invoice["number"]

        def header(entity: str, values: Any, *_: Any) -> bool:
            return entity == "invoices" and values.get("invoicenumber") == number

        with killed_after(intake, intake.dv, "insert_raw", header, "documents", "run", INVOICES):
            pass
        assert mark(intake, INVOICES, "erp") == before  # killed: the mark did not move
        assert run(intake, INVOICES) == {invoice["number"]: "completed"}
        made = [i for i in intake.dv.all("invoices") if i["invoicenumber"] == invoice["number"]]
        assert len(made) == 1


def test_a_won_quote_waiting_for_its_order_is_read_again_until_converted(
    intake: Intake, dv_http: httpx.Client
) -> None:
    with automatic(intake, QUOTE, "auto_process_quotes"):
        quote = make_quote(intake, dv_http, "QU-WM", "2027-01-31", 1)
        assert run(intake, QUOTE).get("QU-WM") == "created"
        age(intake.dv, "quotes", "quoteid", "modifiedon")
        assert "QU-WM" not in run(intake, QUOTE)  # unchanged: not read again
        order = ok(dv_http.post("ConvertQuoteToSalesOrder", json={"QuoteId": quote}))
        assert run(intake, QUOTE)["QU-WM"] == "waiting"  # won: changed, read
        age(intake.dv, "quotes", "quoteid", "modifiedon")
        assert run(intake, QUOTE)["QU-WM"] == "waiting"  # unchanged, but waiting: read
        ok(dv_http.patch(f"salesorders({order['salesorderid']})", json={"statecode": 1}))
        assert run(intake, QUOTE)["QU-WM"] == "converted"
        age(intake.dv, "quotes", "quoteid", "modifiedon")
        assert "QU-WM" not in run(intake, QUOTE)
        [bc_order] = intake.bc_orders("QU-WM")
        assert bc_order["externalDocumentNumber"] == "QU-WM"
        assert take(intake, "QU-WM")[0]["status"] == "already"
    # a new revision of another quote is a change: taken by the next automatic run
    other = make_quote(intake, dv_http, "QU-WM-REV", "2027-02-28", 1)
    with automatic(intake, QUOTE, "auto_process_quotes"):
        assert run(intake, QUOTE).get("QU-WM-REV") == "created"
        age(intake.dv, "quotes", "quoteid", "modifiedon")
        activate(dv_http, revise(dv_http, other))
        assert run(intake, QUOTE).get("QU-WM-REV") == "created"
