"""Dataverse connector details checked at the transport level (respx)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from accord.config.filters import where
from accord.connectors.base import ChangeQuery, WriteOp
from accord.connectors.dataverse import DataverseConnector
from accord.connectors.dataverse.client import default_scope, request_body
from accord.connectors.dataverse.connector import DataverseSettings
from accord.connectors.dataverse.entities import ENTITIES
from accord.connectors.http import HttpClient, RetryPolicy, StaticBearer
from accord.connectors.odata import multipart
from accord.connectors.settings import ClientCredentials

BASE = "https://org.crm.example.test/api/data/v9.2"
ACCOUNTS = f"{BASE}/accounts"
A1 = "5d115c9c-44e3-ea11-bb43-000d3a2feaca"
CUR = "7a8b9c0d-0000-0000-0000-000000000001"


def connector(**options: Any) -> DataverseConnector:
    settings = DataverseSettings(
        name="crm",
        base_url=BASE,
        auth=ClientCredentials(
            token_url="https://login.example.test/t/oauth2/v2.0/token",
            client_id="id",
            client_secret=SecretStr("s"),
        ),
        options=options,
    )
    http = HttpClient(
        BASE,
        connection="crm",
        auth=StaticBearer("t"),
        policy=RetryPolicy(base_delay=0, jitter=0, max_retry_after=0),
    )
    made = DataverseConnector(settings, http)
    made._sleep = lambda _: None
    return made


def test_default_scope_is_the_org_root() -> None:
    assert default_scope(BASE) == "https://org.crm.example.test/.default"
    assert (
        default_scope("https://127.0.0.1:8443/api/data/v9.2") == "https://127.0.0.1:8443/.default"
    )


def test_lookups_become_binds_and_none_unbinds() -> None:
    body = request_body(
        ENTITIES["accounts"],
        {
            "name": "A",
            "_transactioncurrencyid_value": CUR,
            "_primarycontactid_value": None,
            "_ownerid_value": A1,
            "modifiedon": "2020-01-01T00:00:00Z",
            "accountid": A1,
        },
    )
    assert body == {
        "name": "A",
        "transactioncurrencyid@odata.bind": f"/transactioncurrencies({CUR})",
        "primarycontactid@odata.bind": None,
        "ownerid@odata.bind": f"/systemusers({A1})",
    }
    assert request_body(ENTITIES["contacts"], {"_parentcustomerid_value": A1}) == {
        "parentcustomerid_account@odata.bind": f"/accounts({A1})"
    }


@respx.mock
def test_initial_read_tracks_changes_and_returns_the_delta_link() -> None:
    delta = f"{ACCOUNTS}?$select=name&$deltatoken=919042%2108%2f22%2f2017"
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if "skiptoken" in str(request.url):
            return httpx.Response(200, json={"value": [], "@odata.deltaLink": delta})
        return httpx.Response(
            200,
            json={
                "value": [
                    {
                        "accountid": A1,
                        "name": "A",
                        "modifiedon": "2016-09-28T23:14:00Z",
                        "@odata.etag": 'W/"536537"',
                    }
                ],
                "@odata.nextLink": f"{ACCOUNTS}?$skiptoken=%3Ccookie%3E",
            },
        )

    respx.get(url__startswith=ACCOUNTS).mock(side_effect=answer)
    feed = connector().read_changes("accounts", ChangeQuery(page_size=1))
    pages = list(feed)
    assert feed.next_token == delta
    assert pages[0].records[0].modified_at == datetime(2016, 9, 28, 23, 14, tzinfo=UTC)
    first = seen[0]
    assert first.headers["Prefer"] == "odata.track-changes, odata.maxpagesize=1"
    assert "$filter" not in first.url.params and "accountid" in first.url.params["$select"]


@respx.mock
def test_delta_link_reports_changes_and_deletions() -> None:
    delta = f"{ACCOUNTS}?$deltatoken=1"
    respx.get(delta).mock(
        return_value=httpx.Response(
            200,
            json={
                "@odata.context": f"{BASE}/$metadata#accounts/$delta",
                "value": [
                    {"accountid": A1, "name": "B", "modifiedon": "2017-01-01T00:00:00Z"},
                    {
                        "@odata.context": f"{BASE}/$metadata#accounts/$deletedEntity",
                        "id": CUR,
                        "reason": "deleted",
                    },
                ],
                "@odata.deltaLink": f"{ACCOUNTS}?$deltatoken=2",
            },
        )
    )
    feed = connector().read_changes("accounts", ChangeQuery(token=delta))
    [page] = list(feed)
    assert [r.id for r in page.records] == [A1] and list(page.deleted_ids) == [CUR]
    assert feed.next_token == f"{ACCOUNTS}?$deltatoken=2"


@respx.mock
def test_filtered_read_uses_modifiedon_and_no_tracking() -> None:
    route = respx.get(url__startswith=ACCOUNTS).mock(
        return_value=httpx.Response(200, json={"value": []})
    )
    since = datetime(2024, 5, 1, 10, 0, 0, 900_000, tzinfo=UTC)
    query = ChangeQuery(since=since, filter=where("statecode", "eq", 0))
    feed = connector().read_changes("accounts", query)
    list(feed)
    request = route.calls[0].request
    assert request.url.params["$filter"] == (
        "(modifiedon gt 2024-05-01T10:00:00Z) and (statecode eq 0)"
    )
    assert "track-changes" not in request.headers["Prefer"] and feed.next_token is None


@respx.mock
def test_write_batch_parts_and_results() -> None:
    captured: dict[str, Any] = {}

    def answer(request: httpx.Request) -> httpx.Response:
        captured["prefer"] = request.headers["Prefer"]
        captured["body"] = request.content.decode()
        parts = [
            (
                "1",
                "201 Created",
                {
                    "accountid": A1,
                    "name": "A",
                    "@odata.etag": 'W/"1"',
                    "modifiedon": "2020-01-01T00:00:00Z",
                },
            ),
            (
                "2",
                "412 Precondition Failed",
                {"error": {"code": "0x80060882", "message": "version mismatch"}},
            ),
            ("3", "404 Not Found", {"error": {"code": "", "message": "Does Not Exist"}}),
            ("4", "204 No Content", None),
        ]
        text = ""
        for cid, status, body in parts:
            text += (
                "--batchresponse_x\r\nContent-Type: application/http\r\n"
                f"Content-Transfer-Encoding: binary\r\nContent-ID: {cid}\r\n\r\n"
                f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                f"OData-EntityId: {ACCOUNTS}({CUR})\r\n\r\n"
                f"{json.dumps(body) if body else ''}\r\n"
            )
        text += "--batchresponse_x--\r\n"
        return httpx.Response(
            200,
            content=text.encode(),
            headers={"Content-Type": "multipart/mixed; boundary=batchresponse_x"},
        )

    respx.post(f"{BASE}/$batch").mock(side_effect=answer)
    ops = [
        WriteOp("create", "a", {"name": "A", "_transactioncurrencyid_value": CUR}, id=A1),
        WriteOp("update", "b", {"name": "B"}, id=A1, etag='W/"0"'),
        WriteOp("update", "c", {"name": "C"}, id=CUR),
        WriteOp("create", "d", {"name": "D"}),
    ]
    results = connector().write("accounts", ops)
    assert [(r.ref, r.ok) for r in results] == [
        ("a", True),
        ("b", False),
        ("c", False),
        ("d", True),
    ]
    assert results[0].record is not None and results[0].record.etag == 'W/"1"'
    assert results[1].conflict and results[2].not_found
    assert results[3].id == CUR  # from OData-EntityId
    assert captured["prefer"] == "odata.continue-on-error"
    body = captured["body"]
    assert f"PATCH {ACCOUNTS}({A1}) HTTP/1.1" in body  # upsert by primary key, no If-Match
    assert "Prefer: return=representation" in body
    assert 'If-Match: W/"0"' in body and "If-Match: *" in body
    assert f"POST {ACCOUNTS} HTTP/1.1" in body
    assert f'"transactioncurrencyid@odata.bind":"/transactioncurrencies({CUR})"' in body
    upsert_part = body.split("Content-ID: 1")[1].split("--batch_")[0]
    assert "If-Match" not in upsert_part and "If-None-Match" not in upsert_part


@respx.mock
def test_write_chunks_at_the_batch_size() -> None:
    counts: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        n = request.content.count(b"Content-Type: application/http")
        counts.append(n)
        text = (
            "".join(
                "--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n\r\n"
                for _ in range(n)
            )
            + "--b--\r\n"
        )
        return httpx.Response(
            200, content=text.encode(), headers={"Content-Type": "multipart/mixed; boundary=b"}
        )

    respx.post(f"{BASE}/$batch").mock(side_effect=answer)
    ops = [WriteOp("delete", str(i), id=A1) for i in range(2500)]
    results = connector().write("accounts", ops)
    assert sorted(counts) == [500, 1000, 1000] and all(r.ok for r in results)  # in parallel
    assert multipart.MAX_REQUESTS == 1000


@respx.mock
def test_option_set_read_and_insert() -> None:
    respx.get(url__startswith=f"{BASE}/EntityDefinitions(LogicalName='account')").mock(
        return_value=httpx.Response(
            200,
            json={
                "LogicalName": "paymenttermscode",
                "OptionSet": {
                    "Options": [
                        {
                            "Value": 1,
                            "Label": {
                                "UserLocalizedLabel": {"Label": "Net 30"},
                                "LocalizedLabels": [],
                            },
                        }
                    ]
                },
            },
        )
    )
    insert = respx.post(f"{BASE}/InsertOptionValue").mock(
        return_value=httpx.Response(200, json={"NewOptionValue": 100000000})
    )
    made = connector()
    [page] = list(made.read_changes("account.paymenttermscode", ChangeQuery()))
    assert [(r.id, r.values["label"]) for r in page.records] == [("1", "Net 30")]
    assert [
        r.id
        for r in made.find("account.paymenttermscode", {"label": "net 30"}, case_sensitive=False)
    ] == ["1"]
    [result] = made.write("account.paymenttermscode", [WriteOp("create", "x", {"label": "Net 60"})])
    assert result.ok and result.id == "100000000"
    sent = json.loads(insert.calls[0].request.content)
    assert sent["AttributeLogicalName"] == "paymenttermscode"
    assert sent["Label"]["LocalizedLabels"][0]["Label"] == "Net 60"


def test_unknown_entity_lists_valid_names() -> None:
    from accord.errors import UnknownEntityError

    with pytest.raises(UnknownEntityError, match="accounts"):
        connector().entity("account")


def test_parts_without_representation_when_asked() -> None:
    from accord.connectors.dataverse.client import part_for

    op = WriteOp("update", "u", {"name": "x"}, id=A1)
    assert part_for(ENTITIES["accounts"], BASE, 0, op).headers["Prefer"] == "return=representation"
    lean = part_for(ENTITIES["accounts"], BASE, 0, op, representation=False)
    assert "Prefer" not in lean.headers and lean.headers["If-Match"] == "*"
