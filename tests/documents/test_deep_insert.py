"""Order intake with ``writes: deep_insert`` (bc-sales' SALES ORDER): each BC order is made
with all its lines in one request, a chunk's in one ``$batch``; the lines' ids come from the
response and are recorded by position; a refused order has nothing in BC and is held naming
its line while the others go on (a run killed in the middle of the deep inserts:
test_order_intake_crashes.py)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from accord.documents import deep_insert
from accord.documents.outcomes import document_spec
from accord.errors import ConfigError
from tests.documents.conftest import MAPPING, Intake
from tests.documents.test_chunks import _requests
from tests.documents.test_order_intake_crashes import lines_of


def test_a_chunk_is_two_bc_requests_with_comment_and_write_in_lines(intake: Intake) -> None:
    products = intake.products()
    item = products[0]["item_number"]
    assert intake.cli("documents", "set", MAPPING, "write_in_item", item).code == 0
    long_text = " ".join(f"text{n:03d}" for n in range(30))  # 239 characters: 3 lines
    names = [f"DI-{n}" for n in range(4)]
    orders = {
        name: intake.submit(
            name,
            [
                {"_productid_value": products[(n + k) % 2]["productid"], "quantity": k + 1}
                for k in range(3)
            ],
        )
        for n, name in enumerate(names)
    }
    orders["DI-TEXT"] = intake.submit(
        "DI-TEXT",
        [
            {"isproductoverridden": True, "productdescription": "Hand-made brass fitting"},
            {"_productid_value": products[1]["productid"], "description": long_text},
        ],
    )
    for handle in (intake.world.bc, intake.world.dv):
        handle.faults.reset_stats()
    ran = intake.cli("orders", "create-in-erp", *orders, "--json")
    assert ran.code == 0, ran.output
    statuses = {d["identity"]: d["status"] for d in json.loads(ran.stdout)["runs"][0]["documents"]}
    assert statuses == {name: "created" for name in orders}
    # BC: the identity lookup and one $batch of deep inserts (header then lines: 3)
    assert _requests(intake)["erp"] == 2
    for n, name in enumerate(names):
        lines = intake.bc_lines(name)
        assert [(r["sequence"], r["quantity"]) for r in lines] == [
            (10_000, 1),
            (20_000, 2),
            (30_000, 3),
        ]
        assert [r["lineObjectNumber"] for r in lines] == [
            products[(n + k) % 2]["item_number"] for k in range(3)
        ]
        [order] = intake.bc_orders(name)
        assert order["totalAmountExcludingTax"] == Decimal(60)  # (1 + 2 + 3) x 10, once
        assert intake.recorded_lines(orders[name]) == intake.bc_line_ids(name)  # ids recorded
    write_in, item_line, *comments = intake.bc_lines("DI-TEXT")
    assert (write_in["lineObjectNumber"], write_in["description"]) == (
        item,
        "Hand-made brass fitting",
    )
    assert item_line["lineObjectNumber"] == products[1]["item_number"]
    assert [c["lineType"] for c in comments] == ["Comment", "Comment"]
    assert [c["sequence"] for c in comments] == [20_001, 20_002]
    assert item_line["description"] + "".join(c["description"] for c in comments) == long_text
    assert intake.recorded_lines(orders["DI-TEXT"]) == intake.bc_line_ids("DI-TEXT")
    for order in orders.values():
        assert intake.sales_order(order)["lastbackofficesubmit"]


def test_a_refused_order_in_a_chunk_is_held_and_the_others_go_on(intake: Intake) -> None:
    first, second = intake.products()[:2]
    [item] = [i for i in intake.bc.all("items") if i["number"] == second["item_number"]]
    good = {  # one line each, of the first product
        f"DI-GOOD-{n}": intake.submit(f"DI-GOOD-{n}", lines_of(intake, 1)) for n in range(2)
    }
    bad = intake.submit(
        "DI-BAD",
        [{"_productid_value": first["productid"]}, {"_productid_value": second["productid"]}],
    )
    intake.bc.update_raw("items", item["id"], {"blocked": True})
    try:
        ran = intake.cli("orders", "create-in-erp", *good, "DI-BAD", "--json")
    finally:
        intake.bc.update_raw("items", item["id"], {"blocked": False})
    assert ran.code == 1, ran.output
    documents = {d["identity"]: d for d in json.loads(ran.stdout)["runs"][0]["documents"]}
    assert {name: d["status"] for name, d in documents.items()} == {
        **{name: "created" for name in good},
        "DI-BAD": "held",
    }
    messages = documents["DI-BAD"]["messages"]
    assert any(
        m.startswith("document salesorders DI-BAD, line 2 (") and "Blocked" in m for m in messages
    ), messages
    assert not intake.bc_orders("DI-BAD")  # nothing of it: no header, no line
    history = intake.cli("documents", "history", MAPPING, "DI-BAD", "--json")
    events = [e["name"] for e in json.loads(history.stdout)["documents"][0]["events"]]
    assert "held" in events and "discarded" not in events  # never made to be deleted
    assert not intake.sales_order(bad)["lastbackofficesubmit"]
    for name, order in good.items():
        assert len(intake.bc_lines(name)) == 1
        assert intake.sales_order(order)["lastbackofficesubmit"]

    retried = intake.cli("retry", "--mapping", MAPPING, "--json")
    statuses = {
        d["identity"]: d["status"] for d in json.loads(retried.stdout)["runs"][0]["documents"]
    }
    assert statuses["DI-BAD"] == "completed", retried.output
    assert [r["lineObjectNumber"] for r in intake.bc_lines("DI-BAD")] == [
        first["item_number"],
        second["item_number"],
    ]
    assert intake.recorded_lines(bad) == intake.bc_line_ids("DI-BAD")


def test_deep_insert_into_a_system_that_cannot_is_refused_naming_the_mapping(
    intake: Intake,
) -> None:
    with intake.world.context() as ctx:
        deep_insert.check(ctx, document_spec(ctx, MAPPING))  # Business Central can
        invoices = document_spec(ctx, "SALES INVOICE")  # to Dataverse: not built there
        with pytest.raises(ConfigError, match=r"SALES INVOICE: writes deep_insert needs a crm"):
            deep_insert.check(ctx, invoices.model_copy(update={"writes": "deep_insert"}))
