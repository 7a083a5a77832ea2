"""Business Central API v2.0 behaviour over loopback HTTPS."""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

import httpx

from accord.sandboxes import SandboxHandle
from tests.sandboxes.conftest import RECORDS

ZERO = "00000000-0000-0000-0000-000000000000"


def customers(bc: SandboxHandle) -> str:
    return f"companies({bc.company_id})/customers"


def test_companies_and_list_shape(bc: SandboxHandle, bc_http: httpx.Client) -> None:
    companies = bc_http.get("companies").json()["value"]
    assert [c["name"] for c in companies][:2] == ["CRONUS USA, Inc.", "CRONUS Canada, Inc."]
    body = bc_http.get(customers(bc), params={"$top": "3"}).json()
    assert body["@odata.context"].endswith(f"$metadata#companies({bc.company_id})/customers")
    first = body["value"][0]
    tag = first["@odata.etag"]
    assert tag.startswith('W/"') and base64.b64decode(tag[3:-1]).decode().endswith(";00;'")
    assert first["lastModifiedDateTime"].endswith("Z") and len(first["lastModifiedDateTime"]) == 24
    assert {"number", "displayName", "currencyCode", "paymentTermsId", "blocked"} <= first.keys()
    other = companies[1]["id"]
    small = bc_http.get(f"companies({other})/customers").json()["value"]
    assert len(small) == 3


