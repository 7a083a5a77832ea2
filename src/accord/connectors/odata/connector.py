"""What both Microsoft OData connectors share: options, lookups by id and value, counts."""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

import httpx

from accord.config.filters import Filter
from accord.connectors.base import ChangeTracking, EntityInfo, FieldType, Record
from accord.connectors.http import HttpClient, RateLimiter, RetryPolicy
from accord.connectors.http.concurrency import AdaptiveConcurrency, ConcurrencySettings
from accord.connectors.http.outcomes import DEFAULT_ERRORS, ErrorPolicy
from accord.connectors.http.shared_gate import SharedGate, shares
from accord.connectors.odata.described import Defaults, Description, fetch_model
from accord.connectors.odata.described import describe as describe_entities
from accord.connectors.odata.errors import call_error
from accord.connectors.odata.filters import render_odata
from accord.connectors.odata.literals import (
    Precision,
    and_filters,
    eq_filter,
    in_filter,
    is_guid,
)
from accord.connectors.odata.paging import iter_pages, prefer_max_page_size
from accord.connectors.odata.records import ODataFeed, decimal_fields, to_record
from accord.connectors.settings import ConnectionSettings
from accord.errors import (
    AccordError,
    ApiGroupMissingError,
    ConfigError,
    Phase,
    TerminalError,
    UnknownEntityError,
)

CASE_SENSITIVE_OVERFETCH = 10
"""A case-sensitive find asks for this many times ``limit`` candidates, then filters."""
GET_CHUNK = 200
"""Ids per ``$filter=key in (...)`` request (keeps URLs well under server limits)."""
FIND_ANY_CHUNK = 40
"""Values per look-up request (keeps the URL short whatever the values' length)."""

KNOWN_OPTIONS = frozenset(
    {
        "page_size",
        "batch_size",
        "retry",
        "rate_limit",
        "rate_limit_storage",
        "timeout",
        "return_records",
        "webhook_key",
        "webhook_secret",
        "concurrency",
    }
)


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def build_http(
    settings: ConnectionSettings,
    *,
    headers: Mapping[str, str],
    base_url: str | None = None,
    default_rate_limit: str | None = None,
    errors: ErrorPolicy = DEFAULT_ERRORS,
    max_in_flight: int | None = None,
) -> HttpClient:
    """The HTTP client for ``settings``: its auth variant, retry policy, rate limit, and
    adaptive concurrency (option ``concurrency``; ``max_in_flight``: the service's limit)."""
    options = settings.options
    unknown = set(options) - KNOWN_OPTIONS
    if unknown:
        raise ConfigError(
            f"unknown option(s) {', '.join(sorted(unknown))}; valid: "
            f"{', '.join(sorted(KNOWN_OPTIONS))}",
            location=f"connection {settings.name!r}",
        )
    auth = settings.build_auth()
    url = base_url or settings.base_url
    limit = options.get("rate_limit", default_rate_limit)
    endpoint = f"{settings.system}:{httpx.URL(url).netloc.decode()}:{settings.principal}"
    storage = str(options.get("rate_limit_storage") or "memory://")
    limiter = None
    if limit:
        limiter = RateLimiter(str(limit), endpoint, storage_uri=storage)
    timeout = float(options.get("timeout", 120.0))
    concurrency = _concurrency(settings, options.get("concurrency"), max_in_flight)
    shared = None
    if shares(storage):  # workers sharing a Redis share the pause and the slots (ADR 0025)
        shared = SharedGate(
            storage, endpoint, concurrency.max_in_flight, lease_seconds=timeout + 30
        )
    return HttpClient(
        url,
        connection=settings.name,
        auth=auth,
        policy=RetryPolicy.from_options(options.get("retry")),
        errors=errors,
        limiter=limiter,
        gate=AdaptiveConcurrency(concurrency, shared=shared),
        headers=headers,
        ca_cert=settings.ca_cert,
        timeout=timeout,
    )


def _concurrency(
    settings: ConnectionSettings, options: Any, max_in_flight: int | None
) -> ConcurrencySettings:
    try:
        return ConcurrencySettings.from_options(options, max_in_flight)
    except ConfigError as exc:
        raise ConfigError(str(exc), location=f"connection {settings.name!r}") from None


