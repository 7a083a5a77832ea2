"""The custom API group's pages over base-app tables that v2.0 also serves
(``integrationCustomers``, ``integrationItems``, ``integrationContacts``): the same rows under
the same ids, a write through either route changing the one row, what v2.0 lacks validated as
the table relations validate it, and the price-list line's item unit."""

from __future__ import annotations

import uuid

import httpx

from accord.sandboxes import SandboxHandle
from tests.sandboxes.test_bc_custom_api import group_http, in_company

__all__ = ["group_http"]  # the fixture, shared with the group's other tests


def test_pages_show_the_rows_of_the_standard_sets(
    bc: SandboxHandle, group_http: httpx.Client
) -> None:
    for company in (str(c["id"]) for c in bc.store.all("companies")):
        for page, standard in (
            ("integrationCustomers", "customers"),
            ("integrationItems", "items"),
            ("integrationContacts", "contacts"),
        ):
            body = group_http.get(in_company(company, page), params={"$top": 1000}).json()
            rows = {r["id"]: r for r in body["value"]}
            assert rows.keys() == {r["id"] for r in bc.store.all(standard, company)}
    customers = bc.store.all("integrationCustomers")
    assert any(c["shippingAgentCode"] for c in customers)
    assert any(c["primaryContactNumber"] for c in customers)
    numbers = {c["number"] for c in bc.store.all("contacts")}
    assert {c["primaryContactNumber"] for c in customers} - {""} <= numbers


def test_a_write_through_either_route_changes_the_same_row(
    bc: SandboxHandle, group_http: httpx.Client, bc_http: httpx.Client
) -> None:
    company = str(bc.company_id)
    created = group_http.post(
        in_company(company, "integrationCustomers"),
        json={"displayName": "Page Made Ltd.", "shippingAgentCode": "UPS"},
    )
    assert created.status_code == 201, created.text
    customer = created.json()
    standard = bc_http.get(in_company(company, f"customers({customer['id']})")).json()
    # one number series, the table's defaults for what the page was not given
    assert standard["number"] == customer["number"] and standard["number"].startswith("C")
    assert standard["blocked"] == " " and standard["type"] == "Company"
    assert standard["@odata.etag"] == customer["@odata.etag"]
    renamed = bc_http.patch(
        in_company(company, f"customers({customer['id']})"),
        json={"displayName": "Renamed Through v2.0"},
        headers={"If-Match": standard["@odata.etag"]},
    )
    assert renamed.status_code == 200
    page = group_http.get(in_company(company, f"integrationCustomers({customer['id']})")).json()
    assert page["displayName"] == "Renamed Through v2.0" and page["shippingAgentCode"] == "UPS"
    stale = group_http.patch(
        in_company(company, f"integrationCustomers({customer['id']})"),
        json={"shippingAgentCode": "DHL"},
        headers={"If-Match": customer["@odata.etag"]},
    )
    assert stale.status_code == 409  # the v2.0 write changed the row's etag
    gone = bc_http.delete(
        in_company(company, f"customers({customer['id']})"), headers={"If-Match": "*"}
    )
    assert gone.status_code == 204
    missing = group_http.get(in_company(company, f"integrationCustomers({customer['id']})"))
    assert missing.status_code == 404


def test_customer_relations_are_validated(bc: SandboxHandle, group_http: httpx.Client) -> None:
    company = str(bc.company_id)
    url = in_company(company, "integrationCustomers")
    for body, table in (
        ({"shippingAgentCode": "NOPE"}, "Shipping Agent"),
        ({"primaryContactNumber": "CT999999"}, "Contact"),
    ):
        refused = group_http.post(url, json={"displayName": "Refused", **body})
        assert refused.status_code == 400
        assert f"related table ({table})" in refused.json()["error"]["message"]
    person = next(c for c in bc.store.all("contacts", company) if c["type"] == "Person")
    made = group_http.post(
        url, json={"displayName": "With Contact", "primaryContactNumber": person["number"]}
    )
    assert made.status_code == 201 and made.json()["primaryContactNumber"] == person["number"]
    bc.store.delete("customers", made.json()["id"], company)


def test_an_items_base_unit_is_its_own_item_unit_of_measure(
    bc: SandboxHandle, group_http: httpx.Client, bc_http: httpx.Client
) -> None:
    company = str(bc.company_id)
    number = f"PG{uuid.uuid4().hex[:6].upper()}"  # outside the I… number series
    made = bc_http.post(
        in_company(company, "items"), json={"number": number, "baseUnitOfMeasureCode": "PCS"}
    )
    assert made.status_code == 201, made.text
    item_id = made.json()["id"]
    page = group_http.get(in_company(company, f"integrationItems({item_id})")).json()
    units = {
        u["unitOfMeasureCode"]: u["id"]
        for u in bc.store.all("itemUnitsOfMeasure", company)
        if u["itemNumber"] == number
    }
    assert page["baseItemUnitOfMeasureId"] == units["PCS"]
    box = group_http.post(
        in_company(company, "itemUnitsOfMeasure"),
        json={"itemNumber": number, "unitOfMeasureCode": "BOX", "quantityPerUnitOfMeasure": 12},
    )
    assert box.status_code == 201, box.text
    # setting the item unit sets the item's base unit to that unit's code
    moved = group_http.patch(
        in_company(company, f"integrationItems({item_id})"),
        json={"baseItemUnitOfMeasureId": box.json()["id"]},
        headers={"If-Match": page["@odata.etag"]},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["baseUnitOfMeasureCode"] == "BOX"
    assert moved.json()["baseItemUnitOfMeasureId"] == box.json()["id"]
    again = group_http.get(in_company(company, f"integrationItems({item_id})"))
    assert again.headers["etag"] == moved.headers["etag"]  # computed on read: no new version
    unknown = group_http.patch(
        in_company(company, f"integrationItems({item_id})"),
        json={"baseItemUnitOfMeasureId": str(uuid.uuid4())},
        headers={"If-Match": "*"},
    )
    assert unknown.status_code == 400
    gone = bc_http.delete(in_company(company, f"items({item_id})"), headers={"If-Match": "*"})
    assert gone.status_code == 204  # the shared sandbox keeps its seeded volumes


def test_a_price_line_names_its_item_unit(bc: SandboxHandle, group_http: httpx.Client) -> None:
    company = str(bc.company_id)
    units = {
        (u["itemNumber"], u["unitOfMeasureCode"]): u["id"]
        for u in bc.store.all("itemUnitsOfMeasure", company)
    }
    lines = bc.store.all("priceListLines", company)
    assert lines
    for line in lines:
        assert line["itemUnitOfMeasureId"] == units[(line["assetNo"], line["unitOfMeasureCode"])]
    item, unit = next(key for key in units if key[1] == "BOX")
    made = group_http.post(
        in_company(company, "priceListLines"),
        json={
            "priceListCode": lines[0]["priceListCode"],
            "assetNo": item,
            "unitOfMeasureCode": unit,
            "unitPrice": 10,
            "itemUnitOfMeasureId": str(uuid.uuid4()),  # read-only: the page sets it
        },
    )
    assert made.status_code == 201, made.text
    assert made.json()["itemUnitOfMeasureId"] == units[(item, unit)]
    bc.store.delete("priceListLines", made.json()["id"], company)
