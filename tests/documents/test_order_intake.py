"""Order intake, Dynamics 365 Sales -> Business Central, end to end over the sandboxes:
a Submitted order becomes one BC order with its lines, and its pick-up is marked on the
Sales order; asked twice, submitted twice or resumed, it is never made twice."""

from __future__ import annotations

import json
from decimal import Decimal

from accord.runtime.executor import Submitted
from accord.runtime.scheduler import Scheduler
from accord.services.workloads import local_executor
from accord.state.leases import hold
from accord.state.store import load_integration
from tests.documents.conftest import MAPPING, Intake


def test_an_order_is_created_once_with_its_lines_and_marked(intake: Intake) -> None:
    first, second = intake.products()[:2]
    order = intake.submit(
        "SO-ONCE",
        [
            {"_productid_value": first["productid"], "quantity": Decimal("2.5")},
            {"_productid_value": second["productid"], "priceperunit": Decimal("7.25")},
        ],
    )
    ran = intake.cli("orders", "create-in-erp", "SO-ONCE", "--json")
    assert ran.code == 0, ran.output
    [doc] = json.loads(ran.stdout)["runs"][0]["documents"]
    assert doc["status"] == "created"
    [made] = intake.bc_orders("SO-ONCE")
    assert made["customerId"] in intake.coupled("CUSTOMER", "erp")
    lines = intake.bc_lines("SO-ONCE")
    assert [(r["lineObjectNumber"], r["quantity"]) for r in lines] == [
        (first["item_number"], Decimal("2.5")),
        (second["item_number"], Decimal(1)),
    ]
    assert lines[1]["unitPrice"] == Decimal("7.25")
    sales = intake.sales_order(order)
    assert (sales["statecode"], sales["statuscode"]) == (1, 3)
    assert sales["lastbackofficesubmit"]

    again = intake.cli("orders", "create-in-erp", "SO-ONCE", "--json")
    assert again.code == 0, again.output
    assert json.loads(again.stdout)["runs"][0]["documents"][0]["status"] == "already"
    # submitted again in Sales (its mark cleared): taken by the automatic run, not made twice
    intake.dv.update_raw("salesorders", order, {"lastbackofficesubmit": None})
    auto = intake.cli("documents", "run", MAPPING, "--all", "--json")
    assert auto.code == 0, auto.output
    assert len(intake.bc_orders("SO-ONCE")) == 1
    assert len(intake.bc_lines("SO-ONCE")) == 2
    assert intake.sales_order(order)["lastbackofficesubmit"]


def test_a_write_in_line_and_a_long_description(intake: Intake) -> None:
    item = intake.products()[0]["item_number"]
    assert intake.cli("documents", "set", MAPPING, "write_in_item", item).code == 0
    product = intake.products()[1]
    long_text = " ".join(f"word{n:04d}" for n in range(250))[:2000]
    assert len(long_text) == 2000
    intake.submit(
        "SO-TEXT",
        [
            {"isproductoverridden": True, "productdescription": "Hand-made brass fitting"},
            {"_productid_value": product["productid"], "description": long_text},
        ],
    )
    ran = intake.cli("orders", "create-in-erp", "SO-TEXT")
    assert ran.code == 0, ran.output
    write_in, item_line, *comments = intake.bc_lines("SO-TEXT")
    assert (write_in["lineType"], write_in["lineObjectNumber"]) == ("Item", item)
    assert write_in["description"] == "Hand-made brass fitting"
    assert item_line["lineObjectNumber"] == product["item_number"]
    assert len(comments) == 19 and {c["lineType"] for c in comments} == {"Comment"}
    assert all(len(c["description"]) <= 100 for c in [item_line, *comments])
    assert item_line["description"] + "".join(c["description"] for c in comments) == long_text
    assert intake.bc_orders("SO-TEXT")[0]["totalAmountExcludingTax"] == Decimal(20)


