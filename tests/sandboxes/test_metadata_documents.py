"""The sandboxes' ``$metadata`` documents: the CSDL shape the real services publish,
generated from the entity sets they serve (custom columns included)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx

from accord.sandboxes import SandboxHandle, run_sandboxes
from accord.sandboxes.dataverse.protocol import DvOptions
from tests.sandboxes.conftest import api_client

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"


def _types(text: str) -> dict[str, ET.Element]:
    root = ET.fromstring(text)
    return {t.get("Name", ""): t for t in root.iter(f"{EDM}EntityType")}


def test_dataverse_publishes_csdl_with_lookups_and_read_only_annotations(
    dv: SandboxHandle, dv_http: httpx.Client
) -> None:
    plain = dv_http.get("$metadata")
    assert plain.status_code == 200 and plain.headers["content-type"].startswith("application/xml")
    assert "Org.OData.Core.V1.Computed" not in plain.text  # only when asked for, as the service
    annotated = dv_http.get("$metadata", params={"annotations": "true"})
    root = ET.fromstring(annotated.text)
    schema = next(root.iter(f"{EDM}Schema"))
    assert (schema.get("Namespace"), schema.get("Alias")) == ("Microsoft.Dynamics.CRM", "mscrm")
    sets = {s.get("Name"): s.get("EntityType") for s in root.iter(f"{EDM}EntitySet")}
    assert sets["accounts"] == "mscrm.account" and set(sets) == set(dv.store.specs)
    account = _types(annotated.text)["account"]
    assert account.get("BaseType") == "mscrm.crmbaseentity"
    props = {p.get("Name"): p for p in account.iter(f"{EDM}Property")}
    assert props["creditlimit"].get("Type") == "Edm.Decimal"
    terms = {a.get("Term") for a in props["modifiedon"].iter(f"{EDM}Annotation")}
    assert "Org.OData.Core.V1.Computed" in terms
    assert not list(props["name"].iter(f"{EDM}Annotation"))
    navs = {n.get("Name"): n for n in account.iter(f"{EDM}NavigationProperty")}
    constraint = next(navs["primarycontactid"].iter(f"{EDM}ReferentialConstraint"))
    assert navs["primarycontactid"].get("Type") == "mscrm.contact"
    assert constraint.get("Property") == "_primarycontactid_value"
    assert constraint.get("ReferencedProperty") == "contactid"


def test_a_custom_dataverse_column_is_described_read_and_written(tmp_path: object) -> None:
    options = {"dataverse": DvOptions(custom_columns={"accounts": ["cr3f2_loyaltytier::20"]})}
    with (
        run_sandboxes(["dataverse"], records=3, options=options) as sx,
        api_client(sx["dataverse"]) as http,
    ):
        text = http.get("$metadata").text
        props = {p.get("Name"): p for p in _types(text)["account"].iter(f"{EDM}Property")}
        assert props["cr3f2_loyaltytier"].get("Type") == "Edm.String"
        made = http.post("accounts", json={"name": "Gold", "cr3f2_loyaltytier": "gold"})
        assert made.status_code == 204
        rows = http.get("accounts", params={"$filter": "cr3f2_loyaltytier eq 'gold'"}).json()
        assert [r["name"] for r in rows["value"]] == ["Gold"]
        too_long = http.post("accounts", json={"name": "X", "cr3f2_loyaltytier": "x" * 21})
        assert too_long.status_code == 400 and "cr3f2_loyaltytier" in too_long.text


def test_business_central_describes_lookups_and_computed_fields(
    bc: SandboxHandle, bc_http: httpx.Client
) -> None:
    text = bc_http.get("$metadata").text
    customer = _types(text)["customer"]
    props = {p.get("Name"): p for p in customer.iter(f"{EDM}Property")}
    assert props["displayName"].get("MaxLength") == "100"
    assert [a.get("Term") for a in props["balanceDue"].iter(f"{EDM}Annotation")] == [
        "Org.OData.Core.V1.Computed"
    ]
    navs = {n.get("Name"): n for n in customer.iter(f"{EDM}NavigationProperty")}
    constraint = next(navs["currency"].iter(f"{EDM}ReferentialConstraint"))
    assert (constraint.get("Property"), constraint.get("ReferencedProperty")) == (
        "currencyId",
        "id",
    )


def test_an_api_group_that_is_not_installed_answers_404(
    bc: SandboxHandle, bc_http: httpx.Client
) -> None:
    root = bc.base_url.rpartition("/api/")[0]
    assert bc_http.get(f"{root}/api/contoso/absent/v1.0/$metadata").status_code == 404
