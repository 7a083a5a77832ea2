"""Webhook receivers end to end: Business Central subscriptions notify a real receiver over
loopback, the inbox drains into record passes; replays, forged and malformed deliveries are
refused or change nothing twice."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import func, select

from accord.api.webhooks import webhook_router
from accord.runtime.scheduler import Scheduler, passes_and_renewal
from accord.services import inbox, operations
from accord.services.workloads import local_executor
from accord.state.models import WebhookDelivery, WebhookSubscription
from accord.state.workloads import recent
from tests.worlds import World, WorldFactory

SECRET = base64.b64encode(b"a shared secret for tests").decode()


@pytest.fixture
def world(make_world: WorldFactory) -> Iterator[World]:
    built = make_world(
        records=8, create_unmatched=True, dv={"webhook_key": "k3y", "webhook_secret": SECRET}
    )
    operations.sync_full(built.hub)
    for held in operations.conflicts(built.hub):
        operations.resolve(built.hub, held.id, "erp")
    operations.sync_incremental(built.hub)
    options = built.bc.options.webhooks
    options.delay, options.retry_base = 0.2, 0.2
    yield built


@pytest.fixture
def receiver(world: World) -> Iterator[str]:
    app = FastAPI()
    app.include_router(webhook_router(lambda: world.hub))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


def wait_for(check: Callable[[], Any], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def stored(world: World, change: str | None = None) -> int:
    query = select(func.count()).select_from(WebhookDelivery)
    if change is not None:
        query = query.where(WebhookDelivery.change == change)
    with world.hub.db.session() as session:
        return int(session.scalar(query) or 0)


def test_a_business_central_change_reaches_sales_through_the_receiver(
    world: World, receiver: str
) -> None:
    made = inbox.subscribe(world.hub, receiver)
    assert "bc/integrationCustomers" in made and "bc/integrationContacts" in made
    assert inbox.subscribe(world.hub, receiver) == []  # kept, not made twice
    assert inbox.renew_due(world.hub)["renewed"] == 0  # three days left: nothing due
    renewed = inbox.renew_due(world.hub, within=timedelta(days=4))
    expiring = [m for m in made if m.startswith("bc/")]  # Dataverse endpoints never expire
    assert renewed["renewed"] == len(expiring) and not renewed["failed"]
    with world.hub.db.session() as session:
        row = session.scalars(select(WebhookSubscription)).first()
        assert row is not None and len(row.client_state_hash) == 64  # the secret is not kept

    erp_id, crm_id = sorted(world.coupled_pairs("CUSTOMER"))[0]
    world.bc.store.update("customers", erp_id, {"city": "Webhookville"}, world.bc.company_id)
    wait_for(lambda: stored(world) >= 1)
    drained = inbox.drain(world.hub)
    assert drained.changes >= 1
    account = world.dv.store.get("accounts", crm_id)
    assert account is not None and account["address1_city"] == "Webhookville"

    # the same delivery again (a replay): stored once, drained once
    body = world.bc.core.extra["subscriptions"].delivered[-1]
    again = httpx.post(f"{receiver}/webhooks/business-central/bc", json=body)
    assert again.status_code == 202 and again.json()["stored"] == 0
    # what is left is Sales notifying Accord's own write back (an echo): nothing to write
    later = inbox.drain(world.hub)
    assert all(p.direction == "to_erp" for p in later.passes)
    assert sum(p.counts["modified"] + p.counts["inserted"] for p in later.passes) == 0

    # a deleted customer: the mapping's deletion policy (uncouple) applies
    world.bc.store.delete("customers", erp_id, world.bc.company_id)
    wait_for(lambda: stored(world, change="deleted") == 1)
    inbox.drain(world.hub)
    assert (erp_id, crm_id) not in world.coupled_pairs("CUSTOMER")


def test_forged_unknown_and_malformed_business_central_deliveries_store_nothing(
    world: World, receiver: str
) -> None:
    inbox.subscribe(world.hub, receiver)
    with world.hub.db.session() as session:
        sub = session.scalars(select(WebhookSubscription)).first()
        assert sub is not None
    url = f"{receiver}/webhooks/business-central/bc"
    item = {
        "subscriptionId": sub.remote_id,
        "clientState": "guessed",
        "resource": f"api/v2.0/companies({world.bc.company_id})/customers({sub.remote_id})",
        "changeType": "updated",
        "lastModifiedDateTime": "2026-11-27T10:00:00Z",
    }
    forged = httpx.post(url, json={"value": [item]})
    assert forged.status_code == 401 and "clientState" in forged.json()["error"]
    unknown = httpx.post(url, json={"value": [{**item, "subscriptionId": "nope"}]})
    assert unknown.status_code == 404 and "unknown subscription" in unknown.json()["error"]
    malformed = httpx.post(url, content=b"{not json")
    assert malformed.status_code == 400
    handshake = httpx.post(url, params={"validationToken": "abc 123"})
    assert handshake.status_code == 200 and handshake.text == "abc 123"
    assert stored(world) == 0


def _signed(body: bytes, msg_id: str, stamp: int, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(
        base64.b64decode(secret), f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256
    ).digest()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
        "content-type": "application/json",
    }


def test_signed_and_dataverse_receivers_verify_before_storing(world: World, receiver: str) -> None:
    crm_id = sorted(world.coupled_pairs("CUSTOMER"))[0][1]
    body = json.dumps({"changes": [{"entity": "accounts", "id": crm_id}]}).encode()
    now = int(time.time())
    url = f"{receiver}/webhooks/signed/crm"
    ok = httpx.post(url, content=body, headers=_signed(body, "msg-1", now))
    assert ok.status_code == 202 and ok.json()["stored"] == 1
    replay = httpx.post(url, content=body, headers=_signed(body, "msg-1", now))
    assert replay.status_code == 202 and replay.json()["stored"] == 0
    stale = httpx.post(url, content=body, headers=_signed(body, "msg-2", now - 3600))
    assert stale.status_code == 400 and "5 minutes" in stale.json()["error"]
    wrong = _signed(body, "msg-3", now, base64.b64encode(b"another").decode())
    assert httpx.post(url, content=body, headers=wrong).status_code == 401
    assert httpx.post(url, content=body).status_code == 400
    assert httpx.post(f"{receiver}/webhooks/signed/bc", content=body).status_code == 404

    context = {
        "MessageName": "Update",
        "PrimaryEntityName": "account",
        "PrimaryEntityId": crm_id,
        "RequestId": "r-1",
    }
    dv_url = f"{receiver}/webhooks/dataverse/crm"
    assert httpx.post(dv_url, json=context).status_code == 401
    assert httpx.post(dv_url, json=context, params={"code": "wrong"}).status_code == 401
    assert httpx.post(dv_url, json={"x": 1}, params={"code": "k3y"}).status_code == 400
    accepted = httpx.post(dv_url, json=context, params={"code": "k3y"})
    assert accepted.status_code == 202 and accepted.json()["stored"] == 1
    assert stored(world) == 2

    world.dv.store.update("accounts", crm_id, {"telephone1": "+47 555 0199"})
    inbox.drain(world.hub)
    pairs = dict((crm, erp) for erp, crm in world.coupled_pairs("CUSTOMER"))
    customer = world.bc.store.get("customers", pairs[crm_id], world.bc.company_id)
    assert customer is not None and customer["phoneNumber"] == "+47 555 0199"


def test_a_sales_change_reaches_business_central_through_a_dataverse_webhook(
    world: World, receiver: str
) -> None:
    made = inbox.subscribe(world.hub, receiver)
    assert "crm/accounts" in made and "crm/contacts" in made
    steps = world.dv.core.extra["webhook_steps"]
    wait_for(lambda: "accounts" in steps.watchers)
    erp_id, crm_id = sorted(world.coupled_pairs("CUSTOMER"))[1]
    world.dv.store.update("accounts", crm_id, {"telephone1": "+47 555 0142"})
    wait_for(lambda: stored(world) >= 1)
    inbox.drain(world.hub)
    customer = world.bc.store.get("customers", erp_id, world.bc.company_id)
    assert customer is not None and customer["phoneNumber"] == "+47 555 0142"

    assert inbox.unsubscribe(world.hub) == len(made)
    assert world.dv.store.count("serviceendpoints") == 0
    assert world.dv.store.count("sdkmessageprocessingsteps") == 0
    assert not world.bc.core.extra["subscriptions"].items


def test_the_scheduler_renews_business_central_subscriptions_before_they_lapse(
    world: World, receiver: str
) -> None:
    """Subscriptions that live 6 s (3 days at BC) stay alive while the scheduler runs,
    renewed at the sandbox (handshake, If-Match); once it stops they lapse."""
    world.bc.options.webhooks.lifetime = timedelta(seconds=6)
    made = inbox.subscribe(world.hub, receiver)
    at_bc = world.bc.core.extra["subscriptions"].items
    assert len(at_bc) == len([m for m in made if m.startswith("bc/")]) > 0
    first_expiry = {sub.id: sub.expires for sub in at_bc.values()}
    with world.context() as ctx:
        config = ctx.config
    renewal = [
        j for j in passes_and_renewal(config, renew_every=1, renew_within=4) if j.prefix == "renew"
    ]
    executor = local_executor(world.hub, attempts=1)
    scheduler = Scheduler(config.name, renewal, executor.submit, max_backoff=1)
    stop = threading.Event()
    running = threading.Thread(target=scheduler.run, args=(stop,), daemon=True)
    running.start()
    try:
        time.sleep(9)  # well past the first lifetime
        with world.hub.db.session() as session:
            rows = [(r.key, r.status, r.message, r.result) for r in recent(session)]
        assert set(at_bc) == set(first_expiry), rows
        assert all(sub.expires > first_expiry[sub.id] for sub in at_bc.values())
        erp_id = sorted(world.coupled_pairs("CUSTOMER"))[0][0]
        world.bc.store.update("customers", erp_id, {"city": "Renewed"}, world.bc.company_id)
        wait_for(lambda: stored(world) >= 1)  # the renewed subscription still notifies
    finally:
        stop.set()
        running.join(timeout=10)
    wait_for(lambda: not at_bc, seconds=8)  # without the scheduler they lapse
