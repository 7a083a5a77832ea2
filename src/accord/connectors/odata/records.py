"""Turning OData rows into :class:`~accord.connectors.base.Record` and reading change feeds."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from accord.connectors.base import Page, Record
from accord.connectors.odata.literals import parse_datetime
from accord.connectors.odata.paging import DELTA_LINK

ETAG = "@odata.etag"


def clean(row: dict[str, Any]) -> dict[str, Any]:
    """The row's fields without ``@odata.*`` and other instance annotations."""
    return {k: v for k, v in row.items() if "@" not in k}


def to_record(row: dict[str, Any], key: str, modified_field: str | None) -> Record:
    """One OData row as a record (id from ``key``, etag from ``@odata.etag``)."""
    modified = row.get(modified_field) if modified_field else None
    etag = row.get(ETAG)
    return Record(
        id=str(row[key]),
        values=clean(row),
        modified_at=parse_datetime(modified) if isinstance(modified, str) else None,
        etag=str(etag) if etag is not None else None,
    )


def is_deleted_entry(row: dict[str, Any]) -> bool:
    """A delta feed's ``$deletedEntity`` entry."""
    context = row.get("@odata.context")
    return (isinstance(context, str) and context.endswith("$deletedEntity")) or (
        row.get("reason") in ("deleted", "changed") and "id" in row and len(row) <= 3
    )


class ODataFeed:
    """A change feed over OData pages; ``next_token`` is the last ``@odata.deltaLink`` seen."""

    def __init__(
        self,
        pages: Callable[[], Iterable[dict[str, Any]]],
        key: str,
        modified_field: str | None,
        *,
        keep: Callable[[Record], bool] | None = None,
    ) -> None:
        self._pages = pages
        self._key = key
        self._modified = modified_field
        self._keep = keep
        self._token: str | None = None

    @property
    def next_token(self) -> str | None:
        return self._token

    def __iter__(self) -> Iterator[Page]:
        key, modified, keep = self._key, self._modified, self._keep
        for body in self._pages():
            records: list[Record] = []
            deleted: list[str] = []
            for row in body.get("value", ()):
                if key not in row and is_deleted_entry(row):
                    deleted.append(str(row["id"]))
                    continue
                record = to_record(row, key, modified)
                if keep is None or keep(record):
                    records.append(record)
            link = body.get(DELTA_LINK)
            if link:
                self._token = str(link)
            yield Page(records=records, deleted_ids=deleted)
