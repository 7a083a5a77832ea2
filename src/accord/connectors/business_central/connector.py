"""The Business Central (API v2.0) connector."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from pydantic import model_validator

from accord.connectors.base import (
    ChangeFeed,
    ChangeQuery,
    ChangeTracking,
    DeepInsert,
    EntityInfo,
    WriteOp,
    WriteResult,
)
from accord.connectors.business_central.client import (
    DEFAULT_SCOPE,
    BusinessCentralClient,
    with_environment,
)
from accord.connectors.business_central.custom_api import ENTITIES, api_root
from accord.connectors.business_central.entities import (
    MAX_BATCH_SIZE,
    MAX_PAGE_SIZE,
    MODIFIED,
    bc_values,
)
from accord.connectors.business_central.errors import ERRORS, failed_result
from accord.connectors.business_central.webhooks import BusinessCentralSubscriptions
from accord.connectors.http import HttpClient
from accord.connectors.odata import json_batch
from accord.connectors.odata.connector import ODataConnector, build_http
from accord.connectors.odata.described import Defaults
from accord.connectors.odata.literals import and_filters, datetime_literal
from accord.connectors.odata.paging import prefer_max_page_size
from accord.connectors.odata.writes import Indexed, batch_call_failed, run_batches, writable
from accord.connectors.registry import ConnectorPlugin
from accord.connectors.settings import ConnectionSettings
from accord.errors import Phase

API_GROUP_DOCS = "docs/custom-api-group.md"
"""Where the docs say how a tenant installs the API group Accord uses."""
DEFAULT_RATE_LIMIT = "6000/5 minutes"
"""BC's documented per-user OData limit (a 5-minute sliding window)."""
MAX_IN_FLIGHT = 5
"""BC serves 5 requests per user at once (the rest queue) (api-protocols.md)."""


class BusinessCentralSettings(ConnectionSettings):
    """A Business Central connection: ``company`` (name or id) and ``environment`` (replaces
    the environment segment of ``base_url``)."""

    accepted_auth: ClassVar[tuple[str, ...]] = ("client_credentials", "device_code")

    system: str = "business-central"
    company: str | None = None
    environment: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _lift_legacy_options(cls, data: Any) -> Any:
        """Settings saved before these were fields kept them in ``options``."""
        if isinstance(data, Mapping) and isinstance(data.get("options"), Mapping):
            options = dict(data["options"])
            lifted = {k: options.pop(k) for k in ("company", "environment") if k in options}
            if lifted:
                data = {**lifted, **data, "options": options}
        return data

    def default_scope(self) -> str | None:
        return DEFAULT_SCOPE

    @classmethod
    def from_sandbox(cls, facts: Mapping[str, Any], name: str, **values: Any) -> Any:
        """As the base, with the sandbox's company unless ``company`` is given."""
        if facts.get("company_name") and "company" not in values:
            values["company"] = facts["company_name"]
        return super().from_sandbox(facts, name, **values)


