"""Business events (``raise``) and the status pass's job, end to end over the sandboxes: what
BC does to a transferred order (release, shipments, the invoice) and a posted invoice paid in
full raise one business event each in the document's history, whatever the retries, listed
by ``accord documents events`` and the API with a cursor; the status pass's job is labelled
with the direction it writes in."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import uvicorn
from sqlalchemy import select

from accord.api.app import create_app
from accord.services import tokens
from accord.services.workloads import local_executor
from accord.state import documents as document_state
from accord.state.document_tables import DocumentEvent
from accord.state.models import Job
from tests.api.conftest import free_port
from tests.documents.conftest import MAPPING, Intake
from tests.documents.test_invoices import pay, posted_invoice, sync
from tests.documents.test_order_status import operate, status, transferred
from tests.sandboxes.conftest import api_client


def events(intake: Intake, *args: str) -> list[dict[str, Any]]:
    ran = intake.cli("documents", "events", *args, "--json")
    assert ran.code == 0, ran.output
    found: list[dict[str, Any]] = json.loads(ran.stdout)["events"]
    return found


def of(found: list[dict[str, Any]], identity: str) -> list[tuple[str, dict[str, Any]]]:
    return [(e["event"], e["values"]) for e in found if e["identity"] == identity]


def test_release_and_each_shipment_raise_one_business_event(intake: Intake) -> None:
    _, bc_order = transferred(intake, "SO-EV-SHIP", Decimal(2))
    operate(intake, bc_order["id"], "release")
    for _ in range(2):  # a second pass raises nothing again
        status(intake, "SO-EV-SHIP")
    number = bc_order["number"]
    assert of(events(intake, MAPPING), "SO-EV-SHIP") == [("order.released", {"number": number})]
    operate(intake, bc_order["id"], "ship")
    status(intake, "SO-EV-SHIP")
    status(intake, "SO-EV-SHIP")
    [shipment] = [
        s for s in intake.bc.all("salesShipments") if s["orderNumber"] == bc_order["number"]
    ]
    shipped = of(events(intake, MAPPING, "--name", "order.shipped"), "SO-EV-SHIP")
    assert shipped == [
        (
            "order.shipped",
            {
                "number": shipment["number"],
                "postingDate": str(shipment["postingDate"]),
                "orderNumber": number,
            },
        )
    ]
    listed = events(intake, MAPPING)
    mine = [e for e in listed if e["identity"] == "SO-EV-SHIP"]
    assert [e["event"] for e in mine] == ["order.released", "order.shipped"]
    assert mine[0]["records"]["erp"] == bc_order["id"]
    later = events(intake, MAPPING, "--after", str(mine[0]["id"]))  # a listener's cursor
    assert [e["id"] for e in later if e["identity"] == "SO-EV-SHIP"] == [mine[1]["id"]]
    history = intake.cli("documents", "history", MAPPING, "SO-EV-SHIP", "--json")
    names = [e["name"] for e in json.loads(history.stdout)["documents"][0]["events"]]
    assert names.count("event:order.released") == 1 and names.count("event:order.shipped") == 1


def test_an_invoice_paid_in_full_raises_invoice_paid_once(intake: Intake) -> None:
    _, bc_order = transferred(intake, "SO-EV-PAID", Decimal(1))
    status(intake, "SO-EV-PAID")  # the BC order's number is recorded before BC deletes it
    operate(intake, bc_order["id"], "ship")
    operate(intake, bc_order["id"], "invoice")
    [invoice] = [
        i for i in intake.bc.all("salesInvoices") if i["orderNumber"] == bc_order["number"]
    ]
    with api_client(intake.world.bc) as bc_http:
        number = invoice["number"]
        sync(intake, number)
        total = Decimal(str(invoice["totalAmountIncludingTax"]))
        pay(intake, bc_http, number, Decimal(1))
        sync(intake, number)
        assert of(events(intake, "SALES INVOICE"), number) == []  # partly paid: no event
        pay(intake, bc_http, number, total - 1)
    for _ in range(2):
        sync(intake, number)
    paid = of(events(intake, "SALES INVOICE", "--name", "invoice.paid"), number)
    assert paid == [
        (
            "invoice.paid",
            {
                "number": number,
                "totalAmountIncludingTax": str(invoice["totalAmountIncludingTax"]),
                "orderNumber": invoice["orderNumber"],
            },
        )
    ]
    # the order's invoice posted in BC: invoice.posted on SALES ORDER, once
    status(intake, "SO-EV-PAID")
    status(intake)
    posted = of(events(intake, MAPPING, "--name", "invoice.posted"), "SO-EV-PAID")
    assert [(name, values["number"]) for name, values in posted] == [("invoice.posted", number)]


def test_the_status_pass_job_is_labelled_with_the_direction_it_writes(intake: Intake) -> None:
    """Invoices go to Sales and their status pass writes there too: ``to_crm``, not the
    source's ``to_erp``."""
    with intake.world.hub.db.session() as session:
        before = session.scalar(select(Job.id).order_by(Job.started_at.desc()).limit(1))
    product = intake.products()[1]
    with api_client(intake.world.bc) as bc_http:
        _, invoice = posted_invoice(
            intake, bc_http, "SO-EV-DIR", [{"_productid_value": product["productid"]}]
        )
    runs = intake.cli("invoices", "sync", invoice["number"], "--json")
    jobs = {r["kind"]: r["job_id"] for r in json.loads(runs.stdout)["runs"]}
    with intake.world.hub.db.session() as session:
        direction = {
            kind: session.scalar(select(Job.direction).where(Job.id == job))
            for kind, job in jobs.items()
        }
    assert before is not None
    assert direction == {"transfer": "to_crm", "status": "to_crm"}
    followed = status(intake, "SO-EV-DIR")  # the order's pass writes to Sales as well
    with intake.world.hub.db.session() as session:
        job = session.get(Job, followed["job_id"])
        assert job is not None and job.direction == "to_crm"


