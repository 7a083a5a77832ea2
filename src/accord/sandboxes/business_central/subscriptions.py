"""Business Central webhook subscriptions, as api-protocols.md §1 "Webhooks" describes them.

``POST subscriptions`` (not under a company) validates the notification URL with a handshake
(``?validationToken=…`` answered 200 with the token) before it answers 201. Changes to the
subscribed entity set are delivered after a delay that starts at the first change and
coalesces what follows; more changes than a notification may carry become one ``collection``
notification with a filter URL. A subscriber answering 408, 429 or 5xx is retried; any other
non-2xx deletes the subscription. Subscriptions expire after three days unless renewed with a
``PATCH`` (If-Match, handshake again).
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx

from accord.sandboxes.business_central.protocol import error, etag, etag_version
from accord.sandboxes.business_central.webhook_options import WebhookOptions
from accord.sandboxes.common.changes import ChangeWatcher, StoreChange
from accord.sandboxes.common.clock import Clock, format_ms
from accord.sandboxes.common.http import Req, Resp
from accord.sandboxes.common.store import Store

_log = logging.getLogger(__name__)
_RESOURCE = re.compile(
    r"^/?api/(?P<route>v2\.0|accord/integration/v1\.0)/"
    r"companies\((?P<company>[0-9a-fA-F-]{36})\)/(?P<entity>[A-Za-z]+)$"
)
_KEY = re.compile(r"^'(?P<id>[^']+)'$")


@dataclass
class Subscription:
    """One subscription and what the notifier knows of its entity set."""

    id: str
    notification_url: str
    resource: str
    client_state: str
    user_id: str
    entity: str
    company: str
    expires: Any
    watcher: ChangeWatcher
    route: str = "v2.0"
    """The API route subscribed (``v2.0`` or a custom API group)."""
    version: int = 1
    modified: str = ""
    pending_since: float | None = None
    """Monotonic time of the first change not delivered yet."""
    retry_at: float | None = None
    failing_since: float | None = None
    attempts: int = 0

    def body(self) -> dict[str, Any]:
        return {
            "@odata.etag": etag(self.id, self.version),
            "subscriptionId": self.id,
            "notificationUrl": self.notification_url,
            "resource": self.resource,
            "timestamp": self.modified,
            "userId": self.user_id,
            "lastModifiedDateTime": self.modified,
            "clientState": self.client_state,
            "expirationDateTime": format_ms(self.expires),
        }


class Subscriptions:
    """The ``subscriptions`` entity set and the notifier that delivers changes."""

    def __init__(self, store: Store, clock: Clock, options: WebhookOptions | None = None):
        self.store = store
        self.clock = clock
        self.options = options or WebhookOptions()
        self.items: dict[str, Subscription] = {}
        self.delivered: list[dict[str, Any]] = []
        """Every notification body sent (for tests and `accord sandbox` stats)."""
        self.lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._http = httpx.Client(timeout=10.0, verify=False)

    # -- the entity set ------------------------------------------------------------------
    def handle(self, req: Req, key: str | None) -> Resp:
        """Route ``subscriptions`` and ``subscriptions('id')``."""
        if key is None:
            if req.method == "GET":
                with self.lock:
                    return Resp(200, {"value": [s.body() for s in self.items.values()]})
            if req.method == "POST":
                return self._create(req)
            return error(405, "BadRequest_MethodNotAllowed", f"'{req.method}' is not allowed.")
        found = _KEY.match(key)
        sub = self.items.get(found["id"]) if found else None
        if sub is None:
            return error(404, "BadRequest_NotFound", f"The subscription {key} does not exist.")
        if req.method == "GET":
            return Resp(200, sub.body())
        if req.method not in ("PATCH", "DELETE"):
            return error(405, "BadRequest_MethodNotAllowed", f"'{req.method}' is not allowed.")
        tag = req.header("if-match")
        if not tag:
            return error(
                400,
                "BadRequest_InvalidToken",
                "Could not validate the client concurrency token required by the service. "
                "Please provide a valid token in the client request.",
            )
        if tag != "*" and etag_version(tag) != sub.version:
            return error(
                412,
                "Request_EntityChanged",
                "Another user has already changed the record.",
            )
        if req.method == "DELETE":
            with self.lock:
                self.items.pop(sub.id, None)
            return Resp(204)
        return self._renew(req, sub)

    def _create(self, req: Req) -> Resp:
        body = req.json() or {}
        url, resource = body.get("notificationUrl"), body.get("resource")
        client_state = body.get("clientState") or ""
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            return error(400, "BadRequest", "The notificationUrl must be an absolute URL.")
        parsed = _RESOURCE.match(resource or "")
        if parsed is None:
            return error(
                400, "BadRequest", f"The resource '{resource}' is not a valid subscription URL."
            )
        company, entity = parsed["company"].lower(), parsed["entity"]
        spec = self.store.specs.get(entity)
        if spec is None or not spec.scoped or not self.store.get_raw("companies", company):
            return error(404, "BadRequest_NotFound", f"The resource '{resource}' does not exist.")
        if len(client_state) > 2048:
            return error(400, "BadRequest", "The clientState may hold at most 2048 characters.")
        if len(self.items) >= self.options.max_subscriptions:
            return error(400, "BadRequest", "The maximum number of subscriptions has been reached.")
        if not self._handshake(url):
            return error(
                400,
                "BadRequest",
                "The subscription was not created: the notification URL did not answer the "
                "validation request with the validation token.",
            )
        now = self.clock.now()
        sub = Subscription(
            id=uuid.uuid4().hex,
            notification_url=url,
            resource=str(resource),
            client_state=client_state,
            user_id=req.client_id or "",
            entity=entity,
            company=company,
            expires=now + self.options.lifetime,
            modified=format_ms(now),
            watcher=ChangeWatcher.start(self.store, entity, company),
            route=parsed["route"],
        )
        with self.lock:
            self.items[sub.id] = sub
        self.start()
        return Resp(201, sub.body(), {"ETag": etag(sub.id, sub.version)})

    def _renew(self, req: Req, sub: Subscription) -> Resp:
        body = req.json() or {}
        url = body.get("notificationUrl", sub.notification_url)
        if not self._handshake(url):
            return error(400, "BadRequest", "The notification URL failed the validation request.")
        now = self.clock.now()
        with self.lock:
            sub.notification_url = url
            sub.client_state = body.get("clientState", sub.client_state)
            sub.expires = now + self.options.lifetime
            sub.modified = format_ms(now)
            sub.version += 1
        return Resp(200, sub.body(), {"ETag": etag(sub.id, sub.version)})

    def _handshake(self, url: str) -> bool:
        token = secrets.token_urlsafe(24)
        joiner = "&" if "?" in url else "?"
        try:
            answer = self._http.post(f"{url}{joiner}validationToken={quote(token)}")
        except httpx.HTTPError:
            return False
        return answer.status_code == 200 and answer.text.strip().strip('"') == token

    # -- the notifier ----------------------------------------------------------------------
    def start(self) -> None:
        """Start delivering notifications in a background thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="bc-webhooks", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the notifier (the sandbox is shutting down)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._http.close()

    def _run(self) -> None:
        while not self._stop.wait(self.options.poll):
            try:
                self.tick()
            except Exception:  # a sandbox's notifier never dies of one bad tick
                _log.exception("webhook notifier tick failed")

    def tick(self) -> None:
        """One look at every subscription: expire, notice changes, deliver what is due.

        Expiry follows the sandbox's clock (tests move it); delays and retries run on real
        time, so a frozen clock never stalls delivery."""
        now = time.monotonic()
        with self.lock:
            subs = list(self.items.values())
        for sub in subs:
            if self.clock.now() >= sub.expires:
                with self.lock:
                    self.items.pop(sub.id, None)
                continue
            if sub.retry_at is not None and now < sub.retry_at:
                continue
            if sub.pending_since is None:
                if sub.watcher.pending():
                    sub.pending_since = now
                continue
            if now - sub.pending_since >= self.options.delay:
                self._deliver(sub, now)

    def _deliver(self, sub: Subscription, now: float) -> None:
        upto, changes = sub.watcher.peek(self.options.max_changes)
        items = self._items(sub, changes)
        try:
            answer = self._http.post(sub.notification_url, json={"value": items})
            status = answer.status_code
        except httpx.HTTPError:
            status = 503
        if 200 <= status < 300:
            self.delivered.append({"value": items})
            sub.watcher.take(upto, changes)
            sub.pending_since = None
            sub.retry_at = sub.failing_since = None
            sub.attempts = 0
            return
        if status in (408, 429) or status >= 500:
            sub.failing_since = sub.failing_since or now
            if now - sub.failing_since > self.options.retry_for.total_seconds():
                with self.lock:
                    self.items.pop(sub.id, None)
                return
            sub.attempts += 1
            sub.retry_at = now + self.options.retry_base * min(2 ** (sub.attempts - 1), 64)
            return
        with self.lock:  # any other answer deletes the subscription
            self.items.pop(sub.id, None)

    def _items(self, sub: Subscription, changes: list[StoreChange]) -> list[dict[str, Any]]:
        base = f"api/{sub.route}/companies({sub.company})/{sub.entity}"
        head = {
            "subscriptionId": sub.id,
            "clientState": sub.client_state,
            "expirationDateTime": format_ms(sub.expires),
        }
        now = self.clock.now()
        if len(changes) > self.options.max_changes:
            since = format_ms(now - timedelta(seconds=self.options.delay + 60))
            return [
                {
                    **head,
                    "resource": f"{base}?$filter=lastModifiedDateTime%20gt%20{since}",
                    "changeType": "collection",
                    "lastModifiedDateTime": format_ms(now),
                }
            ]
        return [
            {
                **head,
                "resource": f"{base}({change.key})",
                "changeType": change.kind,
                "lastModifiedDateTime": change.at,
            }
            for change in changes
        ]
