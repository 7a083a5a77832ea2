"""Dataverse Web API behaviour over loopback HTTPS."""

from __future__ import annotations

import uuid

import httpx

from accord.sandboxes import SandboxHandle
from tests.sandboxes.conftest import RECORDS


def test_create_returns_entity_id_and_representation(
    dv: SandboxHandle, dv_http: httpx.Client
) -> None:
    plain = dv_http.post("accounts", json={"name": "Plain Co"})
    assert plain.status_code == 204 and plain.content == b""
    entity_url = plain.headers["odata-entityid"]
    assert entity_url.startswith(dv.base_url + "/accounts(")
    rep = dv_http.post(
        "accounts",
        json={"name": "Rep Co"},
        params={"$select": "name"},
        headers={"Prefer": "return=representation"},
    )
    assert rep.status_code == 201
    body = rep.json()
    assert body["name"] == "Rep Co" and body["@odata.etag"].startswith('W/"')
    assert set(body) == {"@odata.context", "@odata.etag", "name", "accountid"}
    own_id = str(uuid.uuid4())
    mine = dv_http.post("accounts", json={"accountid": own_id, "name": "Mine"})
    assert mine.headers["odata-entityid"].endswith(f"accounts({own_id})")
    again = dv_http.post("accounts", json={"accountid": own_id, "name": "Mine"})
    assert again.status_code == 412
    row = dv_http.get(f"accounts({own_id})").json()
    assert row["modifiedon"].endswith("Z") and len(row["modifiedon"]) == 20
    integration = dv.core.extra["integration_user"]
    assert row["_modifiedby_value"] == row["_ownerid_value"] == integration