class ODataConnector(ABC):
    """Base of the Business Central and Dataverse connectors (OData v4 over :class:`HttpClient`).

    Subclasses set ``system``, ``precision`` and ``ENTITIES`` and implement
    :meth:`collection`, ``read_changes`` and ``write``.
    """

    system: str = "odata"
    precision: Precision = "ms"
    ENTITIES: ClassVar[Mapping[str, EntityInfo]] = {}

    def __init__(self, settings: ConnectionSettings, http: HttpClient) -> None:
        self.settings = settings
        self.name = settings.name
        self.http = http
        self.description: Description | None = None

    # -- description -------------------------------------------------------------------
    def entities(self) -> Mapping[str, EntityInfo]:
        return self.ENTITIES if self.description is None else self.description.entities

    def entity(self, name: str) -> EntityInfo:
        known = self.entities()
        try:
            return known[name]
        except KeyError:
            group = self.description.missing_groups.get(name) if self.description else None
            if group is not None:
                raise ApiGroupMissingError(
                    f"{self.system} connection {self.name!r}: entity {name!r} belongs to API "
                    f"group {group!r}, which this tenant does not serve "
                    f"(its $metadata route answers 404); see {self.api_group_docs}",
                    group=group,
                ) from None
            valid = ", ".join(sorted(known))
            raise UnknownEntityError(
                f"{self.system} connection {self.name!r} has no entity {name!r}; "
                f"valid entities: {valid}"
            ) from None

    api_group_docs: str = "the connector's documentation"
    """Where a user reads how to install an API group this connector uses."""

    def api_group(self, info: EntityInfo) -> str | None:
        """The API group serving ``info`` (None: the service's standard route)."""
        group = getattr(info, "api_group", None)
        return str(group) if group else None

    def metadata_path(self, group: str | None) -> str:
        """Path of the ``$metadata`` document describing ``group``'s route."""
        return "$metadata"

    def description_defaults(self) -> Defaults:
        """How entities only the metadata knows are read and written."""
        return Defaults(ChangeTracking.MODIFIED_SINCE, False, 1000, 1, (), False)

    def pseudo_entities(self) -> Mapping[str, tuple[str, str]]:
        """Entities that are not entity sets, kept as the static descriptors say while the
        metadata has the entity type and property each stands for."""
        return {}

    def describe(self) -> Mapping[str, EntityInfo]:
        """Read the service's metadata (once per connection and process) and describe every
        entity from it, overlaid on the static descriptors; later calls reuse it."""
        if self.description is None:
            groups = {None, *(self.api_group(i) for i in self.ENTITIES.values())}
            models = {g: fetch_model(self.http, self.metadata_path(g)) for g in groups}
            if models.get(None) is None:
                raise ConfigError(
                    f"no $metadata at {self.http.url(self.metadata_path(None))}",
                    location=f"connection {self.name!r}",
                )
            self.description = describe_entities(
                self.ENTITIES,
                models,
                self.api_group,
                self.description_defaults(),
                keep=self.pseudo_entities(),
            )
        return self.description.entities

    def page_size(self, info: EntityInfo, requested: int | None = None) -> int:
        """The smallest of the caller's request, the connection's option and the entity's
        limit."""
        option = self.settings.options.get("page_size")
        sizes = [info.max_page_size, *(int(s) for s in (requested, option) if s)]
        return max(1, min(sizes))

    def batch_size(self, info: EntityInfo) -> int:
        size = int(self.settings.options.get("batch_size") or info.max_batch_size)
        return max(1, min(size, info.max_batch_size))

    def types(self, info: EntityInfo) -> dict[str, FieldType]:
        return {name: f.type for name, f in info.fields.items()}

    def feed(
        self,
        info: EntityInfo,
        path: str,
        headers: Mapping[str, str],
        params: Mapping[str, str] | None = None,
    ) -> ODataFeed:
        """A change feed over the pages of ``path`` (a collection or a delta link)."""
        return ODataFeed(
            lambda observe: iter_pages(
                self.http, path, params=params, headers=headers, error=self.error, observe=observe
            ),
            info.key,
            info.modified_field,
            decimals=decimal_fields(info),
        )

    # -- paths and errors ---------------------------------------------------------------
    @abstractmethod
    def collection(self, info: EntityInfo) -> str:
        """Path of the entity set, relative to the HTTP client's base URL."""

    def error(self, response: httpx.Response, phase: Phase = Phase.READ) -> AccordError:
        """A clear error for a failed whole-call request."""
        request = response.request
        prefix = f"{self.system} connection {self.name!r}: {request.method} {request.url}"
        return call_error(response, self.http.errors, prefix, phase)

    def select(self, info: EntityInfo, fields: Sequence[str] | None) -> str | None:
        """``$select`` for the requested fields (key and modified field always included)."""
        if not fields:
            return None
        wanted = dict.fromkeys([info.key, *([info.modified_field] if info.modified_field else [])])
        wanted.update(dict.fromkeys(fields))
        return ",".join(wanted)

    def render_filter(self, info: EntityInfo, filter: Filter | None) -> str | None:
        """A typed table filter as ``$filter`` text for ``info`` (None for no filter)."""
        if filter is None:
            return None
        return render_odata(filter, self.types(info), self.precision)

    def to_record(self, info: EntityInfo, row: dict[str, Any]) -> Record:
        return to_record(row, info.key, info.modified_field, decimal_fields(info))

    def _query(
        self,
        info: EntityInfo,
        params: dict[str, str],
        page_size: int | None,
        limit: int | None = None,
    ) -> Iterator[Record]:
        headers = prefer_max_page_size(page_size) if page_size else None
        pages = iter_pages(
            self.http, self.collection(info), params=params, headers=headers, error=self.error
        )
        seen = 0
        for body in pages:
            for row in body.get("value", ()):
                yield self.to_record(info, row)
                seen += 1
                if limit is not None and seen >= limit:
                    return

    # -- reads ----------------------------------------------------------------------------
    def get(
        self, entity: str, ids: Sequence[str], fields: Sequence[str] | None = None
    ) -> list[Record]:
        info = self.entity(entity)
        # an id that is not a GUID cannot exist: it is absent, like any other missing id
        wanted = [i for i in dict.fromkeys(ids) if is_guid(i)]
        records: list[Record] = []
        for chunk in chunks(wanted, GET_CHUNK):
            params = {"$filter": in_filter(info.key, chunk, FieldType.GUID)}
            select = self.select(info, fields)
            if select:
                params["$select"] = select
            records.extend(self._query(info, params, self.page_size(info, len(chunk))))
        return records

    def find(
        self,
        entity: str,
        equals: Mapping[str, Any],
        *,
        case_sensitive: bool = True,
        filter: Filter | None = None,
        limit: int = 2,
    ) -> list[Record]:
        """Both services compare text case-insensitively (database collation), so a
        case-sensitive search re-checks the candidates here."""
        info = self.entity(entity)
        for name in equals:
            info.field(name)
        criteria = eq_filter(
            equals, case_sensitive=case_sensitive, types=self.types(info), precision=self.precision
        )
        if criteria is None:
            return []
        texts = {k: v for k, v in equals.items() if isinstance(v, str) and v.strip()}
        exact = case_sensitive and bool(texts)
        top = limit * CASE_SENSITIVE_OVERFETCH if exact else limit
        expression = and_filters(criteria, self.render_filter(info, filter)) or criteria
        params = {"$filter": expression, "$top": str(top)}
        found = self._query(info, params, None, top)
        if exact:
            found = (r for r in found if all(r.values.get(k) == v for k, v in texts.items()))
        return list(itertools.islice(found, limit))

    def find_any(
        self,
        entity: str,
        field: str,
        values: Sequence[Any],
        fields: Sequence[str] | None = None,
    ) -> list[Record]:
        """Records whose ``field`` equals any of ``values``, a few requests for many values
        (text compared as the service compares it: case-insensitively)."""
        info = self.entity(entity)
        kind = info.field(field).type
        wanted = list(dict.fromkeys(v for v in values if v is not None and v != ""))
        records: list[Record] = []
        for chunk in chunks(wanted, FIND_ANY_CHUNK):
            params = {"$filter": in_filter(field, chunk, kind)}
            select = self.select(info, fields)
            if select:
                params["$select"] = select
            records.extend(self._query(info, params, self.page_size(info)))
        return records

    action_namespace: str = "Microsoft.NAV"
    """The namespace of the service's bound actions (``…(<id>)/<namespace>.<action>``)."""

    def run_action(self, entity: str, record_id: str, action: str) -> None:
        """POST ``<entity set>(<id>)/<namespace>.<action>`` with no body (204 when done)."""
        info = self.entity(entity)
        if not is_guid(record_id):
            raise TerminalError(f"{entity} {record_id!r} is not an id", phase=Phase.WRITE)
        path = f"{self.collection(info)}({record_id})/{self.action_namespace}.{action}"
        response = self.http.request("POST", path, idempotent=False)
        if response.status_code not in (200, 204):
            raise self.error(response, Phase.WRITE)

    def count(self, entity: str, filter: Filter | None = None) -> int:
        """``$count=true`` on a one-row page (both services cap ``/$count`` alike)."""
        info = self.entity(entity)
        params = {"$count": "true", "$top": "1", "$select": info.key}
        expression = self.render_filter(info, filter)
        if expression:
            params["$filter"] = expression
        response = self.http.get(self.collection(info), params=params)
        if response.status_code != 200:
            raise self.error(response)
        return int(response.json()["@odata.count"])

    def close(self) -> None:
        self.http.close()
