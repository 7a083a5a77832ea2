"""The Dataverse Web API (Dynamics 365 Sales) connector."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from accord.config.filters import Filter
from accord.connectors.base import (
    ChangeFeed,
    ChangeQuery,
    ChangeTracking,
    EntityInfo,
    Page,
    Record,
    WriteOp,
    WriteResult,
)
from accord.connectors.dataverse import client as dv
from accord.connectors.dataverse.documents import state_request
from accord.connectors.dataverse.entities import (
    ENTITIES,
    MAX_BATCH_SIZE,
    MAX_PAGE_SIZE,
    MODIFIED,
    OPTION_SETS,
)
from accord.connectors.dataverse.errors import ERRORS, failed_result
from accord.connectors.dataverse.webhooks import DataverseSubscriptions
from accord.connectors.http import HttpClient, Outcome
from accord.connectors.odata import multipart
from accord.connectors.odata.connector import ODataConnector, build_http
from accord.connectors.odata.described import Defaults
from accord.connectors.odata.literals import and_filters, datetime_literal, is_blank
from accord.connectors.odata.paging import prefer_max_page_size
from accord.connectors.odata.writes import Indexed, batch_call_failed, run_batches
from accord.connectors.registry import ConnectorPlugin
from accord.connectors.settings import ConnectionSettings
from accord.errors import Phase

DEFAULT_RATE_LIMIT = "6000/5 minutes"
"""Dataverse service protection: 6000 requests per user per 300-second sliding window."""
MAX_IN_FLIGHT = 52
"""Dataverse serves 52 requests per user at once (api-protocols.md)."""


class _Snapshot:
    """A one-page change feed of an option set (no change information)."""

    def __init__(self, records: list[Record]) -> None:
        self._records = records

    @property
    def next_token(self) -> str | None:
        return None

    @property
    def server_time(self) -> datetime | None:
        return None

    def __iter__(self) -> Iterator[Page]:
        yield Page(records=self._records)


class DataverseSettings(ConnectionSettings):
    """A Dataverse connection (no fields of its own yet); the scope defaults to the org's
    ``/.default``."""

    accepted_auth: ClassVar[tuple[str, ...]] = ("client_credentials", "device_code")

    system: str = "dataverse"

    def default_scope(self) -> str | None:
        return dv.default_scope(self.base_url)


class DataverseConnector(DataverseSubscriptions, ODataConnector):
    """Tables and option sets of one Dataverse environment.

    Options: ``page_size``, ``batch_size``, ``retry``, ``rate_limit``, ``rate_limit_storage``,
    ``timeout``, ``return_records`` (default true: writes return the stored row; false saves
    the service serializing it, and results then carry only the id).
    """

    system = "dataverse"
    precision = "s"
    action_namespace = "Microsoft.Dynamics.CRM"
    ENTITIES: ClassVar[Mapping[str, EntityInfo]] = ENTITIES

    def __init__(self, settings: ConnectionSettings, http: HttpClient) -> None:
        super().__init__(settings, http)
        self._sleep = time.sleep

    def collection(self, info: EntityInfo) -> str:
        return info.name

    def metadata_path(self, group: str | None) -> str:
        """The organization's CSDL with annotations (``Computed`` marks read-only columns)."""
        return "$metadata?annotations=true"

    def description_defaults(self) -> Defaults:
        return Defaults(
            ChangeTracking.DELTA, True, MAX_PAGE_SIZE, MAX_BATCH_SIZE, (MODIFIED,), True
        )

    def pseudo_entities(self) -> Mapping[str, tuple[str, str]]:
        """Option sets: the table's column must exist."""
        return {name: (o.table, o.attribute) for name, o in OPTION_SETS.items()}

    def check(self) -> None:
        """Authenticate and call ``WhoAmI``."""
        response = self.http.get("WhoAmI")
        if response.status_code != 200:
            raise self.error(response, Phase.CONNECT)

    # -- reads ----------------------------------------------------------------------------
    def read_changes(self, entity: str, query: ChangeQuery) -> ChangeFeed:
        """Delta link when ``query.token``; else change tracking when reading everything
        unfiltered; else a plain ``modifiedon gt since`` query (no token)."""
        info = self.entity(entity)
        if entity in OPTION_SETS:
            return _Snapshot(self._options(entity))
        size = self.page_size(info, query.page_size)
        select = self.select(info, query.fields) or ",".join(info.fields)
        if query.token:
            return self.feed(info, query.token, prefer_max_page_size(size, "odata.track-changes"))
        since = (
            f"{info.modified_field} gt {datetime_literal(query.since, 's')}"
            if query.since is not None and info.modified_field
            else None
        )
        expression = and_filters(since, self.render_filter(info, query.filter))
        params = {"$select": select}
        if expression:
            params["$filter"] = expression
            headers = prefer_max_page_size(size)
        else:
            headers = prefer_max_page_size(size, "odata.track-changes")
        return self.feed(info, self.collection(info), headers, params)

    def _options(self, entity: str) -> list[Record]:
        path, params = dv.option_set_path(OPTION_SETS[entity])
        response = self.http.get(path, params=params)
        if response.status_code != 200:
            raise self.error(response)
        return dv.option_records(response.json())

    def get(
        self, entity: str, ids: Sequence[str], fields: Sequence[str] | None = None
    ) -> list[Record]:
        if entity in OPTION_SETS:
            wanted = {str(i) for i in ids}
            return [r for r in self._options(entity) if r.id in wanted]
        return super().get(entity, ids, fields)

    def find(
        self,
        entity: str,
        equals: Mapping[str, Any],
        *,
        case_sensitive: bool = True,
        filter: Filter | None = None,
        limit: int = 2,
    ) -> list[Record]:
        if entity not in OPTION_SETS:
            return super().find(
                entity, equals, case_sensitive=case_sensitive, filter=filter, limit=limit
            )
        criteria = {k: v for k, v in equals.items() if not is_blank(v)}
        if not criteria:
            return []

        def same(a: Any, b: Any) -> bool:
            if isinstance(a, str) and isinstance(b, str) and not case_sensitive:
                return a.lower() == b.lower()
            return bool(a == b)

        found = [
            r
            for r in self._options(entity)
            if all(same(r.values.get(k), v) for k, v in criteria.items())
        ]
        return found[:limit]

    def find_any(
        self,
        entity: str,
        field: str,
        values: Sequence[Any],
        fields: Sequence[str] | None = None,
    ) -> list[Record]:
        if entity in OPTION_SETS:
            return self._options(entity)  # a handful of options: the caller compares
        return super().find_any(entity, field, values, fields)

    def count(self, entity: str, filter: Filter | None = None) -> int:
        if entity in OPTION_SETS:
            return len(self._options(entity))
        return super().count(entity, filter)

    # -- writes ---------------------------------------------------------------------------
    def write(self, entity: str, ops: Sequence[WriteOp]) -> list[WriteResult]:
        info = self.entity(entity)
        if entity in OPTION_SETS:
            return [self._write_option(entity, op) for op in ops]
        if any(self._state_op(entity, op) for op in ops):
            return [self._write_state(entity, op) for op in ops]
        base = self.http.base_url
        representation = bool(self.settings.options.get("return_records", True))

        def send(pending: Indexed) -> tuple[dict[int, WriteResult], str | None]:
            parts = [dv.part_for(info, base, i, op, representation) for i, op in pending]
            response = dv.post_batch(self.http, parts)
            failed = batch_call_failed(self.http, response, pending)
            if failed is not None:
                return failed
            answers = multipart.decode(response.content, response.headers["Content-Type"])
            by_id = {a.content_id: a for a in answers if a.content_id}
            results: dict[int, WriteResult] = {}
            retry_after: str | None = None
            for position, (index, op) in enumerate(pending):
                answer = by_id.get(str(index + 1))
                if answer is None and not by_id and position < len(answers):
                    answer = answers[position]
                if answer is None:
                    continue
                results[index] = self._result(info, op, answer)
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

    def _result(self, info: EntityInfo, op: WriteOp, answer: multipart.PartResponse) -> WriteResult:
        if not answer.ok:
            return failed_result(
                op.ref, op.id, answer.status, answer.body, conditional=op.kind != "create"
            )
        body = answer.body
        if isinstance(body, dict) and info.key in body:
            record = self.to_record(info, body)
            return WriteResult(
                ref=op.ref, ok=True, id=record.id, record=record, status=answer.status
            )
        record_id = dv.id_from_entity_id(answer.headers.get("odata-entityid")) or op.id
        return WriteResult(ref=op.ref, ok=True, id=record_id, status=answer.status)

    @staticmethod
    def _state_op(entity: str, op: WriteOp) -> bool:
        return (
            op.kind == "update"
            and op.id is not None
            and "statecode" in op.values
            and (state_request(entity, op.id, dict(op.values)) is not None)
        )

    def _write_state(self, entity: str, op: WriteOp) -> WriteResult:
        """An update whose state only a request reaches: its other values first, then the
        request (``FulfillSalesOrder``); other ops go as usual, one at a time."""
        if not self._state_op(entity, op):
            return self.write(entity, [op])[0]
        assert op.id is not None
        rest = {k: v for k, v in op.values.items() if k not in ("statecode", "statuscode")}
        if rest:
            [first] = self.write(entity, [WriteOp("update", op.ref, rest, id=op.id)])
            if not first.ok:
                return first
        found = state_request(entity, op.id, dict(op.values))
        assert found is not None
        request, body = found
        response = self.http.request("POST", request, json=body, idempotent=False)
        failed = self._request_failed(op, response)
        if failed is not None:
            return failed
        return WriteResult(ref=op.ref, ok=True, id=op.id, status=response.status_code)

    def _request_failed(self, op: WriteOp, response: Any) -> WriteResult | None:
        """The failed result of a request made for ``op`` (auth failures raise)."""
        if ERRORS.classify(response.status_code) is Outcome.AUTH:
            raise self.error(response, Phase.WRITE)
        if response.status_code < 300:
            return None
        payload: Any = None
        try:
            payload = response.json()
        except ValueError:
            payload = response.text
        return failed_result(op.ref, op.id, response.status_code, payload)

    def _write_option(self, entity: str, op: WriteOp) -> WriteResult:
        try:
            action, body = dv.option_action(OPTION_SETS[entity], op)
        except (TypeError, ValueError) as exc:
            return WriteResult(ref=op.ref, ok=False, id=op.id, error=f"bad option value: {exc}")
        response = self.http.request("POST", action, json=body, idempotent=False)
        failed = self._request_failed(op, response)
        if failed is not None:
            return failed
        value = body.get("Value")
        if response.status_code == 200 and response.content:
            value = response.json().get("NewOptionValue", value)
        label = op.values.get("label")
        record = (
            None
            if op.kind == "delete"
            else Record(id=str(value), values={"value": value, "label": label})
        )
        return WriteResult(
            ref=op.ref, ok=True, id=str(value), record=record, status=response.status_code
        )


def build(settings: DataverseSettings) -> DataverseConnector:
    """A Dataverse connector for ``settings`` (no I/O until first use)."""
    http = build_http(
        settings,
        headers=dv.HEADERS,
        default_rate_limit=DEFAULT_RATE_LIMIT,
        errors=ERRORS,
        max_in_flight=MAX_IN_FLIGHT,
    )
    return DataverseConnector(settings, http)


__all__ = ["DataverseConnector", "build"]


PLUGIN = ConnectorPlugin("dataverse", DataverseSettings, build)
"""Registered in the ``accord.connectors`` entry-point group."""
