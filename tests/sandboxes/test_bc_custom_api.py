"""The Business Central sandbox's custom API group ``accord/integration/v1.0`` over loopback
HTTPS: routes, OData behaviour like the standard entities, table validation, item triggers,
both companies, and a tenant without the extension."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from accord.sandboxes import SandboxHandle
from tests.sandboxes.conftest import api_client

GROUP = "accord/integration/v1.0"
SETS = (
    "salespeople",
    "shippingAgents",
    "priceLists",
    "priceListLines",
    "unitGroups",
    "itemUnitsOfMeasure",
    "currencyExchangeRates",
    "currencyRates",
)


@pytest.fixture()
def group_http(bc: SandboxHandle) -> Iterator[httpx.Client]:
    """A client whose base URL is the group's root beside the v2.0 one."""
    bc.faults.clear()
    with api_client(bc) as client:
        client.base_url = httpx.URL(bc.base_url.replace("/api/v2.0", f"/api/{GROUP}") + "/")
        yield client
    bc.options.custom_api = True


def companies(bc: SandboxHandle) -> list[str]:
    return [str(c["id"]) for c in bc.store.all("companies")]


def in_company(company: str, entity: str) -> str:
    return f"companies({company})/{entity}"


def test_every_set_served_for_both_companies(bc: SandboxHandle, group_http: httpx.Client) -> None:
    listed = group_http.get("companies").json()["value"]
    assert [c["id"] for c in listed] == [c["id"] for c in bc.store.all("companies")][:2]
    for company in companies(bc):
        for entity in SETS:
            body = group_http.get(in_company(company, entity)).json()
            assert body["@odata.context"].endswith(f"$metadata#companies({company})/{entity}")
            assert body["value"], f"{entity} is empty in company {company}"
            row = body["value"][0]
            assert row["@odata.etag"].startswith('W/"') and "lastModifiedDateTime" in row
    second = companies(bc)[1]
    codes = {r["code"] for r in group_http.get(in_company(second, "currencyRates")).json()["value"]}
    assert "USD" in codes  # the Canadian company's foreign currency


def test_moved_sets_are_gone_from_the_standard_route(
    bc: SandboxHandle, bc_http: httpx.Client
) -> None:
    for entity in ("salespeople", "priceLists", "priceListLines", "shippingAgents"):
        resp = bc_http.get(in_company(str(bc.company_id), entity))
        assert resp.status_code == 404 and resp.json()["error"]["code"] == (
            "BadRequest_ResourceNotFound"
        )


def test_metadata_of_the_group(group_http: httpx.Client) -> None:
    resp = group_http.get("$metadata")
    assert resp.status_code == 200
    assert '<EntitySet Name="shippingAgents"' in resp.text
    assert '<EntitySet Name="customers"' not in resp.text


def test_create_get_patch_delete_with_etags(bc: SandboxHandle, group_http: httpx.Client) -> None:
    url = in_company(str(bc.company_id), "shippingAgents")
    code = f"SA{uuid.uuid4().hex[:6].upper()}"
    created = group_http.post(url, json={"code": code, "displayName": "Speedy Parcel"})
    assert created.status_code == 201, created.text
    agent = created.json()
    assert agent["internetAddress"] == "" and created.headers["location"].endswith(
        f"shippingAgents({agent['id']})"
    )
    got = group_http.get(f"{url}({agent['id']})")
    assert (
        got.json()["displayName"] == "Speedy Parcel" and got.headers["etag"] == agent["@odata.etag"]
    )
    no_tag = group_http.patch(f"{url}({agent['id']})", json={"accountNo": "X"})
    assert no_tag.status_code == 400
    patched = group_http.patch(
        f"{url}({agent['id']})",
        json={"accountNo": "ACC-1"},
        headers={"If-Match": agent["@odata.etag"]},
    )
    assert patched.status_code == 200 and patched.json()["accountNo"] == "ACC-1"
    stale = group_http.patch(
        f"{url}({agent['id']})",
        json={"accountNo": "ACC-2"},
        headers={"If-Match": agent["@odata.etag"]},
    )
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "Request_EntityChanged"
    duplicate = group_http.post(url, json={"code": code})
    assert duplicate.status_code == 400
    assert duplicate.json()["error"]["code"] == "Internal_EntityWithSameKeyExists"
    blank = group_http.post(url, json={"displayName": "No code"})
    assert blank.status_code == 400 and "code must have a value" in blank.json()["error"]["message"]
    gone = group_http.delete(f"{url}({agent['id']})", headers={"If-Match": "*"})
    assert gone.status_code == 204
    assert group_http.get(f"{url}({agent['id']})").status_code == 404
    missing = group_http.patch(
        f"{url}({agent['id']})", json={"code": ""}, headers={"If-Match": "*"}
    )
    assert missing.status_code == 404


