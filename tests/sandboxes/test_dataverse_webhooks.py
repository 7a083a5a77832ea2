"""Dataverse webhooks: a service endpoint and steps registered through the Web API; the
asynchronous service posts the RemoteExecutionContext with the endpoint's authentication."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from accord.sandboxes import SandboxHandle
from tests.sandboxes.receiver import Receiver, wait_for


@pytest.fixture
def receiver(dv: SandboxHandle) -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.server.shutdown()


def register(http: httpx.Client, url: str, authtype: int, authvalue: str, logical: str) -> str:
    made = http.post(
        "serviceendpoints",
        json={
            "name": "hook",
            "url": url,
            "contract": 8,
            "authtype": authtype,
            "authvalue": authvalue,
        },
    )
    assert made.status_code == 204, made.text
    endpoint = made.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")
    messages = {m["name"]: m["sdkmessageid"] for m in http.get("sdkmessages").json()["value"]}
    filters = http.get(
        "sdkmessagefilters", params={"$filter": f"primaryobjecttypecode eq '{logical}'"}
    ).json()["value"]
    for message in ("Update", "Delete"):
        (filt,) = [f for f in filters if f["_sdkmessageid_value"] == messages[message]]
        table = filt["sdkmessagefilterid"]
        step = http.post(
            "sdkmessageprocessingsteps",
            json={
                "name": f"hook {message}",
                "mode": 1,
                "stage": 40,
                "sdkmessageid@odata.bind": f"/sdkmessages({messages[message]})",
                "sdkmessagefilterid@odata.bind": f"/sdkmessagefilters({table})",
                "eventhandler_serviceendpoint@odata.bind": f"/serviceendpoints({endpoint})",
            },
        )
        assert step.status_code == 204, step.text
    return endpoint


def test_a_webhook_step_posts_the_execution_context_with_its_key(
    dv: SandboxHandle, dv_http: httpx.Client, receiver: Receiver
) -> None:
    endpoint = register(dv_http, receiver.url, 4, "the-key", "account")
    wait_for(lambda: "accounts" in dv.core.extra["webhook_steps"].watchers)
    account, other = dv.store.all("accounts")[:2]
    dv.store.update("accounts", account["accountid"], {"address1_city": "Bodø"})
    wait_for(lambda: bool(receiver.requests))
    query, _headers, context = receiver.requests[0]
    assert query["code"] == ["the-key"]
    assert context["MessageName"] == "Update" and context["PrimaryEntityName"] == "account"
    assert context["PrimaryEntityId"] == account["accountid"] and context["Stage"] == 40
    contacts_before = len(receiver.requests)
    first_contact = dv.store.all("contacts")[0]
    dv.store.update("contacts", first_contact["contactid"], {"jobtitle": "Not watched"})
    dv.store.delete("accounts", other["accountid"])
    wait_for(lambda: len(receiver.requests) == contacts_before + 1)
    assert receiver.requests[-1][2]["MessageName"] == "Delete"
    assert dv_http.delete(f"serviceendpoints({endpoint})").status_code == 204


def test_header_authentication_comes_from_the_settings_xml(
    dv: SandboxHandle, dv_http: httpx.Client, receiver: Receiver
) -> None:
    settings = '<settings><setting name="x-accord-webhook-key" value="hdr" /></settings>'
    register(dv_http, receiver.url, 5, settings, "contact")
    wait_for(lambda: "contacts" in dv.core.extra["webhook_steps"].watchers)
    contact = dv.store.all("contacts")[0]
    dv.store.update("contacts", contact["contactid"], {"jobtitle": "Buyer"})
    wait_for(lambda: bool(receiver.requests))
    query, headers, _context = receiver.requests[0]
    assert "code" not in query
    assert {k.lower(): v for k, v in headers.items()}["x-accord-webhook-key"] == "hdr"