def test_paging_with_maxpagesize_and_nextlink(bc: SandboxHandle, bc_http: httpx.Client) -> None:
    url: str | None = customers(bc)
    seen: list[str] = []
    pages = 0
    while url:
        resp = bc_http.get(url, headers={"Prefer": "odata.maxpagesize=50"})
        assert resp.headers["preference-applied"] == "odata.maxpagesize=50"
        body = resp.json()
        seen += [c["id"] for c in body["value"]]
        url = body.get("@odata.nextLink")
        assert url is None or "$skiptoken=" in url
        pages += 1
    assert len(seen) == len(set(seen)) == bc.store.count("customers")
    assert pages == -(-len(seen) // 50)


def test_server_page_size_option(bc: SandboxHandle, bc_http: httpx.Client) -> None:
    bc.options.page_size = 100
    try:
        body = bc_http.get(customers(bc), params={"$select": "number"}).json()
    finally:
        bc.options.page_size = 20000
    assert len(body["value"]) == 100 and "$select=number" in body["@odata.nextLink"]
    assert set(body["value"][0]) == {"@odata.etag", "number"}


def test_filter_unquoted_datetime_and_functions(bc: SandboxHandle, bc_http: httpx.Client) -> None:
    every = bc_http.get(
        customers(bc), params={"$filter": "lastModifiedDateTime gt 2019-08-18T20:05:51.603Z"}
    ).json()["value"]
    assert len(every) == bc.store.count("customers")
    none = bc_http.get(
        customers(bc), params={"$filter": "lastModifiedDateTime gt 2999-01-01T00:00:00Z"}
    ).json()["value"]
    assert none == []
    first = every[0]
    name = first["displayName"]
    found = bc_http.get(
        customers(bc),
        params={
            "$filter": f"tolower(displayName) eq '{name.lower()}' and number in "
            f"('{first['number']}','X')"
        },
    ).json()["value"]
    assert [c["id"] for c in found] == [first["id"]]
    ordered = bc_http.get(
        customers(bc), params={"$orderby": "number desc", "$top": "5", "$skip": "1"}
    ).json()["value"]
    numbers = [c["number"] for c in ordered]
    assert numbers == sorted(numbers, reverse=True) and len(numbers) == 5
    bad = bc_http.get(customers(bc), params={"$filter": "nope eq 1"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "BadRequest"


def test_create_update_delete_with_etags(bc: SandboxHandle, bc_http: httpx.Client) -> None:
    created = bc_http.post(
        customers(bc), json={"displayName": "Etag Test Ltd.", "currencyCode": "EUR"}
    )
    assert created.status_code == 201
    row = created.json()
    assert row["number"].startswith("C") and row["currencyId"] != ZERO
    url = f"{customers(bc)}({row['id']})"
    missing = bc_http.patch(url, json={"displayName": "x"})
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "BadRequest_InvalidToken"
    assert "CorrelationId" in missing.json()["error"]["message"]
    tag = {"If-Match": row["@odata.etag"]}
    ok = bc_http.patch(url, json={"displayName": "Renamed"}, headers=tag)
    assert ok.status_code == 200 and ok.json()["displayName"] == "Renamed"
    assert ok.json()["@odata.etag"] != row["@odata.etag"]
    stale = bc_http.patch(url, json={"displayName": "Again"}, headers=tag)
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "Request_EntityChanged"
    star = bc_http.patch(url, json={"creditLimit": 500}, headers={"If-Match": "*"})
    assert star.status_code == 200 and star.json()["creditLimit"] == 500
    assert bc_http.delete(url).status_code == 400
    assert bc_http.delete(url, headers={"If-Match": "*"}).status_code == 204
    gone = bc_http.get(url)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "BadRequest_NotFound"


def test_validation_errors(bc: SandboxHandle, bc_http: httpx.Client) -> None:
    unknown = bc_http.post(customers(bc), json={"displayName": "A", "colour": "red"})
    assert unknown.status_code == 400 and "'colour'" in unknown.json()["error"]["message"]
    long = bc_http.post(customers(bc), json={"displayName": "x" * 101})
    assert long.json()["error"]["code"] == "Application_StringExceededLength"
    enum = bc_http.post(customers(bc), json={"displayName": "A", "blocked": "Maybe"})
    assert enum.status_code == 400
    lookup = bc_http.post(customers(bc), json={"displayName": "A", "currencyCode": "XXX"})
    assert lookup.status_code == 400
    dup = bc_http.post(customers(bc), json={"displayName": "A", "number": "C00010"})
    assert dup.json()["error"]["code"] == "Internal_EntityWithSameKeyExists"
    nowhere = bc_http.get(f"companies({bc.company_id})/widgets")
    assert nowhere.status_code == 404
    assert nowhere.json()["error"]["code"] == "BadRequest_ResourceNotFound"
    ignored = bc_http.post(customers(bc), json={"displayName": "RO", "balanceDue": 99})
    assert ignored.status_code == 201 and ignored.json()["balanceDue"] == 0


def test_reject_rule_makes_one_record_fail(bc: SandboxHandle, bc_http: httpx.Client) -> None:
    bc.store.reject("customers", "displayName", "Poison Inc.", "Blocked by a test.")
    bad = bc_http.post(customers(bc), json={"displayName": "Poison Inc."})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "Application_DialogException"
    good = bc_http.post(customers(bc), json={"displayName": "Fine Inc."})
    assert good.status_code == 201


def test_batch_independent_and_limits(bc: SandboxHandle, bc_http: httpx.Client) -> None:
    rel = customers(bc)
    first = bc_http.get(rel, params={"$top": "1"}).json()["value"][0]
    batch = {
        "requests": [
            {
                "id": "1",
                "method": "POST",
                "url": rel,
                "headers": {"Content-Type": "application/json"},
                "body": {"displayName": "Batch One"},
            },
            {
                "id": "2",
                "method": "PATCH",
                "url": f"{rel}({first['id']})",
                "headers": {"If-Match": "*"},
                "body": {"phoneNumber": "+1 555"},
            },
            {"id": "3", "method": "POST", "url": rel, "body": {"displayName": "y" * 200}},
            {"id": "4", "method": "GET", "url": f"{rel}({first['id']})"},
        ]
    }
    resp = bc_http.post("$batch", json=batch)
    assert resp.status_code == 200
    statuses = {r["id"]: r["status"] for r in resp.json()["responses"]}
    assert statuses == {"1": 201, "2": 200, "3": 400, "4": 200}
    assert resp.json()["responses"][3]["body"]["phoneNumber"] == "+1 555"
    too_many = {"requests": [{"id": str(i), "method": "GET", "url": rel} for i in range(101)]}
    assert bc_http.post("$batch", json=too_many).status_code == 400
    with_header = {
        "requests": [
            {
                "id": "1",
                "method": "GET",
                "url": "customers?$top=1",
                "headers": {"Company": bc.company_name},
            }
        ]
    }
    answered = bc_http.post("$batch", json=with_header).json()["responses"][0]
    assert answered["status"] == 200 and len(answered["body"]["value"]) == 1


def test_batch_snapshot_rolls_back(bc: SandboxHandle, bc_http: httpx.Client) -> None:
    rel = customers(bc)
    before = bc.store.count("customers")
    batch = {
        "requests": [
            {"id": "a", "method": "POST", "url": rel, "body": {"displayName": "Atomic A"}},
            {"id": "b", "method": "POST", "url": rel, "body": {"displayName": "z" * 101}},
        ]
    }
    resp = bc_http.post("$batch", json=batch, headers={"Isolation": "snapshot"})
    statuses = [r["status"] for r in resp.json()["responses"]]
    assert statuses[1] == 400 and statuses[0] >= 400
    assert bc.store.count("customers") == before


def test_rate_limit_fault_and_stats(bc: SandboxHandle, bc_http: httpx.Client) -> None:
    bc.reset_stats()
    bc.faults.add(status=429, path=r"customers", count=1, retry_after=2)
    limited = bc_http.get(customers(bc), params={"$top": "1"})
    assert limited.status_code == 429 and limited.headers["retry-after"] == "2"
    assert "error" in limited.json()
    assert bc_http.get(customers(bc), params={"$top": "1"}).status_code == 200
    bc.faults.rate_limit(requests=2, window_seconds=60)
    codes = [bc_http.get("companies").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    stats = bc.stats()
    assert stats["total"] == 5
    root = urlsplit(bc.base_url).path
    assert stats["by_route"][f"GET {root}/companies({{key}})/customers"] == 2
    assert stats["by_route"][f"GET {root}/companies"] == 3


def test_seeded_volumes(bc: SandboxHandle) -> None:
    assert bc.store.count("contacts") == RECORDS // 2
    assert bc.store.count("items") == max(10, RECORDS // 5)
    assert {c["code"] for c in bc.store.all("currencies")} >= {"EUR", "GBP", "CAD", "DKK", "JPY"}
    assert len(bc.store.all("unitsOfMeasure")) == 8
    assert len(bc.store.all("salespeople")) == 5
    assert bc.store.count("priceListLines") > 0


def test_metadata_document(bc: SandboxHandle, bc_http: httpx.Client) -> None:
    resp = bc_http.get("$metadata")
    assert resp.status_code == 200 and 'Namespace="Microsoft.NAV"' in resp.text
    assert '<EntitySet Name="customers" EntityType="Microsoft.NAV.customer"/>' in resp.text
