"""Webhook receivers: verify, store, enqueue -- nothing more (DESIGN §2, api/).

Each receiver checks what its sender proves (a Business Central subscription's client state,
a Dataverse webhook key, a Standard Webhooks signature), turns the body into changes and
stores them in the inbox once (a replay adds nothing). A receiver never calls a connected
system; :func:`accord.services.inbox.drain` runs the record passes. Anything wrong is a 4xx
with a body saying why, and nothing is stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from accord import jsonwire
from accord.errors import AccordError
from accord.services.hub import Hub
from accord.state import inbox
from accord.state.inbox import Change
from accord.state.models import WebhookSubscription

TOLERANCE_SECONDS = 300
"""Standard Webhooks: a timestamp further than this from now is refused (replays)."""
_BC_RESOURCE = re.compile(
    r"companies\((?P<company>[0-9a-fA-F-]{36})\)/(?P<entity>[A-Za-z]+)(?:\((?P<id>[^)]+)\))?"
)


@dataclass
class Reply:
    """What a receiver answers: status, body (JSON or text) and its content type."""

    status: int
    body: Any = field(default_factory=dict)
    content_type: str = "application/json"


def refuse(status: int, why: str) -> Reply:
    return Reply(status, {"error": why})


def client_state_hash(client_state: str) -> str:
    return hashlib.sha256(client_state.encode()).hexdigest()


def receive_business_central(
    hub: Hub, connection: str, query: Mapping[str, str], body: bytes
) -> Reply:
    """A BC notification POST, or its subscription handshake (``?validationToken=``)."""
    token = query.get("validationToken")
    if token is not None:
        return Reply(200, token, "text/plain")
    items = _json_list(body, "value")
    if isinstance(items, Reply):
        return items
    with hub.db.session() as session:
        known = {
            row.remote_id: row
            for row in session.scalars(
                select(WebhookSubscription).where(WebhookSubscription.connection == connection)
            )
        }
        changes = []
        for n, item in enumerate(items):
            sub = known.get(str(item.get("subscriptionId")))
            if sub is None:
                return refuse(404, f"value[{n}]: unknown subscription for {connection!r}")
            given = client_state_hash(str(item.get("clientState") or ""))
            if not hmac.compare_digest(given, sub.client_state_hash):
                return refuse(401, f"value[{n}]: clientState does not match the subscription")
            kind = str(item.get("changeType") or "")
            found = _BC_RESOURCE.search(str(item.get("resource") or ""))
            if kind not in ("created", "updated", "deleted", "collection") or found is None:
                return refuse(400, f"value[{n}]: changeType or resource is malformed")
            record = found["id"] if kind != "collection" else None
            identity = (
                "|".join(str(item.get(k)) for k in ("subscriptionId", "resource", "changeType"))
                + f"|{item.get('lastModifiedDateTime')}"
            )
            changes.append(Change(connection, found["entity"], record, kind, identity))
        added = inbox.store(session, changes)
        session.commit()
    return Reply(202, {"stored": added, "duplicates": len(changes) - added})


def receive_dataverse(
    hub: Hub, connection: str, headers: Mapping[str, str], query: Mapping[str, str], body: bytes
) -> Reply:
    """A Dataverse webhook (a service endpoint posting the RemoteExecutionContext), proved by
    its key: ``WebhookKey`` auth sends it as ``?code=``, ``HttpHeader`` auth as
    ``x-accord-webhook-key``. The key is the client state of an endpoint ``accord webhooks
    subscribe`` registered, or the connection's ``webhook_key`` for one registered by hand."""
    given = query.get("code") or headers.get("x-accord-webhook-key") or ""
    with hub.db.session() as session:
        hashes = list(
            session.scalars(
                select(WebhookSubscription.client_state_hash).where(
                    WebhookSubscription.connection == connection
                )
            )
        )
    digest = client_state_hash(given)
    proved = bool(given) and any(hmac.compare_digest(digest, known) for known in hashes)
    if not proved:
        expected = _secret(hub, connection, "webhook_key")
        if isinstance(expected, Reply) and not hashes:
            return expected
        if isinstance(expected, Reply) or not hmac.compare_digest(
            given.encode(), expected.encode()
        ):
            return refuse(401, "the webhook key is missing or wrong")
    try:
        context = jsonwire.loads(body)
        message = str(context["MessageName"])
        logical = str(context["PrimaryEntityName"])
        record = str(context["PrimaryEntityId"])
        identity = f"{context.get('RequestId') or context.get('CorrelationId')}|{record}|{message}"
    except (ValueError, KeyError, TypeError):
        return refuse(
            400,
            "body is not a RemoteExecutionContext (MessageName, PrimaryEntityName, "
            "PrimaryEntityId)",
        )
    kind = {"Create": "created", "Update": "updated", "Delete": "deleted"}.get(message)
    if kind is None:
        return Reply(202, {"stored": 0, "ignored": message})
    change = Change(connection, f"@{logical}", record, kind, identity)
    with hub.db.session() as session:
        added = inbox.store(session, [change])
        session.commit()
    return Reply(202, {"stored": added, "duplicates": 1 - added})


