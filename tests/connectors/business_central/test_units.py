"""Business Central connector details checked at the transport level (respx)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from accord.config.filters import where
from accord.connectors.base import ChangeQuery, WriteOp
from accord.connectors.business_central import BusinessCentralConnector
from accord.connectors.business_central.client import with_environment
from accord.connectors.business_central.connector import BusinessCentralSettings
from accord.connectors.http import HttpClient, RetryPolicy, StaticBearer
from accord.connectors.settings import ClientCredentials
from accord.errors import ConfigError

BASE = "https://bc.example.test/v2.0/tenant/production/api/v2.0"
COMPANY = "a0a0a0a0-0000-0000-0000-000000000001"
CUSTOMERS = f"{BASE}/companies({COMPANY})/customers"


def connector(company: str = COMPANY, **options: Any) -> BusinessCentralConnector:
    settings = BusinessCentralSettings(
        name="erp",
        base_url=BASE,
        auth=ClientCredentials(
            token_url="https://login.example.test/t/oauth2/v2.0/token",
            client_id="id",
            client_secret=SecretStr("secret"),
        ),
        company=company,
        options=options,
    )
    http = HttpClient(
        BASE,
        connection="erp",
        auth=StaticBearer("t"),
        policy=RetryPolicy(base_delay=0, jitter=0, max_retry_after=0),
    )
    made = BusinessCentralConnector(settings, http)
    made._sleep = lambda _: None
    return made


def test_environment_replaces_the_segment_before_api() -> None:
    assert with_environment(BASE, "sandbox") == (
        "https://bc.example.test/v2.0/tenant/sandbox/api/v2.0"
    )
    assert with_environment(BASE, None) == BASE


@respx.mock
def test_company_by_name_and_clear_error_listing_valid_names() -> None:
    respx.get(f"{BASE}/companies").mock(
        return_value=httpx.Response(
            200,
            json={
                "value": [
                    {"id": COMPANY.upper(), "name": "CRONUS USA, Inc."},
                    {"id": "b0b0b0b0-0000-0000-0000-000000000002", "name": "My Company"},
                ]
            },
        )
    )
    assert connector("cronus usa, inc.").client.resolve_company() == COMPANY
    expected = r"'Nope' was not found.*'CRONUS USA, Inc.', 'My Company'"
    with pytest.raises(ConfigError, match=expected):
        connector("Nope").check()


@respx.mock
def test_company_id_needs_no_lookup_request() -> None:
    route = respx.get(CUSTOMERS).mock(return_value=httpx.Response(200, json={"value": []}))
    made = connector()
    list(made.read_changes("customers", ChangeQuery()))
    assert route.called and made.http.request_count == 1


@respx.mock
def test_read_changes_filter_prefer_and_next_links() -> None:
    link = f"{CUSTOMERS}?$skiptoken=abc%27d"
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if "skiptoken" in str(request.url):
            return httpx.Response(
                200, json={"value": [{"id": "2", "lastModifiedDateTime": "2024-01-02T00:00:00Z"}]}
            )
        return httpx.Response(
            200,
            json={
                "value": [
                    {
                        "id": "1",
                        "lastModifiedDateTime": "2024-01-01T00:00:00.5Z",
                        "@odata.etag": 'W/"a"',
                    }
                ],
                "@odata.nextLink": link,
            },
        )

    respx.get(url__startswith=CUSTOMERS).mock(side_effect=answer)
    from datetime import UTC, datetime

    since = datetime(2023, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
    pages = list(
        connector(page_size=1).read_changes(
            "customers", ChangeQuery(since=since, filter=where("blocked", "eq", " "))
        )
    )
    assert [[r.id for r in p.records] for p in pages] == [["1"], ["2"]]
    first, second = seen
    assert first.url.params["$filter"] == (
        "(lastModifiedDateTime gt 2023-12-31T23:59:59.999Z) and (blocked eq ' ')"
    )
    assert "%20gt%20" in str(first.url) and "+" not in str(first.url)
    assert first.headers["Prefer"] == "odata.maxpagesize=1"
    assert str(second.url) == link
    assert second.headers["Prefer"] == "odata.maxpagesize=1"
    assert pages[0].records[0].etag == 'W/"a"'


@respx.mock
def test_batch_retries_only_throttled_inner_requests() -> None:
    bodies: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        bodies.append(body)
        responses = []
        for item in body["requests"]:
            if item["id"] == "1" and len(bodies) == 1:
                responses.append(
                    {
                        "id": "1",
                        "status": 429,
                        "headers": {"Retry-After": "1"},
                        "body": {
                            "error": {"code": "Application_TooManyRequests", "message": "slow down"}
                        },
                    }
                )
            elif item["method"] == "DELETE":
                responses.append(
                    {
                        "id": item["id"],
                        "status": 409,
                        "body": {
                            "error": {"code": "Request_EntityChanged", "message": "Another user..."}
                        },
                    }
                )
            else:
                responses.append(
                    {
                        "id": item["id"],
                        "status": 201,
                        "body": {"id": f"new{item['id']}", "displayName": "x"},
                    }
                )
        return httpx.Response(200, json={"responses": list(reversed(responses))})

    respx.post(f"{BASE}/$batch").mock(side_effect=answer)
    ops = [
        WriteOp("create", "a", {"displayName": "x", "balanceDue": 5}),
        WriteOp("create", "b", {"displayName": "y"}),
        WriteOp("delete", "c", id="c1", etag='W/"old"'),
    ]
    results = connector().write("customers", ops)
    assert [r.ref for r in results] == ["a", "b", "c"]
    assert [r.ok for r in results] == [True, True, False]
    assert results[2].conflict and results[2].error_code == "Request_EntityChanged"
    assert [len(b["requests"]) for b in bodies] == [3, 1]
    first = bodies[0]["requests"]
    assert first[0]["body"] == {"displayName": "x"}  # read-only balanceDue dropped
    assert first[0]["url"] == f"companies({COMPANY})/customers"
    assert first[2]["headers"]["If-Match"] == 'W/"old"'


@respx.mock
def test_write_chunks_at_100() -> None:
    sizes: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        items = json.loads(request.content)["requests"]
        sizes.append(len(items))
        return httpx.Response(
            200, json={"responses": [{"id": i["id"], "status": 204} for i in items]}
        )

    respx.post(f"{BASE}/$batch").mock(side_effect=answer)
    ops = [WriteOp("delete", str(i), id=f"x{i}") for i in range(250)]
    results = connector().write("customers", ops)
    # a write call's batches may go out in parallel: their order is not fixed
    assert sorted(sizes) == [50, 100, 100] and all(r.ok for r in results)
