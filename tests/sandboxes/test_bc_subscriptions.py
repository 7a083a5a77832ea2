"""Business Central webhook subscriptions: handshake, delayed and coalesced notifications,
retries, deletion on a refusing subscriber, renewal and expiry."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from accord.sandboxes import SandboxHandle
from tests.sandboxes.receiver import Receiver, wait_for


@pytest.fixture
def receiver(bc: SandboxHandle) -> Iterator[Receiver]:
    options = bc.options.webhooks
    saved = (options.delay, options.retry_base, options.max_changes)
    options.delay, options.retry_base, options.max_changes = 0.4, 0.2, 5
    found = Receiver()
    yield found
    found.server.shutdown()
    options.delay, options.retry_base, options.max_changes = saved
    bc.core.extra["subscriptions"].items.clear()


def subscribe(
    bc: SandboxHandle, http: httpx.Client, url: str, state: str = "s3cret"
) -> httpx.Response:
    return http.post(
        "subscriptions",
        json={
            "notificationUrl": url,
            "resource": f"/api/v2.0/companies({bc.company_id})/customers",
            "clientState": state,
        },
    )


def test_handshake_then_delayed_coalesced_notifications(
    bc: SandboxHandle, bc_http: httpx.Client, receiver: Receiver
) -> None:
    created = subscribe(bc, bc_http, receiver.url)
    assert created.status_code == 201, created.text
    sub = created.json()
    assert receiver.handshakes == 1 and sub["clientState"] == "s3cret"
    assert sub["subscriptionId"] and sub["expirationDateTime"].endswith("Z")

    first, second = bc.store.all("customers", bc.company_id)[:2]
    bc.store.update("customers", first["id"], {"city": "Oslo"}, bc.company_id)
    time.sleep(0.1)
    bc.store.update("customers", second["id"], {"city": "Bergen"}, bc.company_id)
    new = bc.store.insert("customers", {"displayName": "Hook Ltd"}, bc.company_id)
    assert not receiver.notifications  # the delay coalesces
    wait_for(lambda: bool(receiver.notifications))
    time.sleep(0.3)
    assert len(receiver.notifications) == 1
    items = receiver.changes()
    kinds = {item["resource"].rsplit("(", 1)[1].rstrip(")"): item["changeType"] for item in items}
    assert kinds == {first["id"]: "updated", second["id"]: "updated", new["id"]: "created"}
    assert all(item["clientState"] == "s3cret" for item in items)
    assert all(item["subscriptionId"] == sub["subscriptionId"] for item in items)

    bc.store.delete("customers", new["id"], bc.company_id)
    wait_for(lambda: len(receiver.notifications) == 2)
    (gone,) = receiver.notifications[1]["value"]
    assert gone["changeType"] == "deleted" and new["id"] in gone["resource"]


def test_many_changes_become_one_collection_notification(
    bc: SandboxHandle, bc_http: httpx.Client, receiver: Receiver
) -> None:
    assert subscribe(bc, bc_http, receiver.url).status_code == 201
    for row in bc.store.all("customers", bc.company_id)[:8]:
        bc.store.update("customers", row["id"], {"city": "Tromsø"}, bc.company_id)
    wait_for(lambda: bool(receiver.notifications))
    (item,) = receiver.changes()
    assert item["changeType"] == "collection"
    assert "$filter=lastModifiedDateTime%20gt%20" in item["resource"]


def test_a_failed_handshake_creates_nothing(
    bc: SandboxHandle, bc_http: httpx.Client, receiver: Receiver
) -> None:
    receiver.echo = False
    refused = subscribe(bc, bc_http, receiver.url)
    assert refused.status_code == 400 and "validation" in refused.json()["error"]["message"]
    assert bc_http.get("subscriptions").json()["value"] == []


def test_5xx_is_retried_and_other_errors_delete_the_subscription(
    bc: SandboxHandle, bc_http: httpx.Client, receiver: Receiver
) -> None:
    sub = subscribe(bc, bc_http, receiver.url).json()
    receiver.statuses = [503, 429]
    row = bc.store.all("customers", bc.company_id)[0]
    bc.store.update("customers", row["id"], {"city": "Retry"}, bc.company_id)
    wait_for(lambda: bool(receiver.notifications))
    assert receiver.changes()[0]["changeType"] == "updated"

    receiver.statuses = [410]
    bc.store.update("customers", row["id"], {"city": "Gone"}, bc.company_id)
    wait_for(lambda: bc_http.get("subscriptions").json()["value"] == [])
    missing = bc_http.get(f"subscriptions('{sub['subscriptionId']}')")
    assert missing.status_code == 404


def test_renew_needs_if_match_and_expiry_ends_the_subscription(
    bc: SandboxHandle, bc_http: httpx.Client, receiver: Receiver
) -> None:
    sub = subscribe(bc, bc_http, receiver.url).json()
    path = f"subscriptions('{sub['subscriptionId']}')"
    assert bc_http.patch(path, json={}).status_code == 400
    renewed = bc_http.patch(path, json={}, headers={"If-Match": sub["@odata.etag"]})
    assert renewed.status_code == 200 and receiver.handshakes == 2
    stale = bc_http.patch(path, json={}, headers={"If-Match": sub["@odata.etag"]})
    assert stale.status_code == 412
    live = bc.core.extra["subscriptions"].items
    bc.clock.advance(timedelta(days=3, minutes=1).total_seconds())  # tokens expire too
    try:
        wait_for(lambda: sub["subscriptionId"] not in live)
    finally:
        bc.clock.advance(-timedelta(days=3, minutes=1).total_seconds())
    assert bc_http.get(path).status_code == 404
    deleted = subscribe(bc, bc_http, receiver.url).json()
    gone = bc_http.delete(
        f"subscriptions('{deleted['subscriptionId']}')",
        headers={"If-Match": deleted["@odata.etag"]},
    )
    assert gone.status_code == 204