def test_held_documents_name_the_line_and_complete_once_after_retry(intake: Intake) -> None:
    assert intake.cli("documents", "set", MAPPING, "write_in_item", "").code == 0
    product = intake.products()[0]
    held = intake.submit("SO-HELD", [{"isproductoverridden": True, "productdescription": "X"}])
    intake.submit("SO-GOES-ON", [{"_productid_value": product["productid"]}])
    excluded = next(a for a in intake.dv.all("accounts") if "[excluded]" in a["name"])
    intake.submit(
        "SO-EXCLUDED", [{"_productid_value": product["productid"]}], excluded["accountid"]
    )

    ran = intake.cli("documents", "run", MAPPING, "--all", "--json")
    assert ran.code == 1, ran.output
    status = {d["identity"]: d for d in json.loads(ran.stdout)["runs"][0]["documents"]}
    assert status["SO-GOES-ON"]["status"] == "created"
    assert status["SO-HELD"]["status"] == "held"
    [message] = status["SO-HELD"]["messages"]
    assert "SO-HELD" in message and "line 1 (" in message and "write_in_item" in message
    [message] = status["SO-EXCLUDED"]["messages"]
    assert "SO-EXCLUDED" in message and "filtered out of that mapping" in message
    assert "CUSTOMER" in message
    assert not intake.bc_orders("SO-HELD") and not intake.bc_orders("SO-EXCLUDED")
    assert "SO-HELD" in intake.cli("errors").output
    # held documents wait for a person: the next run leaves them (reported, not failed again)
    later = intake.cli("documents", "run", MAPPING, "--all", "--json")
    assert later.code == 0, later.output
    statuses = {
        d["identity"]: d["status"] for d in json.loads(later.stdout)["runs"][0]["documents"]
    }
    assert statuses == {"SO-HELD": "still_held", "SO-EXCLUDED": "still_held"}
    assert intake.cli("orders", "create-in-erp", "SO-HELD").code == 1
    assert not intake.bc_orders("SO-HELD")

    item = product["item_number"]
    assert intake.cli("documents", "set", MAPPING, "write_in_item", item).code == 0
    retried = intake.cli("retry", "--json")
    assert retried.code == 1, retried.output  # the excluded account's order stays held
    outcomes = {
        d["identity"]: d["status"] for d in json.loads(retried.stdout)["runs"][0]["documents"]
    }
    assert outcomes == {"SO-HELD": "completed", "SO-EXCLUDED": "held"}
    assert intake.cli("retry").code == 1
    assert len(intake.bc_orders("SO-HELD")) == 1 and len(intake.bc_lines("SO-HELD")) == 1
    assert intake.sales_order(held)["lastbackofficesubmit"]
    history = intake.cli("documents", "history", MAPPING, "SO-HELD")
    assert history.code == 0 and "held" in history.output and "coupled" in history.output
    [doc] = json.loads(intake.cli("documents", "history", MAPPING, "SO-HELD", "--json").stdout)[
        "documents"
    ]
    steps = [e["name"] for e in doc["events"]]
    assert doc["state"] == "coupled" and doc["held"] is False
    assert steps[0] == "held" and steps[-1] == "coupled" and steps.count("created") == 1
    assert "written_back:crm" in steps and "write_in_item" in doc["events"][0]["reason"]


def test_a_customer_not_coupled_yet_is_exported_first(intake: Intake) -> None:
    account = intake.dv.insert(
        "accounts",
        {"name": "Brand-new buyer Ltd", "customertypecode": 3, "statecode": 0},
    )
    product = intake.products()[0]
    intake.submit(
        "SO-NEW-CUSTOMER", [{"_productid_value": product["productid"]}], account["accountid"]
    )
    ran = intake.cli("orders", "create-in-erp", "SO-NEW-CUSTOMER")
    assert ran.code == 0, ran.output
    [order] = intake.bc_orders("SO-NEW-CUSTOMER")
    customers = {c["id"]: c["displayName"] for c in intake.bc.all("customers")}
    assert customers[order["customerId"]] == "Brand-new buyer Ltd"


