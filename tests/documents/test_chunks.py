"""Triggered orders taken in chunks (accord.documents.chunks): one run takes many orders
with a batch per step, and each document still ends as the one-by-one steps end it: made
once with its lines and marked, found again when its BC order exists, held naming its line,
left to the worker holding its lease."""

from __future__ import annotations

import json
import uuid

from accord.connectors.base import WriteOp
from accord.connectors.registry import build_connector
from accord.state.leases import hold
from accord.state.store import load_integration
from tests.documents.conftest import MAPPING, Intake


def _requests(intake: Intake) -> dict[str, int]:
    counted = {}
    for system, handle in (("erp", intake.world.bc), ("crm", intake.world.dv)):
        routes = handle.faults.stats()["by_route"]
        counted[system] = sum(
            n
            for route, n in routes.items()
            if "oauth2" not in route and "openid" not in route and not route.endswith("companies")
        )
    return counted


def test_a_chunk_of_orders_is_made_once_each_with_a_batch_per_step(intake: Intake) -> None:
    products = intake.products()
    names = [f"CH-{n}" for n in range(6)]
    orders = {
        name: intake.submit(
            name, [{"_productid_value": products[(n + k) % 2]["productid"]} for k in range(3)]
        )
        for n, name in enumerate(names)
    }
    bad = intake.submit("CH-BAD", [{"_productid_value": str(uuid.uuid4())}])
    bc = build_connector(intake.world.hub.connection("bc"))
    try:  # a BC order of that name exists already (made before a crash, say)
        customer = intake.coupled("CUSTOMER", "erp")[0]
        header = {"externalDocumentNumber": "CH-0", "customerId": customer}
        [made] = bc.write("salesOrders", [WriteOp("create", "h", header)])
        assert made.ok, made.error
    finally:
        bc.close()
    with intake.world.hub.db.session() as session:
        mapping_id = load_integration(session).mapping_ids[MAPPING]
    for handle in (intake.world.bc, intake.world.dv):
        handle.faults.reset_stats()
    with hold(intake.world.hub.db, f"document:{mapping_id}:{orders['CH-5']}", "another-worker"):
        ran = intake.cli(
            "orders", "create-in-erp", *names, "CH-BAD", "--mapping", MAPPING, "--json"
        )
    assert ran.code == 1, ran.output  # CH-BAD is held
    documents = {d["identity"]: d for d in json.loads(ran.stdout)["runs"][0]["documents"]}
    statuses = {name: d["status"] for name, d in documents.items()}
    assert statuses == {
        "CH-0": "completed",  # found again, adopted (alone, through the engine's steps)
        **{f"CH-{n}": "created" for n in range(1, 5)},
        "CH-5": "busy",
        "CH-BAD": "held",
    }
    assert any("line" in m and "does not exist" in m for m in documents["CH-BAD"]["messages"])
    # one by one, 2 BC and 4 Dataverse requests per order (16 and 32 for these 8); in a
    # chunk: BC identity lookup, the headers with their lines (deep inserts in one batch);
    # Dataverse orders, their lines, the missing product of CH-BAD, unlock, mark; and CH-0
    # alone: BC lookup, lines read, lines written, Dataverse lines read, unlock, mark
    assert _requests(intake) == {"erp": 5, "crm": 8}
    for n, name in enumerate(names[:5]):
        assert len(intake.bc_orders(name)) == 1
        lines = intake.bc_lines(name)
        expected = [products[(n + k) % 2]["item_number"] for k in range(3)]
        assert [r["lineObjectNumber"] for r in lines] == expected
        assert [r["sequence"] for r in lines] == [10_000, 20_000, 30_000]
        sales = intake.sales_order(orders[name])
        assert (sales["statecode"], sales["statuscode"]) == (1, 3), name
        assert sales["lastbackofficesubmit"], name
    assert not intake.bc_orders("CH-5") and not intake.bc_orders("CH-BAD")
    history = intake.cli("documents", "history", MAPPING, "CH-1", "--json")
    assert history.code == 0, history.output
    events = [e["name"] for e in json.loads(history.stdout)["documents"][0]["events"]]
    assert events == [
        "picked_up",
        "created",  # with its lines (deep insert)
        "writing_back",
        "unlocked:crm",
        "written_back:crm",
        "coupled",
    ]

    again = intake.cli("orders", "create-in-erp", *names, "--json")
    assert again.code == 0, again.output
    statuses = {
        d["identity"]: d["status"] for d in json.loads(again.stdout)["runs"][0]["documents"]
    }
    assert statuses == {**{f"CH-{n}": "already" for n in range(5)}, "CH-5": "created"}
    assert all(len(intake.bc_orders(name)) == 1 for name in names)

    # the held one, once fixed, is completed by the retry, once
    [line] = [d for d in intake.dv.all("salesorderdetails") if d["_salesorderid_value"] == bad]
    product = products[0]["productid"]
    intake.dv.update_raw(
        "salesorderdetails", line["salesorderdetailid"], {"_productid_value": product}
    )
    retried = intake.cli("retry", "--mapping", MAPPING, "--json")
    outcomes = {
        d["identity"]: d["status"] for d in json.loads(retried.stdout)["runs"][0]["documents"]
    }
    assert outcomes.get("CH-BAD") == "completed", retried.output
    assert [r["lineObjectNumber"] for r in intake.bc_lines("CH-BAD")] == [
        products[0]["item_number"]
    ]
