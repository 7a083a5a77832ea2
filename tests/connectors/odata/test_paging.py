"""The nextLink loop guard: a repeating link or an endless feed stops with a clear error."""

from __future__ import annotations

import httpx
import pytest

from accord.connectors.http import HttpClient
from accord.connectors.odata.paging import iter_pages
from accord.errors import TerminalError

BASE = "https://erp.example.test/api/v2.0"


def serve(next_link: object) -> tuple[HttpClient, list[str]]:
    """A service whose every page links to ``next_link(page_number)``."""
    asked: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        link = next_link(len(asked)) if callable(next_link) else next_link
        return httpx.Response(200, json={"value": [{"n": len(asked)}], "@odata.nextLink": link})

    return HttpClient(BASE, connection="erp", transport=httpx.MockTransport(handle)), asked


def test_a_repeating_next_link_is_named() -> None:
    link = f"{BASE}/customers?$skiptoken=abc"
    http, asked = serve(link)
    pages = iter_pages(http, "customers", error=lambda r: AssertionError(r))
    with pytest.raises(TerminalError, match=r"paging of .*/customers does not end: page 2 links"):
        list(pages)
    assert asked == [f"{BASE}/customers", link]


def test_a_link_back_to_the_first_page_is_caught() -> None:
    http, asked = serve(f"{BASE}/customers")
    with pytest.raises(TerminalError, match=r"links back to .*/customers, which was already"):
        list(iter_pages(http, "customers", error=lambda r: AssertionError(r)))
    assert len(asked) == 1


def test_an_endless_feed_stops_at_the_bound() -> None:
    http, asked = serve(lambda n: f"{BASE}/customers?$skiptoken={n}")
    with pytest.raises(TerminalError, match=r"more than 5 pages \(next link .*skiptoken=5\)"):
        list(iter_pages(http, "customers", error=lambda r: AssertionError(r), max_pages=5))
    assert len(asked) == 5


def test_a_finite_feed_is_read_to_the_end() -> None:
    http, _ = serve(lambda n: f"{BASE}/customers?$skiptoken={n}" if n < 3 else None)
    bodies = list(iter_pages(http, "customers", error=lambda r: AssertionError(r)))
    assert [b["value"][0]["n"] for b in bodies] == [1, 2, 3]