def test_a_sync_takes_submitted_orders_when_automatic(intake: Intake) -> None:
    product = intake.products()[0]
    intake.submit("SO-AUTO", [{"_productid_value": product["productid"]}])
    quiet = intake.cli("sync", "--json")
    assert quiet.code == 0, quiet.output
    # on demand only, by default: only the status pass of the orders transferred before
    followed = json.loads(quiet.stdout).get("documents", [])
    assert all(d["status"] != "created" for r in followed for d in r["documents"])
    assert not intake.bc_orders("SO-AUTO")
    assert intake.cli("documents", "set", MAPPING, "auto_create_orders", "true").code == 0
    try:
        ran = intake.cli("sync", "--json")
    finally:
        intake.cli("documents", "set", MAPPING, "auto_create_orders", "false")
    assert ran.code == 0, ran.output  # the excluded account's order is still held: not again
    runs = {(r["mapping"], r["kind"]): r for r in json.loads(ran.stdout)["documents"]}
    run, followed = runs[MAPPING, "transfer"], runs[MAPPING, "status"]  # then its status pass
    statuses = {d["identity"]: d["status"] for d in run["documents"]}
    assert "SO-AUTO" in {d["identity"] for d in followed["documents"]}
    assert statuses["SO-AUTO"] == "created" and statuses["SO-EXCLUDED"] == "still_held"
    assert len(intake.bc_orders("SO-AUTO")) == 1


def test_a_line_the_erp_refuses_leaves_no_half_written_order(intake: Intake) -> None:
    first, second = intake.products()[:2]
    [item] = [i for i in intake.bc.all("items") if i["number"] == second["item_number"]]
    intake.submit(
        "SO-REFUSED",
        [{"_productid_value": first["productid"]}, {"_productid_value": second["productid"]}],
    )
    intake.bc.update_raw("items", item["id"], {"blocked": True})
    try:
        ran = intake.cli("orders", "create-in-erp", "SO-REFUSED", "--json")
    finally:
        intake.bc.update_raw("items", item["id"], {"blocked": False})
    assert ran.code == 1, ran.output
    [doc] = json.loads(ran.stdout)["runs"][0]["documents"]
    assert doc["status"] == "held"
    assert any("line 2 (" in m and "Blocked" in m for m in doc["messages"]), doc["messages"]
    # BC refused the order with its lines (one deep insert): nothing of it was written
    assert any("nothing of the document was written" in m for m in doc["messages"])
    assert not intake.bc_orders("SO-REFUSED")  # never a BC order lacking a line

    retried = intake.cli("retry", "--mapping", MAPPING, "--json")
    statuses = {
        d["identity"]: d["status"] for d in json.loads(retried.stdout)["runs"][0]["documents"]
    }
    assert statuses["SO-REFUSED"] == "completed", retried.output
    assert len(intake.bc_orders("SO-REFUSED")) == 1
    assert [r["lineObjectNumber"] for r in intake.bc_lines("SO-REFUSED")] == [
        first["item_number"],
        second["item_number"],
    ]


def test_a_document_another_worker_holds_is_left_to_it(intake: Intake) -> None:
    product = intake.products()[0]
    order = intake.submit("SO-BUSY", [{"_productid_value": product["productid"]}])
    hub = intake.world.hub
    with hub.db.session() as session:
        mapping_id = load_integration(session).mapping_ids[MAPPING]
    with hold(hub.db, f"document:{mapping_id}:{order}", "another-worker"):
        busy = intake.cli("orders", "create-in-erp", "SO-BUSY", "--json")
        [doc] = json.loads(busy.stdout)["runs"][0]["documents"]
        assert doc["status"] == "busy" and not intake.bc_orders("SO-BUSY")
    assert intake.cli("orders", "create-in-erp", "SO-BUSY").code == 0
    assert len(intake.bc_orders("SO-BUSY")) == 1


def test_requests_per_order(intake: Intake) -> None:
    """The requests one order of five lines costs (docs/benchmarks.md has the formula)."""
    products = intake.products()
    lines = [{"_productid_value": products[n % 2]["productid"]} for n in range(5)]
    intake.submit("SO-COUNTED", lines)
    for handle in (intake.world.bc, intake.world.dv):
        handle.faults.reset_stats()
    assert intake.cli("orders", "create-in-erp", "SO-COUNTED").code == 0
    counted: dict[str, int] = {}
    for system, handle in (("erp", intake.world.bc), ("crm", intake.world.dv)):
        routes = handle.faults.stats()["by_route"]
        # once per process, not per order: sign-in and BC's company
        per_order = {
            route: n
            for route, n in routes.items()
            if "oauth2" not in route and "openid" not in route and not route.endswith("companies")
        }
        counted[system] = sum(per_order.values())
    # erp: identity lookup, the header with its lines (a deep insert); crm: the order by
    # name, its lines, unlock, mark
    assert counted == {"erp": 2, "crm": 4}