def test_paging_filter_select_like_the_standard_entities(
    bc: SandboxHandle, group_http: httpx.Client
) -> None:
    url: str | None = in_company(str(bc.company_id), "itemUnitsOfMeasure")
    seen: list[str] = []
    while url:
        resp = group_http.get(url, headers={"Prefer": "odata.maxpagesize=7"})
        assert resp.headers["preference-applied"] == "odata.maxpagesize=7"
        body = resp.json()
        assert len(body["value"]) <= 7
        seen += [r["id"] for r in body["value"]]
        url = body.get("@odata.nextLink")
    assert len(seen) == len(set(seen)) == bc.store.count("itemUnitsOfMeasure")
    boxes = group_http.get(
        in_company(str(bc.company_id), "itemUnitsOfMeasure"),
        params={
            "$filter": "unitOfMeasureCode eq 'BOX' and quantityPerUnitOfMeasure gt 1",
            "$select": "itemNumber,quantityPerUnitOfMeasure",
        },
    ).json()["value"]
    assert boxes and all(
        set(r) == {"@odata.etag", "itemNumber", "quantityPerUnitOfMeasure"} for r in boxes
    )
    assert all(Decimal(str(r["quantityPerUnitOfMeasure"])) == 12 for r in boxes)
    dated = group_http.get(
        in_company(str(bc.company_id), "currencyExchangeRates"),
        params={"$filter": "currencyCode eq 'EUR'", "$orderby": "startingDate desc"},
    ).json()["value"]
    assert len(dated) >= 3
    assert [r["startingDate"] for r in dated] == sorted(
        (r["startingDate"] for r in dated), reverse=True
    )


def test_unit_groups_follow_item_writes(
    bc: SandboxHandle, bc_http: httpx.Client, group_http: httpx.Client
) -> None:
    company = str(bc.company_id)
    item = bc_http.post(
        in_company(company, "items"),
        json={"displayName": "Group Test Lamp", "baseUnitOfMeasureCode": "PCS"},
    ).json()
    groups = group_http.get(
        in_company(company, "unitGroups"), params={"$filter": f"sourceId eq {item['id']}"}
    ).json()["value"]
    assert [g["code"] for g in groups] == [f"ITEM {item['number']} UOM GR"]
    assert groups[0]["sourceNumber"] == item["number"] and groups[0]["sourceType"] == "Item"
    units = group_http.get(
        in_company(company, "itemUnitsOfMeasure"),
        params={"$filter": f"itemNumber eq '{item['number']}'"},
    ).json()["value"]
    assert [(u["unitOfMeasureCode"], u["unitGroupCode"]) for u in units] == [
        ("PCS", f"ITEM {item['number']} UOM GR")
    ]
    refused = group_http.post(in_company(company, "unitGroups"), json={"sourceNumber": "X"})
    assert refused.status_code == 405
    box = group_http.post(
        in_company(company, "itemUnitsOfMeasure"),
        json={
            "itemNumber": item["number"],
            "unitOfMeasureCode": "BOX",
            "quantityPerUnitOfMeasure": 6,
        },
    )
    assert box.status_code == 201 and box.json()["unitGroupCode"] == groups[0]["code"]
    bad = [
        {"itemNumber": "NO-SUCH", "unitOfMeasureCode": "BOX"},
        {"itemNumber": item["number"], "unitOfMeasureCode": "NOPE"},
        {"itemNumber": item["number"], "unitOfMeasureCode": "KG", "quantityPerUnitOfMeasure": 0},
        {"itemNumber": item["number"], "unitOfMeasureCode": "BOX"},
    ]
    for body in bad:
        assert (
            group_http.post(in_company(company, "itemUnitsOfMeasure"), json=body).status_code == 400
        )
    deleted = bc_http.delete(
        f"{in_company(company, 'items')}({item['id']})", headers={"If-Match": "*"}
    )
    assert deleted.status_code == 204
    assert bc.store.find_raw("unitGroups", {"sourceId": item["id"]}, company) == []
    assert bc.store.find_raw("itemUnitsOfMeasure", {"itemNumber": item["number"]}, company) == []


