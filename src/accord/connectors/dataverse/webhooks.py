"""Dataverse webhooks from the client side: a service endpoint (contract 8, ``WebhookKey``
auth carrying the client state) and one asynchronous post-operation step per message
(Create, Update, Delete) of the table -- what the Plugin Registration Tool registers, done
through the Web API. Endpoints do not expire."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from accord.connectors.base import ChangeSubscription
from accord.connectors.dataverse import client as dv
from accord.connectors.http.client import HttpClient
from accord.connectors.http.outcomes import failure_of
from accord.errors import TerminalError

MESSAGES = ("Create", "Update", "Delete")
NEVER = datetime(9999, 12, 31, tzinfo=UTC)


class DataverseSubscriptions:
    """Mixin for the Dataverse connector: ``self.http`` exists."""

    http: HttpClient

    def subscribe(self, entity: str, url: str, client_state: str) -> ChangeSubscription:
        """Register a webhook endpoint and its steps for ``entity`` (an entity set name)."""
        logical = self._logical_name(entity)
        endpoint = self._create(
            "serviceendpoints",
            {
                "name": f"Accord {entity}",
                "url": url,
                "contract": 8,
                "authtype": 4,
                "authvalue": client_state,
                "messageformat": 2,
            },
        )
        messages = self._rows(
            "sdkmessages", "name eq 'Create' or name eq 'Update' or name eq 'Delete'"
        )
        by_id = {row["sdkmessageid"]: row["name"] for row in messages}
        filters = self._rows("sdkmessagefilters", f"primaryobjecttypecode eq '{logical}'")
        for row in filters:
            name = by_id.get(row["_sdkmessageid_value"])
            if name not in MESSAGES:
                continue
            message, table = row["_sdkmessageid_value"], row["sdkmessagefilterid"]
            self._create(
                "sdkmessageprocessingsteps",
                {
                    "name": f"Accord {entity} {name}",
                    "mode": 1,
                    "stage": 40,
                    "rank": 1,
                    "supporteddeployment": 0,
                    "asyncautodelete": True,
                    "sdkmessageid@odata.bind": f"/sdkmessages({message})",
                    "sdkmessagefilterid@odata.bind": f"/sdkmessagefilters({table})",
                    "eventhandler_serviceendpoint@odata.bind": f"/serviceendpoints({endpoint})",
                },
            )
        return ChangeSubscription(endpoint, entity, f"serviceendpoints({endpoint})", NEVER)

    def renew(self, subscription: ChangeSubscription) -> ChangeSubscription:
        """Nothing to renew: a service endpoint lives until it is deleted."""
        return subscription

    def unsubscribe(self, subscription: ChangeSubscription) -> None:
        """Delete the steps, then the endpoint."""
        steps = self._rows(
            "sdkmessageprocessingsteps", f"_eventhandler_value eq {subscription.remote_id}"
        )
        for step in steps:
            self._check(
                self.http.request(
                    "DELETE", f"sdkmessageprocessingsteps({step['sdkmessageprocessingstepid']})"
                )
            )
        self._check(self.http.request("DELETE", f"serviceendpoints({subscription.remote_id})"))

    def _logical_name(self, entity: str) -> str:
        """The table's logical name for an entity set (``accounts`` -> ``account``), checked
        against the org's metadata."""
        guesses = [entity[:-3] + "y"] if entity.endswith("ies") else []
        guesses += [entity[:-2], entity[:-1]] if entity.endswith("es") else [entity[:-1]]
        for guess in guesses:
            response = self.http.get(
                f"EntityDefinitions(LogicalName='{guess}')",
                params={"$select": "LogicalName,EntitySetName"},
            )
            if response.status_code == 200 and response.json().get("EntitySetName") == entity:
                return guess
        raise TerminalError(
            f"connection {self.http.connection!r}: no table has entity set {entity!r}"
        )

    def _rows(self, entity_set: str, expression: str) -> list[dict[str, Any]]:
        response = self.http.get(entity_set, params={"$filter": expression})
        self._check(response)
        rows: list[dict[str, Any]] = response.json().get("value", [])
        return rows

    def _create(self, entity_set: str, body: dict[str, Any]) -> str:
        response = self.http.request("POST", entity_set, json=body, idempotent=False)
        self._check(response)
        created = dv.id_from_entity_id(response.headers.get("odata-entityid"))
        if created is None:
            raise TerminalError(f"{entity_set}: the create answered no OData-EntityId")
        return created

    def _check(self, response: Any) -> None:
        if response.status_code >= 400:
            raise TerminalError(
                f"connection {self.http.connection!r}: {response.request.method} "
                f"{response.request.url} answered {response.status_code}: "
                f"{failure_of(response).detail}"
            )