def test_upsert_semantics(dv: SandboxHandle, dv_http: httpx.Client) -> None:
    key = str(uuid.uuid4())
    created = dv_http.patch(f"accounts({key})", json={"name": "Upsert A"})
    assert created.status_code == 204 and created.headers["odata-entityid"].endswith(f"({key})")
    updated = dv_http.patch(
        f"accounts({key})", json={"name": "Upsert B"}, headers={"Prefer": "return=representation"}
    )
    assert updated.status_code == 200 and updated.json()["name"] == "Upsert B"
    fresh = dv_http.patch(
        f"accounts({uuid.uuid4()})",
        json={"name": "New"},
        headers={"Prefer": "return=representation"},
    )
    assert fresh.status_code == 201
    update_only = dv_http.patch(
        f"accounts({uuid.uuid4()})", json={"name": "x"}, headers={"If-Match": "*"}
    )
    assert update_only.status_code == 404
    assert "Does Not Exist" in update_only.json()["error"]["message"]
    create_only = dv_http.patch(
        f"accounts({key})", json={"name": "x"}, headers={"If-None-Match": "*"}
    )
    assert create_only.status_code == 412
    etag = dv_http.get(f"accounts({key})").json()["@odata.etag"]
    assert (
        dv_http.patch(
            f"accounts({key})", json={"name": "C"}, headers={"If-Match": etag}
        ).status_code
        == 204
    )
    stale = dv_http.patch(f"accounts({key})", json={"name": "D"}, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert dv_http.delete(f"accounts({key})", headers={"If-Match": etag}).status_code == 412
    assert dv_http.delete(f"accounts({key})").status_code == 204
    assert dv_http.delete(f"accounts({key})").status_code == 404


def test_alternate_keys(dv: SandboxHandle, dv_http: httpx.Client) -> None:
    made = dv_http.patch(
        "accounts(accountnumber='ALT-100')",
        json={"name": "Alt"},
        headers={"Prefer": "return=representation"},
    )
    assert made.status_code == 201 and made.json()["accountnumber"] == "ALT-100"
    again = dv_http.patch(
        "accounts(accountnumber='ALT-100')",
        json={"name": "Alt 2", "accountnumber": "IGNORED"},
        headers={"Prefer": "return=representation"},
    )
    assert again.status_code == 200
    assert again.json()["accountid"] == made.json()["accountid"]
    assert again.json()["accountnumber"] == "ALT-100"
    fetched = dv_http.get("transactioncurrencies(isocurrencycode='EUR')").json()
    assert fetched["currencyname"] == "Euro"
    undefined = dv_http.patch("accounts(telephone1='1')", json={"name": "x"})
    assert undefined.status_code == 400


def test_lookups_bind_and_read(dv: SandboxHandle, dv_http: httpx.Client) -> None:
    eur = dv_http.get("transactioncurrencies(isocurrencycode='EUR')").json()
    account = dv_http.post(
        "accounts",
        json={
            "name": "Bound",
            "transactioncurrencyid@odata.bind": (
                f"/transactioncurrencies({eur['transactioncurrencyid']})"
            ),
        },
        headers={"Prefer": "return=representation"},
    ).json()
    assert account["_transactioncurrencyid_value"] == eur["transactioncurrencyid"]
    contact = dv_http.post(
        "contacts",
        json={
            "firstname": "Ada",
            "lastname": "Lovelace",
            "parentcustomerid_account@odata.bind": f"/accounts({account['accountid']})",
        },
        headers={"Prefer": "return=representation"},
    ).json()
    assert contact["_parentcustomerid_value"] == account["accountid"]
    assert contact["fullname"] == "Ada Lovelace"
    filtered = dv_http.get(
        "contacts", params={"$filter": f"_parentcustomerid_value eq {account['accountid']}"}
    ).json()["value"]
    assert [c["contactid"] for c in filtered] == [contact["contactid"]]
    missing = dv_http.post(
        "accounts",
        json={
            "name": "x",
            "transactioncurrencyid@odata.bind": f"/transactioncurrencies({uuid.uuid4()})",
        },
    )
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "0x80040217"
    wrong_case = dv_http.post(
        "accounts",
        json={
            "name": "x",
            "TransactionCurrencyId@odata.bind": (
                f"/transactioncurrencies({eur['transactioncurrencyid']})"
            ),
        },
    )
    assert wrong_case.status_code == 400
    raw = dv_http.post(
        "accounts",
        json={"name": "x", "_transactioncurrencyid_value": str(eur["transactioncurrencyid"])},
    )
    assert raw.status_code == 400


def test_option_sets_and_insert_option_value(dv: SandboxHandle, dv_http: httpx.Client) -> None:
    url = (
        "EntityDefinitions(LogicalName='account')/Attributes(LogicalName='paymenttermscode')"
        "/Microsoft.Dynamics.CRM.PicklistAttributeMetadata"
    )
    meta = dv_http.get(
        url, params={"$select": "LogicalName", "$expand": "OptionSet($select=Options)"}
    ).json()
    labels = {
        o["Value"]: o["Label"]["UserLocalizedLabel"]["Label"] for o in meta["OptionSet"]["Options"]
    }
    assert labels == {1: "Net 30", 2: "2% 10, Net 30", 3: "Net 45", 4: "Net 60"}
    invalid = dv_http.post("accounts", json={"name": "x", "paymenttermscode": 99})
    assert invalid.status_code == 400 and "outside the valid range" in invalid.text
    added = dv_http.post(
        "InsertOptionValue",
        json={
            "EntityLogicalName": "account",
            "AttributeLogicalName": "paymenttermscode",
            "Label": {"LocalizedLabels": [{"Label": "COD", "LanguageCode": 1033}]},
        },
    )
    new_value = added.json()["NewOptionValue"]
    assert new_value >= 100_000_000
    ok = dv_http.post("accounts", json={"name": "COD Co", "paymenttermscode": new_value})
    assert ok.status_code == 204
    shipping = dv_http.get(url.replace("paymenttermscode", "address1_shippingmethodcode")).json()
    assert len(shipping["OptionSet"]["Options"]) == 7


def test_update_option_value_relabels_an_option(dv_http: httpx.Client) -> None:
    body = {
        "EntityLogicalName": "account",
        "AttributeLogicalName": "address1_shippingmethodcode",
        "Value": 3,
        "Label": {"LocalizedLabels": [{"Label": "FEDEX", "LanguageCode": 1033}]},
        "MergeLabels": True,
    }
    assert dv_http.post("UpdateOptionValue", json=body).status_code == 204
    url = (
        "EntityDefinitions(LogicalName='account')/Attributes(LogicalName="
        "'address1_shippingmethodcode')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata"
    )
    options = dv_http.get(url).json()["OptionSet"]["Options"]
    labels = {o["Value"]: o["Label"]["UserLocalizedLabel"]["Label"] for o in options}
    assert labels[3] == "FEDEX"
    missing = dv_http.post("UpdateOptionValue", json={**body, "Value": 99})
    assert missing.status_code == 404


def test_company_and_relationship_columns(dv: SandboxHandle, dv_http: httpx.Client) -> None:
    """The columns Microsoft's default filters need, with records they must leave out."""
    rows = dv_http.get(
        "accounts?$select=name,customertypecode,statecode,_bcbi_companyid_value"
        "&$filter=customertypecode eq 3 and statecode eq 0 and _bcbi_companyid_value eq null"
    ).json()["value"]
    assert rows and all("[excluded]" not in r["name"] for r in rows)
    assert len(rows) < dv.store.count("accounts")
    companies = dv_http.get("bcbi_companies?$select=bcbi_name,bcbi_externalid").json()["value"]
    assert companies
    url = (
        "EntityDefinitions(LogicalName='account')/Attributes(LogicalName="
        "'address1_freighttermscode')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata"
    )
    assert len(dv_http.get(url).json()["OptionSet"]["Options"]) == 2


def test_paging_count_and_skip(dv: SandboxHandle, dv_http: httpx.Client) -> None:
    url: str | None = "accounts?$select=name"
    seen: list[str] = []
    while url:
        resp = dv_http.get(url, headers={"Prefer": "odata.maxpagesize=17"})
        assert resp.headers["preference-applied"] == "odata.maxpagesize=17"
        body = resp.json()
        seen += [a["accountid"] for a in body["value"]]
        url = body.get("@odata.nextLink")
        assert url is None or "%3Ccookie" in url
    assert len(seen) == len(set(seen)) == dv.store.count("accounts")
    counted = dv_http.get("accounts", params={"$count": "true", "$top": "2"}).json()
    assert counted["@odata.count"] == dv.store.count("accounts") and len(counted["value"]) == 2
    assert dv_http.get("accounts", params={"$skip": "5"}).status_code == 400
    ignored_top = dv_http.get(
        "accounts", params={"$top": "1"}, headers={"Prefer": "odata.maxpagesize=3"}
    ).json()
    assert len(ignored_top["value"]) == 3


def test_change_tracking_with_deletes(dv: SandboxHandle, dv_http: httpx.Client) -> None:
    first = dv_http.get(
        "contacts",
        params={"$select": "fullname"},
        headers={"Prefer": "odata.track-changes, odata.maxpagesize=20"},
    )
    assert "odata.track-changes" in first.headers["preference-applied"]
    body = first.json()
    rows = list(body["value"])
    while "@odata.nextLink" in body:
        body = dv_http.get(
            body["@odata.nextLink"], headers={"Prefer": "odata.track-changes, odata.maxpagesize=20"}
        ).json()
        rows += body["value"]
    assert len(rows) == dv.store.count("contacts")
    delta = body["@odata.deltaLink"]
    assert "$deltatoken=" in delta and "$select=fullname" in delta
    empty = dv_http.get(delta).json()
    assert empty["value"] == [] and "@odata.deltaLink" in empty
    changed, doomed = rows[0]["contactid"], rows[1]["contactid"]
    dv.store.update("contacts", changed, {"fullname": "Changed By Someone"})
    dv_http.delete(f"contacts({doomed})")
    temp = dv.store.insert("contacts", {"fullname": "Short Lived"})
    dv.store.delete("contacts", temp["contactid"])
    changes = dv_http.get(delta).json()
    kinds = {(v.get("contactid") or v.get("id")): v for v in changes["value"]}
    assert kinds[changed]["fullname"] == "Changed By Someone"
    assert kinds[doomed]["reason"] == "deleted"
    assert kinds[doomed]["@odata.context"].endswith("$metadata#contacts/$deletedEntity")
    assert kinds[temp["contactid"]]["reason"] == "deleted"
    assert changes["@odata.context"].endswith("$metadata#contacts(fullname)/$delta")
    after = dv_http.get(changes["@odata.deltaLink"]).json()
    assert after["value"] == []
    for option in ("$filter=fullname eq 'x'", "$orderby=fullname", "$top=1"):
        bad = dv_http.get(f"contacts?{option}", headers={"Prefer": "odata.track-changes"})
        assert bad.status_code == 400 and "Change Tracking" in bad.json()["error"]["message"]


def test_large_delta_pages(dv: SandboxHandle, dv_http: httpx.Client) -> None:
    delta = dv_http.get("products", headers={"Prefer": "odata.track-changes"}).json()
    link = delta["@odata.deltaLink"]
    for i in range(12):
        dv.store.insert("products", {"name": f"Delta {i}", "productnumber": f"DP{i:03d}"})
    got: list[str] = []
    body = dv_http.get(link, headers={"Prefer": "odata.maxpagesize=5"}).json()
    got += [v["productid"] for v in body["value"]]
    while "@odata.nextLink" in body:
        body = dv_http.get(
            body["@odata.nextLink"], headers={"Prefer": "odata.maxpagesize=5"}
        ).json()
        got += [v["productid"] for v in body["value"]]
    assert len(got) == 12 and "@odata.deltaLink" in body


def test_not_found_errors(dv: SandboxHandle, dv_http: httpx.Client) -> None:
    missing = dv_http.get(f"accounts({uuid.uuid4()})")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "0x80040217"
    assert dv_http.get("widgets").status_code == 404
    unknown = dv_http.post("accounts", json={"name": "x", "colour": "red"})
    assert unknown.status_code == 400 and "'colour'" in unknown.json()["error"]["message"]
    who = dv_http.get("WhoAmI").json()
    assert who["UserId"] == dv.core.extra["integration_user"]


def test_service_protection_limit(dv: SandboxHandle, dv_http: httpx.Client) -> None:
    dv.faults.rate_limit(requests=1, window_seconds=30)
    assert dv_http.get("accounts", params={"$top": "1"}).status_code == 200
    limited = dv_http.get("accounts", params={"$top": "1"})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert limited.json()["error"]["code"] == "0x80072322"


def test_seed_overlaps_with_business_central(bc: SandboxHandle, dv: SandboxHandle) -> None:
    customers = {c["number"]: c["displayName"] for c in bc.store.all("customers")}
    accounts = dv.store.all("accounts")
    seeded = [a for a in accounts if a["accountnumber"] and a["accountnumber"].startswith("C")]
    assert len([a for a in accounts if a["accountnumber"]]) >= RECORDS // 4
    exact = [a for a in seeded if customers.get(a["accountnumber"]) == a["name"]]
    case_only = [
        a
        for a in seeded
        if a["name"] != customers.get(a["accountnumber"])
        and a["name"].lower() == customers.get(a["accountnumber"], "").lower()
    ]
    assert len(exact) >= RECORDS // 10 and len(case_only) >= 1
    sales_emails = {s["email"] for s in bc.store.all("salespeople")}
    user_emails = {u["internalemailaddress"] for u in dv.store.all("systemusers")}
    assert sales_emails <= user_emails
    currencies = {
        c["isocurrencycode"]: c["exchangerate"] for c in dv.store.all("transactioncurrencies")
    }
    assert currencies["USD"] == 1.0 and {"EUR", "GBP"} <= currencies.keys()