def test_the_scheduler_takes_submitted_orders_when_automatic(intake: Intake) -> None:
    product = intake.products()[0]
    intake.submit("SO-SCHEDULED", [{"_productid_value": product["productid"]}])
    clock = [1000.0]
    with intake.world.hub.context() as ctx:
        config = ctx.config
    executor = local_executor(intake.world.hub, attempts=1)
    scheduler = Scheduler.of(config, executor.submit, clock=lambda: clock[0])

    def intake_runs() -> list[Submitted]:
        return [d for d in scheduler.run_due() if d.row.payload.get("mapping") == MAPPING]

    runs = intake_runs()
    assert [(d.row.kind, d.row.result["documents"]) for d in runs] == [
        ("run_documents", {})  # on demand only: nothing taken
    ]
    assert intake.bc_orders("SO-SCHEDULED") == []
    assert intake.cli("documents", "set", MAPPING, "auto_create_orders", "true").code == 0
    try:
        assert MAPPING not in scheduler.due()  # not due before its interval
        clock[0] += 1800
        [run] = intake_runs()
    finally:
        intake.cli("documents", "set", MAPPING, "auto_create_orders", "false")
    assert run.row.status == "done", run.row.message
    assert run.row.result["documents"]["created"] >= 1
    assert len(intake.bc_orders("SO-SCHEDULED")) == 1


def test_an_order_marked_1900_01_01_counts_as_not_taken(intake: Intake) -> None:
    """Business Central treats a back-office submit date of 1900-01-01 as blank."""
    product = intake.products()[0]
    order = intake.submit("SO-1900", [{"_productid_value": product["productid"]}])
    intake.dv.update_raw("salesorders", order, {"lastbackofficesubmit": "1900-01-01"})
    ran = intake.cli("documents", "run", MAPPING, "--all", "--json")
    statuses = {d["identity"]: d["status"] for d in json.loads(ran.stdout)["runs"][0]["documents"]}
    assert statuses["SO-1900"] == "created"
    assert intake.sales_order(order)["lastbackofficesubmit"] != "1900-01-01"


def test_orders_that_cannot_be_taken_say_why(intake: Intake) -> None:
    product = intake.products()[0]
    line = [{"_productid_value": product["productid"]}]
    intake.submit("SO-" + "L" * 40, line)  # BC's External Document No. keeps 35
    active = intake.submit("SO-ACTIVE", line)
    intake.dv.update_raw("salesorders", active, {"statecode": 0, "statuscode": 1})
    ran = intake.cli("orders", "create-in-erp", "SO-" + "L" * 40, "SO-ACTIVE", "SO-NONE", "--json")
    assert ran.code == 1, ran.output
    found = {d["identity"]: d for d in json.loads(ran.stdout)["runs"][0]["documents"]}
    too_long = found["SO-" + "L" * 40]
    assert too_long["status"] == "held" and "SO-" + "L" * 40 in too_long["messages"][0]
    assert found["SO-ACTIVE"]["status"] == "not_triggered"
    assert found["SO-NONE"]["status"] == "not_found"
    assert not intake.bc_orders("SO-ACTIVE")
    nameless = intake.submit("SO-NAMELESS", line)
    intake.dv.update_raw("salesorders", nameless, {"name": None})
    ran = intake.cli("documents", "run", MAPPING, "--all", "--json")
    [blank] = [d for d in json.loads(ran.stdout)["runs"][0]["documents"] if d["identity"] == ""]
    assert blank["status"] == "held" and "is blank" in blank["messages"][0], blank


def test_two_sales_orders_of_one_name_never_share_a_bc_order(intake: Intake) -> None:
    product = intake.products()[0]
    line = [{"_productid_value": product["productid"]}]
    first = intake.submit("SO-TWIN", line)
    assert intake.cli("orders", "create-in-erp", "SO-TWIN").code == 0
    twin = intake.submit("SO-TWIN", line)
    ran = intake.cli("documents", "run", MAPPING, "--all", "--json")
    [held] = [d for d in json.loads(ran.stdout)["runs"][0]["documents"] if d["source_id"] == twin]
    assert held["status"] == "held" and "belongs to another salesorders" in held["messages"][0]
    assert len(intake.bc_orders("SO-TWIN")) == 1
    assert intake.sales_order(first)["lastbackofficesubmit"]
    assert not intake.sales_order(twin)["lastbackofficesubmit"]