def receive_signed(hub: Hub, connection: str, headers: Mapping[str, str], body: bytes) -> Reply:
    """A generic webhook signed the Standard Webhooks way (``webhook-id``,
    ``webhook-timestamp``, ``webhook-signature: v1,<base64 HMAC-SHA256>`` over
    ``id.timestamp.body``) whose body lists changes: ``{"changes": [{"entity", "id",
    "change"}]}``. The ordering and e-commerce connectors plug in here."""
    secret = _secret(hub, connection, "webhook_secret")
    if isinstance(secret, Reply):
        return secret
    msg_id, stamp = headers.get("webhook-id"), headers.get("webhook-timestamp")
    signatures = (headers.get("webhook-signature") or "").split()
    if not msg_id or not stamp or not signatures:
        return refuse(400, "webhook-id, webhook-timestamp and webhook-signature are required")
    if not stamp.isdigit() or abs(time.time() - int(stamp)) > TOLERANCE_SECONDS:
        return refuse(400, "webhook-timestamp is not within 5 minutes of now")
    key = secret.removeprefix("whsec_")
    try:
        raw_key = base64.b64decode(key, validate=True)
    except ValueError:
        raw_key = key.encode()
    signed = hmac.new(raw_key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256)
    expected = base64.b64encode(signed.digest()).decode()
    offered = [s.split(",", 1)[1] for s in signatures if s.startswith("v1,")]
    if not any(hmac.compare_digest(expected, s) for s in offered):
        return refuse(401, "webhook-signature does not match the body")
    items = _json_list(body, "changes")
    if isinstance(items, Reply):
        return items
    changes = []
    for n, item in enumerate(items):
        kind = item.get("change", "updated")
        if not item.get("entity") or kind not in ("created", "updated", "deleted"):
            return refuse(400, f"changes[{n}]: entity and change (created|updated|deleted) needed")
        record = str(item["id"]) if item.get("id") is not None else None
        changes.append(Change(connection, str(item["entity"]), record, kind, f"{msg_id}|{n}"))
    with hub.db.session() as session:
        added = inbox.store(session, changes)
        session.commit()
    return Reply(202, {"stored": added, "duplicates": len(changes) - added})


def _json_list(body: bytes, key: str) -> list[dict[str, Any]] | Reply:
    try:
        items = jsonwire.loads(body)[key]
    except (ValueError, KeyError, TypeError):
        return refuse(400, f"body must be a JSON object with a {key!r} list")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        return refuse(400, f"{key!r} must be a list of objects")
    return items


def _secret(hub: Hub, connection: str, option: str) -> str | Reply:
    try:
        settings = hub.connection(connection)
    except AccordError:
        return refuse(404, f"no connection named {connection!r}")
    value = settings.secret_option(option)
    if value is None:
        return refuse(404, f"connection {connection!r} has no {option} set (accord connect --set)")
    return value