def rate_of(group_http: httpx.Client, company: str, code: str) -> dict[str, Any]:
    rows = group_http.get(
        in_company(company, "currencyRates"), params={"$filter": f"code eq '{code}'"}
    ).json()["value"]
    assert len(rows) == 1
    return dict(rows[0])


def test_currency_rates_follow_exchange_rate_writes(
    bc: SandboxHandle, group_http: httpx.Client
) -> None:
    company = companies(bc)[1]
    url = in_company(company, "currencyExchangeRates")
    before = rate_of(group_http, company, "GBP")
    today = bc.clock.now().date().isoformat()
    created = group_http.post(
        url,
        json={
            "currencyCode": "GBP",
            "startingDate": today,
            "exchangeRateAmount": 100,
            "relationalExchangeRateAmount": 160,
        },
    )
    assert created.status_code == 201, created.text
    after = rate_of(group_http, company, "GBP")
    assert Decimal(str(after["exchangeRate"])) == Decimal("0.625")
    assert after["exchangeRateDate"] == today
    assert after["@odata.etag"] != before["@odata.etag"]
    assert after["lastModifiedDateTime"] > before["lastModifiedDateTime"]
    changed = group_http.get(
        in_company(company, "currencyRates"),
        params={"$filter": f"lastModifiedDateTime gt {before['lastModifiedDateTime']}"},
    ).json()["value"]
    assert "GBP" in {r["code"] for r in changed}
    clash = group_http.post(
        url,
        json={
            "currencyCode": "GBP",
            "startingDate": today,
            "exchangeRateAmount": 1,
            "relationalExchangeRateAmount": 2,
        },
    )
    assert clash.status_code == 400
    for bad in (
        {
            "currencyCode": "XXX",
            "startingDate": today,
            "exchangeRateAmount": 1,
            "relationalExchangeRateAmount": 1,
        },
        {
            "currencyCode": "GBP",
            "startingDate": "2020-01-01",
            "exchangeRateAmount": 0,
            "relationalExchangeRateAmount": 1,
        },
        {
            "currencyCode": "GBP",
            "relationalCurrencyCode": "GBP",
            "startingDate": "2020-01-02",
            "exchangeRateAmount": 1,
            "relationalExchangeRateAmount": 1,
        },
    ):
        assert group_http.post(url, json=bad).status_code == 400, bad
    group_http.delete(f"{url}({created.json()['id']})", headers={"If-Match": "*"})
    restored = rate_of(group_http, company, "GBP")
    assert restored["exchangeRate"] == before["exchangeRate"]
    assert restored["lastModifiedDateTime"] > after["lastModifiedDateTime"]
    assert group_http.post(in_company(company, "currencyRates"), json={}).status_code == 405


def test_batch_on_the_group_route(bc: SandboxHandle, group_http: httpx.Client) -> None:
    company = str(bc.company_id)
    body = {
        "requests": [
            {
                "id": "1",
                "method": "POST",
                "url": f"companies({company})/shippingAgents",
                "headers": {"Content-Type": "application/json"},
                "body": {"code": f"B{uuid.uuid4().hex[:6].upper()}", "displayName": "Batch"},
            },
            {"id": "2", "method": "GET", "url": f"companies({company})/salespeople"},
        ]
    }
    resp = group_http.post("$batch", json=body)
    answers = {r["id"]: r for r in resp.json()["responses"]}
    assert answers["1"]["status"] == 201 and answers["2"]["status"] == 200
    assert len(answers["2"]["body"]["value"]) == 5


def test_tenant_without_the_extension(bc: SandboxHandle, group_http: httpx.Client) -> None:
    bc.options.custom_api = False
    for path in ("companies", "$metadata", in_company(str(bc.company_id), "salespeople")):
        resp = group_http.get(path)
        assert resp.status_code == 404, path
        assert resp.json()["error"]["code"] == "BadRequest_NotFound"
    bc.options.custom_api = True
    assert group_http.get("companies").status_code == 200


@pytest.mark.parametrize(("installed", "status"), [(True, 200), (False, 404)])
def test_build_switch_for_the_extension(installed: bool, status: int) -> None:
    from accord.sandboxes import run_sandboxes

    with run_sandboxes(["business-central"], records=5, custom_api=installed) as sx:
        handle = sx["business-central"]
        with api_client(handle) as client:
            assert client.get("companies").status_code == 200
            url = handle.base_url.replace("/api/v2.0", f"/api/{GROUP}") + "/companies"
            assert client.get(url).status_code == status
