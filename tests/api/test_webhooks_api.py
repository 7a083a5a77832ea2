"""``accord serve``'s webhook receivers: a stored change enqueues a drain of the inbox, so a
Business Central change reaches Sales in seconds with nothing else running."""

from __future__ import annotations

import time

import httpx

from accord.services import inbox
from tests.api.conftest import Served


def test_a_notified_change_is_drained_by_the_executor(served: Served) -> None:
    world = served.world
    world.bc.options.webhooks.delay = 0.1
    made = inbox.subscribe(world.hub, served.base_url)
    assert "bc/integrationCustomers" in made
    erp_id, crm_id = sorted(world.coupled_pairs("CUSTOMER"))[0]
    world.bc.store.update("customers", erp_id, {"city": "Served City"}, world.bc.company_id)
    deadline = time.monotonic() + 20
    while (world.dv.store.get("accounts", crm_id) or {}).get("address1_city") != "Served City":
        assert time.monotonic() < deadline, "the change never reached Sales"
        time.sleep(0.05)
    with served.client() as client:
        kinds = [w["kind"] for w in client.get("/api/v1/workloads").json()]
    assert "drain_inbox" in kinds


def test_receivers_need_no_token_but_refuse_what_they_cannot_verify(served: Served) -> None:
    url = f"{served.base_url}/webhooks/business-central/bc"
    echoed = httpx.post(url, params={"validationToken": "t0k"})
    assert echoed.status_code == 200 and echoed.text == "t0k"
    forged = httpx.post(url, json={"value": [{"subscriptionId": "x", "clientState": "y"}]})
    assert forged.status_code == 404 and "unknown subscription" in forged.json()["error"]
