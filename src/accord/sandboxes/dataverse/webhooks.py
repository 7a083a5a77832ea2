"""Dataverse webhooks: a service endpoint (contract 8) with steps registered on the Create,
Update and Delete messages of a table. After each such operation the asynchronous service
posts the RemoteExecutionContext to the endpoint's URL, authenticated as the endpoint says:
``WebhookKey`` (4) as ``?code=``, ``HttpHeader`` (5) and ``HttpQueryString`` (6) from the
``<settings><setting name= value=/></settings>`` of its auth value."""

from __future__ import annotations

import logging
import threading
import uuid
import xml.etree.ElementTree as ET
from typing import Any

import httpx

from accord.sandboxes.common.changes import ChangeWatcher, StoreChange
from accord.sandboxes.common.clock import format_s
from accord.sandboxes.common.seed import Gen
from accord.sandboxes.common.store import Row, Store
from accord.sandboxes.dataverse.entities import BY_LOGICAL, BY_NAME

WEBHOOK_CONTRACT = 8
WEBHOOK_KEY, HTTP_HEADER, HTTP_QUERY_STRING = 4, 5, 6
MESSAGES = {"Create": "created", "Update": "updated", "Delete": "deleted"}
_log = logging.getLogger(__name__)


def seed_messages(store: Store, seed_value: int) -> None:
    """The SDK messages and a filter per message and business table, as every org has."""
    gen = Gen(seed_value, "dv-sdk")
    business = [s for s in BY_NAME.values() if not s.name.startswith(("sdk", "serviceend"))]
    messages = [{"sdkmessageid": gen.guid(), "name": name} for name in MESSAGES]
    store.insert_many("sdkmessages", messages)
    filters = [
        {
            "sdkmessagefilterid": gen.guid(),
            "primaryobjecttypecode": spec.type_name,
            "_sdkmessageid_value": message["sdkmessageid"],
        }
        for message in messages
        for spec in business
    ]
    store.insert_many("sdkmessagefilters", filters)


class WebhookSteps:
    """Posts the execution context of every registered webhook step, after the fact."""

    def __init__(self, store: Store, organization: str, poll: float = 0.05) -> None:
        self.store = store
        self.organization = organization
        self.poll = poll
        self.watchers: dict[str, ChangeWatcher] = {}
        self.posted: list[dict[str, Any]] = []
        """Every context delivered (for tests)."""
        self._stop = threading.Event()
        self._http = httpx.Client(timeout=10.0, verify=False)
        self._thread = threading.Thread(target=self._run, name="dv-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the asynchronous service (the sandbox is shutting down)."""
        self._stop.set()
        self._thread.join(timeout=5)
        self._http.close()

    def _run(self) -> None:
        while not self._stop.wait(self.poll):
            try:
                self.tick()
            except Exception:  # the asynchronous service never dies of one bad operation
                _log.exception("webhook step delivery failed")

    def tick(self) -> None:
        """Deliver what changed since the last look, per registered table."""
        steps = [s for s in self.store.all("sdkmessageprocessingsteps") if s["statecode"] == 0]
        by_table: dict[str, list[tuple[str, Row]]] = {}
        for step in steps:
            found = self._resolve(step)
            if found is not None:
                by_table.setdefault(found[0], []).append((found[1], found[2]))
        for table, registered in by_table.items():
            watcher = self.watchers.get(table)
            if watcher is None:
                self.watchers[table] = ChangeWatcher.start(self.store, table)
                continue
            if not watcher.pending():
                continue
            upto, changes = watcher.peek(10_000)
            for change in changes:
                for message, endpoint in registered:
                    if MESSAGES[message] == change.kind:
                        self._post(endpoint, message, table, change)
            watcher.take(upto, changes)
        for table in set(self.watchers) - set(by_table):
            del self.watchers[table]

    def _resolve(self, step: Row) -> tuple[str, str, Row] | None:
        """(entity set, message name, endpoint) of a webhook step, or None."""
        message = self.store.get("sdkmessages", step["_sdkmessageid_value"] or "")
        filt = self.store.get("sdkmessagefilters", step["_sdkmessagefilterid_value"] or "")
        endpoint = self.store.get("serviceendpoints", step["_eventhandler_value"] or "")
        if message is None or filt is None or endpoint is None:
            return None
        spec = BY_LOGICAL.get(filt["primaryobjecttypecode"])
        if spec is None or message["name"] not in MESSAGES:
            return None
        if endpoint["contract"] != WEBHOOK_CONTRACT:
            return None
        return spec.name, str(message["name"]), endpoint

    def _post(self, endpoint: Row, message: str, table: str, change: StoreChange) -> None:
        params, headers = _auth(endpoint)
        context = self.context(message, BY_NAME[table].type_name, change)
        try:
            self._http.post(str(endpoint["url"]), json=context, params=params, headers=headers)
        except httpx.HTTPError as exc:
            _log.warning("webhook %s unreachable: %s", endpoint["url"], exc)
            return
        self.posted.append(context)

    def context(self, message: str, logical: str, change: StoreChange) -> dict[str, Any]:
        """The RemoteExecutionContext of one operation (the fields a receiver reads)."""
        return {
            "BusinessUnitId": str(uuid.UUID(int=1)),
            "CorrelationId": str(uuid.uuid4()),
            "Depth": 1,
            "InitiatingUserId": str(uuid.UUID(int=2)),
            "InputParameters": [],
            "IsExecutingOffline": False,
            "IsInTransaction": False,
            "IsOfflinePlayback": False,
            "IsolationMode": 1,
            "MessageName": message,
            "Mode": 1,
            "OperationCreatedOn": change.at or format_s(self.store.clock.now()),
            "OperationId": str(uuid.uuid4()),
            "OrganizationId": str(uuid.UUID(int=3)),
            "OrganizationName": self.organization,
            "OutputParameters": [],
            "PostEntityImages": [],
            "PreEntityImages": [],
            "PrimaryEntityId": change.key,
            "PrimaryEntityName": logical,
            "RequestId": str(uuid.uuid4()),
            "SecondaryEntityName": "none",
            "SharedVariables": [],
            "Stage": 40,
            "UserId": str(uuid.UUID(int=2)),
        }


def _auth(endpoint: Row) -> tuple[dict[str, str], dict[str, str]]:
    """Query parameters and headers the endpoint's auth type adds."""
    kind, value = endpoint["authtype"], str(endpoint["authvalue"] or "")
    if kind == WEBHOOK_KEY:
        return {"code": value}, {}
    if kind in (HTTP_HEADER, HTTP_QUERY_STRING):
        pairs = (
            {str(s.get("name")): str(s.get("value")) for s in ET.fromstring(value).iter("setting")}
            if value
            else {}
        )
        return (pairs, {}) if kind == HTTP_QUERY_STRING else ({}, pairs)
    return {}, {}
