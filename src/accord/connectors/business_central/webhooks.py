"""Business Central webhook subscriptions from the client side (api-protocols.md §1):
``POST subscriptions`` with a notification URL and a client state, ``PATCH`` with If-Match to
renew before the three-day expiry, ``DELETE`` to stop."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from accord.connectors.base import ChangeSubscription, EntityInfo
from accord.connectors.http.client import HttpClient
from accord.connectors.http.outcomes import failure_of
from accord.errors import TerminalError


class BusinessCentralSubscriptions:
    """Mixin for the Business Central connector: ``self.http`` and ``self.client`` exist."""

    http: HttpClient
    client: Any

    entity: Callable[[str], EntityInfo]
    """The connector's own (declared here only for typing; the mixin defines nothing)."""

    def subscribe(self, entity: str, url: str, client_state: str) -> ChangeSubscription:
        """Subscribe to changes of ``entity`` in the connection's company (BC calls ``url``
        with a validation token before it answers)."""
        group = self.entity(entity).api_group or "v2.0"  # a custom API page notifies too
        resource = f"/api/{group}/companies({self.client.company_id})/{entity}"
        body = {"notificationUrl": url, "resource": resource, "clientState": client_state}
        response = self.http.request("POST", "subscriptions", json=body, idempotent=False)
        _check(response, self.http.connection)
        return _subscription(entity, response.json())

    def renew(self, subscription: ChangeSubscription) -> ChangeSubscription:
        """Extend a subscription by BC's lifetime (a new handshake)."""
        response = self.http.request(
            "PATCH",
            f"subscriptions('{subscription.remote_id}')",
            json={},
            headers={"If-Match": subscription.etag or "*"},
        )
        _check(response, self.http.connection)
        return _subscription(subscription.entity, response.json())

    def unsubscribe(self, subscription: ChangeSubscription) -> None:
        response = self.http.request(
            "DELETE",
            f"subscriptions('{subscription.remote_id}')",
            headers={"If-Match": subscription.etag or "*"},
        )
        if response.status_code != 404:
            _check(response, self.http.connection)


def _subscription(entity: str, body: dict[str, Any]) -> ChangeSubscription:
    return ChangeSubscription(
        remote_id=str(body["subscriptionId"]),
        entity=entity,
        resource=str(body["resource"]),
        expires_at=datetime.fromisoformat(str(body["expirationDateTime"]).replace("Z", "+00:00")),
        etag=body.get("@odata.etag"),
    )


def _check(response: Any, connection: str) -> None:
    if response.status_code >= 400:
        raise TerminalError(
            f"connection {connection!r}: {response.request.method} {response.request.url} "
            f"answered {response.status_code}: {failure_of(response).detail}"
        )