def served(intake: Intake) -> Iterator[tuple[str, str]]:
    executor = local_executor(intake.world.hub, background=True)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(intake.world.hub, executor),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    token, _ = tokens.create(intake.world.hub, f"events-{port}")
    try:
        yield f"http://127.0.0.1:{port}", token
    finally:
        server.should_exit = True
        thread.join(10)
        executor.close()


def test_the_api_lists_business_events_after_a_cursor(intake: Intake) -> None:
    _, bc_order = transferred(intake, "SO-EV-API", Decimal(1))
    operate(intake, bc_order["id"], "release")
    status(intake, "SO-EV-API")
    for base, token in served(intake):
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http:
            answer = http.get(
                "/api/v1/documents/events", params={"mapping": MAPPING, "name": "order.released"}
            )
            assert answer.status_code == 200, answer.text
            mine = [e for e in answer.json() if e["identity"] == "SO-EV-API"]
            assert [(e["event"], e["values"]) for e in mine] == [
                ("order.released", {"number": bc_order["number"]})
            ]
            after = http.get("/api/v1/documents/events", params={"after": mine[0]["id"]})
            assert all(e["id"] > mine[0]["id"] for e in after.json())
            wrong = http.get("/api/v1/documents/events", params={"mapping": "NO SUCH"})
            assert wrong.status_code in (400, 404, 422), wrong.text


def test_a_fresh_event_keeps_the_settle_time_so_no_cursor_passes_it(
    intake: Intake,
) -> None:
    """An event younger than EVENT_SETTLE is not listed yet (an earlier id may still be
    committing on PostgreSQL); once settled it is (keeps_the_settle_time)."""
    _, bc_order = transferred(intake, "SO-EV-SETTLE", Decimal(1))
    operate(intake, bc_order["id"], "release")
    status(intake, "SO-EV-SETTLE")
    assert of(events(intake, MAPPING), "SO-EV-SETTLE") == []  # just raised: not yet
    with intake.world.hub.db.session() as session:  # as if five seconds had passed
        for row in session.scalars(
            select(DocumentEvent).where(DocumentEvent.name == "event:order.released")
        ):
            row.occurred_at = row.occurred_at - document_state.EVENT_SETTLE
    assert of(events(intake, MAPPING), "SO-EV-SETTLE") == [
        ("order.released", {"number": bc_order["number"]})
    ]
