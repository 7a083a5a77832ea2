"""Kills the other crash tests leave out (SIGKILL of a real ``accord`` command, gated in the
sandbox's store as in :mod:`tests.documents.test_order_intake_crashes`): order intake killed
after the Sales mark but before its Business Central write-backs (Your Reference, Work
Description, the invoice discount), and a posted invoice's transfer to Sales killed between
the Sales invoice header and its lines, and a quote's transfer killed right after the BC quote
header was made. The next run completes each once."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.documents.conftest import MAPPING, Intake
from tests.documents.test_invoices import details, posted_invoice, sales_invoices, sync
from tests.documents.test_order_intake_crashes import eventually, killed_after, lines_of
from tests.documents.test_quotes import QUOTE, bc_quote_lines, bc_quotes, dv_http, make_quote
from tests.sandboxes.conftest import api_client

__all__ = ["dv_http"]  # the module-scoped Dataverse client fixture of test_quotes


@pytest.fixture(scope="module")
def bc_client(intake: Intake) -> Iterator[httpx.Client]:
    with api_client(intake.world.bc) as client:
        yield client


def killed_at_insert(intake: Intake, store: Any, entity: str, *args: str) -> None:
    """``accord *args`` killed once ``store`` made its first ``entity`` record."""
    with killed_after(intake, store, "insert_raw", lambda name, *_: name == entity, *args):
        pass


def _texts(intake: Intake, order_id: str) -> dict[str, Any]:
    with intake.world.hub.context() as ctx:
        [row] = ctx.connector("erp").get("salesOrderOperations", [order_id])
    return dict(row.values)


def test_killed_after_the_mark_the_rerun_writes_the_bc_fields_once(intake: Intake) -> None:
    order = intake.submit("SO-KILL-FIELDS", lines_of(intake, 2))
    intake.dv.update_raw(
        "salesorders",
        order,
        {
            "ordernumber": "ORD-KILL",
            "description": "Ring first",
            "discountamount": 1,
            "totaldiscountamount": 1,
        },
    )

    def marked(entity: str, key: str, values: dict[str, Any], *_: Any) -> bool:
        return entity == "salesorders" and bool(values.get("lastbackofficesubmit"))

    with killed_after(
        intake, intake.dv, "update_raw", marked, "orders", "create-in-erp", "SO-KILL-FIELDS"
    ):
        pass
    eventually(lambda: bool(intake.sales_order(order)["lastbackofficesubmit"]))
    [made] = intake.bc_orders("SO-KILL-FIELDS")
    assert made["discountAmount"] == 0 and not _texts(intake, made["id"])["yourReference"]

    ran = intake.cli("documents", "run", MAPPING)  # not automatic: only what stopped resumes
    assert ran.code == 0, ran.output
    [again] = intake.bc_orders("SO-KILL-FIELDS")
    assert again["id"] == made["id"] and again["discountAmount"] == Decimal(1)
    texts = _texts(intake, made["id"])
    assert (texts["yourReference"], texts["workDescription"]) == ("ORD-KILL", "Ring first")
    assert len(intake.bc_lines("SO-KILL-FIELDS")) == 2
    sales = intake.sales_order(order)
    assert (sales["statecode"], sales["statuscode"]) == (1, 3)


def test_killed_between_the_sales_invoice_header_and_its_lines(
    intake: Intake, bc_client: httpx.Client
) -> None:
    _, invoice = posted_invoice(intake, bc_client, "SO-KILL-INVOICE", lines_of(intake, 3))
    number = invoice["number"]
    killed_at_insert(intake, intake.dv, "invoices", "invoices", "sync", number)
    eventually(lambda: len(sales_invoices(intake, number)) == 1)  # made, never recorded
    [made] = sales_invoices(intake, number)
    assert not details(intake, made["invoiceid"])

    runs = sync(intake, number)
    assert runs[0]["status"] == "completed", runs
    [again] = sales_invoices(intake, number)
    assert again["invoiceid"] == made["invoiceid"]
    lines = details(intake, made["invoiceid"])
    assert [Decimal(str(d["quantity"])) for d in lines] == [Decimal(1), Decimal(2), Decimal(3)]
    assert sync(intake, number)[0]["status"] == "already"


def test_killed_after_the_bc_quote_header_the_rerun_finds_it(
    intake: Intake, dv_http: httpx.Client
) -> None:
    make_quote(intake, dv_http, "QU-KILL-HEADER", "2027-05-31", 2)
    killed_at_insert(intake, intake.bc, "salesQuotes", "quotes", "create-in-erp", "QU-KILL-HEADER")
    eventually(lambda: len(bc_quotes(intake, "QU-KILL-HEADER")) == 1)  # made, never recorded
    [made] = bc_quotes(intake, "QU-KILL-HEADER")
    assert not bc_quote_lines(intake, made["id"])

    ran = intake.cli("quotes", "create-in-erp", "QU-KILL-HEADER")
    assert ran.code == 0, ran.output
    assert [q["id"] for q in bc_quotes(intake, "QU-KILL-HEADER")] == [made["id"]]
    assert [r["quantity"] for r in bc_quote_lines(intake, made["id"])] == [1, 2]
    history = intake.cli("documents", "history", QUOTE, "QU-KILL-HEADER").output
    assert "found_again" in history
