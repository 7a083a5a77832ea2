"""Server-driven paging: follow ``@odata.nextLink`` unchanged until it is absent, and stop
with a clear error when a service links in a circle or never stops."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx

from accord import jsonwire
from accord.connectors.http.client import HttpClient
from accord.errors import Phase, TerminalError

NEXT_LINK = "@odata.nextLink"
DELTA_LINK = "@odata.deltaLink"

ErrorFactory = Callable[[httpx.Response], Exception]

MAX_PAGES = 100_000
"""A bound no real read reaches (100,000 pages of 5,000 rows is half a billion rows)."""


class PagingGuard:
    """Remembers the links followed; raises when one repeats or there are too many pages."""

    def __init__(self, first_url: str, max_pages: int = MAX_PAGES) -> None:
        self.first_url = first_url
        self.max_pages = max_pages
        self.pages = 1
        self._seen = {first_url}

    def follow(self, link: str) -> None:
        """Record ``link`` as the next page, or raise :class:`TerminalError` naming it."""
        if link in self._seen:
            raise TerminalError(
                f"paging of {self.first_url} does not end: page {self.pages} links back to "
                f"{link}, which was already read (the service's nextLink repeats)",
                phase=Phase.READ,
            )
        if self.pages >= self.max_pages:
            raise TerminalError(
                f"paging of {self.first_url} does not end: more than {self.max_pages} pages "
                f"(next link {link})",
                phase=Phase.READ,
            )
        self._seen.add(link)
        self.pages += 1


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
    max_pages: int = MAX_PAGES,
) -> Iterator[dict[str, Any]]:
    """Yield each page's decoded body, one at a time, following nextLinks verbatim.

    The ``Prefer`` headers are sent again with every page (the service may need them to
    keep the page size); query parameters only with the first request, since the
    nextLink already carries them. A nextLink seen before, or more than ``max_pages``
    pages, raises :class:`TerminalError` naming the URL instead of looping forever.
    """
    response = client.get(path, params=params, headers=headers)
    guard = PagingGuard(str(response.request.url), max_pages)
    while True:
        if response.status_code != 200:
            raise error(response)
        if observe is not None:
            observe(response)
        body: dict[str, Any] = jsonwire.loads(response.content)
        yield body
        next_link = body.get(NEXT_LINK)
        if not next_link:
            return
        guard.follow(str(next_link))
        response = client.get(str(next_link), headers=headers)