class BusinessCentralConnector(BusinessCentralSubscriptions, ODataConnector):
    """Company-scoped entities of one Business Central environment.

    Settings: :class:`BusinessCentralSettings`; options: ``page_size``, ``batch_size``,
    ``retry``, ``rate_limit``, ``rate_limit_storage``, ``timeout``.
    """

    system = "business-central"
    precision = "ms"
    ENTITIES: ClassVar[Mapping[str, EntityInfo]] = ENTITIES

    def __init__(self, settings: BusinessCentralSettings, http: HttpClient) -> None:
        super().__init__(settings, http)
        self.client = BusinessCentralClient(http, settings.company)
        self._sleep = time.sleep

    def api_root(self, group: str | None) -> str:
        """Root URL of the API an entity lives in (the connection's v2.0 URL for None)."""
        return api_root(self.http.base_url, group)

    def entity_path(self, info: EntityInfo) -> str:
        """The entity set's path relative to its API's root (as ``$batch`` requests name it)."""
        return f"companies({self.client.company_id})/{info.name}"

    def collection(self, info: EntityInfo) -> str:
        """Relative for standard entities; absolute under its group's root otherwise."""
        path = self.entity_path(info)
        return path if info.api_group is None else f"{self.api_root(info.api_group)}/{path}"

    def has_api_group(self, group: str) -> bool:
        """Whether the tenant serves API ``group`` (``<publisher>/<group>/<version>``): its
        ``companies`` answers 200, or 404 when no installed extension publishes it."""
        response = self.http.get(f"{self.api_root(group)}/companies")
        if response.status_code == 404:
            return False
        if response.status_code != 200:
            raise self.error(response, Phase.CONNECT)
        return True

    api_group_docs = API_GROUP_DOCS

    def metadata_path(self, group: str | None) -> str:
        """``$metadata`` of the v2.0 route, or of a custom API group's route
        (``…/api/<publisher>/<group>/<version>/$metadata``)."""
        return "$metadata" if group is None else f"{self.api_root(group)}/$metadata"

    def description_defaults(self) -> Defaults:
        return Defaults(
            ChangeTracking.MODIFIED_SINCE, False, MAX_PAGE_SIZE, MAX_BATCH_SIZE, (MODIFIED,), False
        )

    def check(self) -> None:
        """Authenticate, list companies and make sure the configured one exists."""
        self.client.resolve_company()

    def company(self) -> tuple[str, str]:
        """The company's id and name (``GET companies`` once, when not known yet)."""
        if self.client.company_name is None:
            self.client.resolve_company()
        return self.client.company_id, self.client.company_name or ""

    # -- reads ----------------------------------------------------------------------------
    def read_changes(self, entity: str, query: ChangeQuery) -> ChangeFeed:
        info = self.entity(entity)
        since = (
            f"{info.modified_field} gt {datetime_literal(query.since, 'ms')}"
            if query.since is not None and info.modified_field
            else None
        )
        params: dict[str, str] = {}
        expression = and_filters(since, self.render_filter(info, query.filter))
        if expression:
            params["$filter"] = expression
        select = self.select(info, query.fields)
        if select:
            params["$select"] = select
        headers = prefer_max_page_size(self.page_size(info, query.page_size))
        return self.feed(info, self.collection(info), headers, params)

    # -- writes ---------------------------------------------------------------------------
    def write(self, entity: str, ops: Sequence[WriteOp]) -> list[WriteResult]:
        info = self.entity(entity)
        collection = self.entity_path(info)
        read_only = frozenset(n for n, f in info.fields.items() if f.read_only)

        def request(index: int, op: WriteOp) -> json_batch.BatchRequest:
            rid = str(index)
            if op.kind == "create":
                return json_batch.BatchRequest(
                    rid, "POST", collection, body=bc_values(info, writable(op.values, read_only))
                )
            url = f"{collection}({op.id})"
            headers = {"If-Match": op.etag or "*"}
            if op.kind == "update":
                return json_batch.BatchRequest(
                    rid, "PATCH", url, headers, bc_values(info, writable(op.values, read_only))
                )
            return json_batch.BatchRequest(rid, "DELETE", url, headers)

        return self._batched(info, ops, request, lambda op, answer: self._result(info, op, answer))

    def deep_insert(
        self, entity: str, lines: str, documents: Sequence[DeepInsert]
    ) -> list[WriteResult]:
        """``POST <entity>?$expand=<lines>`` with the lines inline, in ``$batch``es (one
        operation per document): BC creates the header and all its lines or nothing, and
        returns the lines it made."""
        info, line_info = self.entity(entity), self.entity(lines)
        url = f"{self.entity_path(info)}?$expand={lines}"
        read_only = frozenset(n for n, f in info.fields.items() if f.read_only)
        line_read_only = frozenset(n for n, f in line_info.fields.items() if f.read_only)
        ops = [WriteOp("create", d.ref, d.values) for d in documents]

        def request(index: int, op: WriteOp) -> json_batch.BatchRequest:
            body = bc_values(info, writable(op.values, read_only))
            body[lines] = [
                bc_values(line_info, writable(values, line_read_only))
                for values in documents[index].lines
            ]
            return json_batch.BatchRequest(str(index), "POST", url, body=body)

        def result(op: WriteOp, answer: json_batch.BatchResponse) -> WriteResult:
            made = self._result(info, op, answer)
            rows = answer.body.get(lines) if isinstance(answer.body, dict) else None
            if not made.ok or not isinstance(rows, list):
                return made
            found = tuple(self.to_record(line_info, row) for row in rows)
            return dataclasses.replace(made, lines=found)

        return self._batched(info, ops, request, result)

    def _batched(
        self,
        info: EntityInfo,
        ops: Sequence[WriteOp],
        request: Callable[[int, WriteOp], json_batch.BatchRequest],
        result: Callable[[WriteOp, json_batch.BatchResponse], WriteResult],
    ) -> list[WriteResult]:
        """``ops`` sent as ``request`` makes them, in ``$batch``es, retried as the policy
        says; one ``result`` per op, in order."""
        batch_url = (
            "$batch" if info.api_group is None else f"{self.api_root(info.api_group)}/$batch"
        )

        def send(pending: Indexed) -> tuple[dict[int, WriteResult], str | None]:
            response = self.client.post_batch([request(i, op) for i, op in pending], batch_url)
            failed = batch_call_failed(self.http, response, pending)
            if failed is not None:
                return failed
            answers = json_batch.decode(response.content)
            results: dict[int, WriteResult] = {}
            retry_after: str | None = None
            for index, op in pending:
                answer = answers.get(str(index))
                if answer is None:
                    continue
                results[index] = result(op, answer)
                retry_after = answer.headers.get("retry-after") or retry_after
            return results, retry_after

        return run_batches(
            ops,
            self.batch_size(info),
            send,
            self.http.policy,
            self._sleep,
            entity=info.name,
            connection=self.http.connection,
            gate=self.http.gate,
        )

    def _result(
        self, info: EntityInfo, op: WriteOp, answer: json_batch.BatchResponse
    ) -> WriteResult:
        if not answer.ok:
            return failed_result(op.ref, op.id, answer.status, answer.body)
        body: Any = answer.body
        if isinstance(body, dict) and info.key in body:
            record = self.to_record(info, body)
            return WriteResult(
                ref=op.ref, ok=True, id=record.id, record=record, status=answer.status
            )
        return WriteResult(ref=op.ref, ok=True, id=op.id, status=answer.status)


def build(settings: BusinessCentralSettings) -> BusinessCentralConnector:
    """A Business Central connector for ``settings`` (no I/O until first use)."""
    base_url = with_environment(settings.base_url, settings.environment)
    http = build_http(
        settings,
        headers={},
        base_url=base_url,
        default_rate_limit=DEFAULT_RATE_LIMIT,
        errors=ERRORS,
        max_in_flight=MAX_IN_FLIGHT,
    )
    return BusinessCentralConnector(settings, http)


PLUGIN = ConnectorPlugin("business-central", BusinessCentralSettings, build)
"""Registered in the ``accord.connectors`` entry-point group."""
