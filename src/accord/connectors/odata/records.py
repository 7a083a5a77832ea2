"""Turning OData rows into :class:`~accord.connectors.base.Record` and reading change feeds."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from accord.connectors.base import EntityInfo, FieldType, Page, Record
from accord.connectors.odata.literals import parse_datetime
from accord.connectors.odata.paging import DELTA_LINK

ETAG = "@odata.etag"


def clean(row: dict[str, Any]) -> dict[str, Any]:
    """The row's fields without ``@odata.*`` and other instance annotations."""
    return {k: v for k, v in row.items() if "@" not in k}


def decimal_fields(info: EntityInfo) -> tuple[str, ...]:
    """Names of the entity's ``Edm.Decimal`` fields."""
    return tuple(name for name, f in info.fields.items() if f.type is FieldType.DECIMAL)


def to_record(
    row: dict[str, Any], key: str, modified_field: str | None, decimals: Collection[str] = ()
) -> Record:
    """One OData row as a record (id from ``key``, etag from ``@odata.etag``); whole numbers
    in the ``decimals`` fields become ``Decimal`` like the fractional ones already are."""
    modified = row.get(modified_field) if modified_field else None
    etag = row.get(ETAG)
    values = clean(row)
    for name in decimals:
        number = values.get(name)
        if isinstance(number, int) and not isinstance(number, bool):
            values[name] = Decimal(number)
    return Record(
        id=str(row[key]),
        values=values,
        modified_at=parse_datetime(modified) if isinstance(modified, str) else None,
        etag=str(etag) if etag is not None else None,
    )


def is_deleted_entry(row: dict[str, Any]) -> bool:
    """A delta feed's ``$deletedEntity`` entry."""
    context = row.get("@odata.context")
    return (isinstance(context, str) and context.endswith("$deletedEntity")) or (
        row.get("reason") in ("deleted", "changed") and "id" in row and len(row) <= 3
    )


PageSource = Callable[[Callable[[httpx.Response], None]], Iterable[dict[str, Any]]]
"""Yields page bodies, calling the given observer with every HTTP response."""


class ODataFeed:
    """A change feed over OData pages; ``next_token`` is the last ``@odata.deltaLink`` seen,
    ``server_time`` the service's clock (``Date`` header) when the first page was read."""

    def __init__(
        self,
        pages: PageSource,
        key: str,
        modified_field: str | None,
        *,
        keep: Callable[[Record], bool] | None = None,
        decimals: Collection[str] = (),
    ) -> None:
        self._pages = pages
        self._key = key
        self._modified = modified_field
        self._keep = keep
        self._decimals = decimals
        self._token: str | None = None
        self._server_time: datetime | None = None

    @property
    def next_token(self) -> str | None:
        return self._token

    @property
    def server_time(self) -> datetime | None:
        return self._server_time

    def _observe(self, response: httpx.Response) -> None:
        if self._server_time is not None:
            return
        stamp = response.headers.get("date")
        if stamp:
            with contextlib.suppress(TypeError, ValueError):
                self._server_time = parsedate_to_datetime(stamp)

    def __iter__(self) -> Iterator[Page]:
        key, modified, keep = self._key, self._modified, self._keep
        for body in self._pages(self._observe):
            records: list[Record] = []
            deleted: list[str] = []
            for row in body.get("value", ()):
                if key not in row and is_deleted_entry(row):
                    deleted.append(str(row["id"]))
                    continue
                record = to_record(row, key, modified, self._decimals)
                if keep is None or keep(record):
                    records.append(record)
            link = body.get(DELTA_LINK)
            if link:
                self._token = str(link)
            yield Page(records=records, deleted_ids=deleted)
