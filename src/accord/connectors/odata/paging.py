"""Server-driven paging: follow ``@odata.nextLink`` unchanged until it is absent."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx

from accord.connectors.http.client import HttpClient

NEXT_LINK = "@odata.nextLink"
DELTA_LINK = "@odata.deltaLink"

ErrorFactory = Callable[[httpx.Response], Exception]


def prefer_max_page_size(size: int, *extra: str) -> dict[str, str]:
    """The ``Prefer`` header asking for pages of at most ``size`` entities."""
    return {"Prefer": ", ".join([*extra, f"odata.maxpagesize={size}"])}


def iter_pages(
    client: HttpClient,
    path: str,
    *,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    error: ErrorFactory,
    observe: Callable[[httpx.Response], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield each page's decoded body, one at a time, following nextLinks verbatim.

    The ``Prefer`` headers are sent again with every page (the service may need them to
    keep the page size); query parameters only with the first request, since the
    nextLink already carries them.
    """
    response = client.get(path, params=params, headers=headers)
    while True:
        if response.status_code != 200:
            raise error(response)
        if observe is not None:
            observe(response)
        body: dict[str, Any] = response.json()
        yield body
        next_link = body.get(NEXT_LINK)
        if not next_link:
            return
        response = client.get(str(next_link), headers=headers)
