"""The connector interface every connected system implements.

A connector is a small typed object: it describes its entities as data, reads pages of
records changed since a cursor, gets records by id, finds records by field values, and
writes a batch of creates / updates / deletes returning one result per item. Connectors
never touch Accord's database; batching, paging, auth, retries and rate limits come from
:mod:`accord.connectors.http`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    from accord.config.filters import Filter

Value = Any
"""A field value as JSON carries it (str, int, Decimal, bool, None); never float."""


class FieldType(StrEnum):
    """The value types a field can hold; mapping code normalizes by these."""

    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    GUID = "guid"
    OPTION = "option"
    LOOKUP = "lookup"


class ChangeTracking(StrEnum):
    """How an entity reports changes."""

    MODIFIED_SINCE = "modified_since"
    """Filter on a modified-on column (``lastModifiedDateTime gt …``); deletes are invisible."""
    DELTA = "delta"
    """A change-tracking token (Dataverse delta links) that also reports deleted rows."""
    SNAPSHOT = "snapshot"
    """No change information: read everything, compare by content."""


@dataclass(frozen=True)
class FieldInfo:
    """One field of an entity."""

    name: str
    type: FieldType = FieldType.STRING
    read_only: bool = False
    max_length: int | None = None
    lookup_entity: str | None = None
    """For ``LOOKUP`` fields: the entity the value refers to (its id is the value)."""
    write_as: str | None = None
    """Where a write puts the value when that is not the field itself (a Dataverse lookup
    is written through its navigation property: ``<write_as>@odata.bind``)."""
    targets: Mapping[str, str] | None = None
    """For a lookup that may point at several entities (a post's regarding record): entity ->
    where a write puts a :class:`Reference` to it (``accounts: regardingobjectid_account``)."""


@dataclass(frozen=True)
class Reference:
    """A lookup value naming its entity, for lookups that may point at several (a post
    regarding an account rather than an order); reads give the plain id."""

    entity: str
    id: str


@dataclass(frozen=True)
class EntityInfo:
    """What a connector can do with one entity (table)."""

    name: str
    key: str
    """The primary key field (a GUID on both Microsoft systems)."""
    fields: Mapping[str, FieldInfo]
    modified_field: str | None = None
    change_tracking: ChangeTracking = ChangeTracking.MODIFIED_SINCE
    client_ids: bool = False
    """True when a create may carry a caller-chosen id (idempotent upsert by primary key)."""
    natural_key: str | None = None
    """A human key such as a customer number, used for display and lookups."""
    max_page_size: int = 1000
    max_batch_size: int = 1
    api_group: str | None = None
    """The API the entity lives in when it is not the system's standard one, e.g. Business
    Central's custom API group ``accord/integration/v1.0`` (None: the standard API)."""

    def field(self, name: str) -> FieldInfo:
        """Return the field called ``name`` or raise a clear error listing the valid ones."""
        from accord.errors import UnknownEntityError

        try:
            return self.fields[name]
        except KeyError:
            valid = ", ".join(sorted(self.fields))
            raise UnknownEntityError(
                f"entity {self.name!r} has no field {name!r}; valid fields: {valid}"
            ) from None


@dataclass(frozen=True)
class Record:
    """One record as read from a system."""

    id: str
    values: Mapping[str, Value]
    modified_at: datetime | None = None
    """UTC, timezone-aware."""
    etag: str | None = None


@dataclass(frozen=True)
class Page:
    """One page of a change feed: changed records and ids of deleted ones."""

    records: Sequence[Record]
    deleted_ids: Sequence[str] = ()


@dataclass(frozen=True)
class ChangeQuery:
    """What to read from an entity.

    ``since`` reads records modified strictly after it; ``token`` resumes a change-tracking
    feed (wins over ``since`` when the entity supports delta); ``filter`` is the mapping's
    typed table filter narrowing the records (the connector renders it in its dialect).
    """

    since: datetime | None = None
    token: str | None = None
    filter: Filter | None = None
    fields: Sequence[str] | None = None
    page_size: int | None = None


class ChangeFeed(Protocol):
    """An iterator of pages; after it is exhausted ``next_token`` holds the resume token."""

    def __iter__(self) -> Iterator[Page]: ...

    @property
    def next_token(self) -> str | None: ...

    @property
    def server_time(self) -> datetime | None:
        """The source system's clock when the feed was first read (HTTP ``Date``), or None.

        Lets the engine move its watermark by the source's own clock when nothing changed."""
        ...


WriteKind = Literal["create", "update", "delete"]


@dataclass(frozen=True)
class WriteOp:
    """One write in a batch.

    For ``create`` ``id`` is a caller-chosen id when the entity has ``client_ids`` (making the
    create an idempotent upsert), else None. For ``update`` and ``delete`` ``id`` is the
    record's id; ``etag`` (when given) makes the write conditional. ``ref`` is the caller's
    correlation key, echoed in the result.
    """

    kind: WriteKind
    ref: str
    values: Mapping[str, Value] = field(default_factory=dict)
    id: str | None = None
    etag: str | None = None


@dataclass(frozen=True)
class WriteResult:
    """The outcome of one :class:`WriteOp`, in the order of the batch."""

    ref: str
    ok: bool
    id: str | None = None
    record: Record | None = None
    """The record as stored after the write, when the system returns it."""
    status: int | None = None
    error: str | None = None
    error_code: str | None = None
    retryable: bool = False
    not_found: bool = False
    conflict: bool = False
    """The etag was stale (BC 409, Dataverse 412)."""
    lines: tuple[Record, ...] = ()
    """The lines created with the record by a deep insert, as the system returned them."""


@dataclass(frozen=True)
class ChangeSubscription:
    """A change-notification subscription held at a system (a BC webhook subscription)."""

    remote_id: str
    entity: str
    resource: str
    expires_at: datetime
    etag: str | None = None


@runtime_checkable
class ChangeSubscriber(Protocol):
    """A connector whose system calls a URL when records change (webhooks)."""

    def subscribe(self, entity: str, url: str, client_state: str) -> ChangeSubscription: ...

    def renew(self, subscription: ChangeSubscription) -> ChangeSubscription: ...

    def unsubscribe(self, subscription: ChangeSubscription) -> None: ...


@runtime_checkable
class ActionRunner(Protocol):
    """A connector whose system runs actions bound to one record (Business Central's
    ``makeOrder``, an operations page's ``archive``)."""

    def run_action(self, entity: str, record_id: str, action: str) -> None:
        """Run ``action`` on record ``record_id`` of ``entity``; raise a clear error when the
        system refuses it (its message), transient or terminal as the error table says."""
        ...


@dataclass(frozen=True)
class DeepInsert:
    """A document to create with its lines in one request (``ref`` echoed in the result)."""

    ref: str
    values: Mapping[str, Value]
    lines: Sequence[Mapping[str, Value]]


@runtime_checkable
class DeepInserter(Protocol):
    """A connector whose system creates a document with its lines in one request, all or
    nothing (Business Central's deep insert)."""

    def deep_insert(
        self, entity: str, lines: str, documents: Sequence[DeepInsert]
    ) -> list[WriteResult]:
        """Create each of ``documents`` in ``entity`` with its ``lines`` (the lines entity,
        also the header's navigation to them), in batches; one result per document, in
        order, with the created lines in :attr:`WriteResult.lines`. A refused document has
        none of its lines written."""
        ...


@runtime_checkable
class Connector(Protocol):
    """A connected system."""

    system: str

    def entities(self) -> Mapping[str, EntityInfo]:
        """Describe every entity this connector can reach."""
        ...

    def entity(self, name: str) -> EntityInfo:
        """One entity's description, or :class:`~accord.errors.UnknownEntityError`."""
        ...

    def check(self) -> None:
        """Authenticate and make one cheap call; raise a clear error if that fails."""
        ...

    def read_changes(self, entity: str, query: ChangeQuery) -> ChangeFeed:
        """Stream pages of records changed since the query's cursor."""
        ...

    def get(
        self, entity: str, ids: Sequence[str], fields: Sequence[str] | None = None
    ) -> list[Record]:
        """Fetch records by id; missing ids are simply absent from the result."""
        ...

    def find(
        self,
        entity: str,
        equals: Mapping[str, Value],
        *,
        case_sensitive: bool = True,
        filter: Filter | None = None,
        limit: int = 2,
    ) -> list[Record]:
        """Records whose fields equal ``equals`` (text compared case-insensitively unless asked)."""
        ...

    def find_any(
        self,
        entity: str,
        field: str,
        values: Sequence[Value],
        fields: Sequence[str] | None = None,
    ) -> list[Record]:
        """Records whose ``field`` equals any of ``values`` (batched; text compared as the
        system compares it). Used to look for a match before every create."""
        ...

    def write(self, entity: str, ops: Sequence[WriteOp]) -> list[WriteResult]:
        """Apply ``ops`` in as few requests as the system's batch limit allows.

        Returns exactly one result per op, in order. A failed op never raises: it becomes a
        result with ``ok=False``. Only failures of the whole call (auth, unreachable after
        retries) raise.
        """
        ...

    def count(self, entity: str, filter: Filter | None = None) -> int:
        """How many records the entity holds (used for full-sync recommendations)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
