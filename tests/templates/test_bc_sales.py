"""The bc-sales template against Microsoft's default mappings (microsoft/BCApps
``CDSSetupDefaults`` / ``CRMSetupDefaults`` / ``CRMIntegrationManagement.AddExtraFieldMappings``;
table of sources in docs/adr/0012-bc-sales-microsoft-defaults.md)."""

from __future__ import annotations

from typing import Any

import pytest

from accord.config.company import COMPANY, with_company
from accord.config.filters import matches
from accord.config.loader import load_template
from accord.config.spec import FieldMappingSpec, TableMappingSpec, TemplateSpec

THIS, OTHER = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"


@pytest.fixture(scope="module")
def template() -> TemplateSpec:
    return with_company(load_template("bc-sales"), THIS)


def field(mapping: TableMappingSpec, **names: str) -> FieldMappingSpec:
    for f in mapping.fields:
        if all(f.field(role) == name for role, name in names.items()):
            return f
    raise AssertionError(f"{mapping.name} maps no field {names}")


def passes(mapping: TableMappingSpec, role: str, row: dict[str, Any]) -> bool:
    condition = mapping.filters.get(role)
    return condition is None or matches(condition, row)


def test_customer_filters_leave_out_blocked_inactive_other_types_and_other_companies(
    template: TemplateSpec,
) -> None:
    customer = template.mapping("CUSTOMER")
    assert passes(customer, "erp", {"blocked": " "})
    for blocked in ("Ship", "Invoice", "All"):
        assert not passes(customer, "erp", {"blocked": blocked})
    account = {"statecode": 0, "customertypecode": 3, "_bcbi_companyid_value": None}
    assert passes(customer, "crm", account)
    assert passes(customer, "crm", {**account, "_bcbi_companyid_value": THIS})
    for change in (
        {"statecode": 1},
        {"customertypecode": 11},
        {"customertypecode": None},
        {"_bcbi_companyid_value": OTHER},
    ):
        assert not passes(customer, "crm", {**account, **change}), change


def test_contact_filters_need_a_company_on_both_sides(template: TemplateSpec) -> None:
    contact = template.mapping("CONTACT")
    person = {"type": "Person", "companyNumber": "CT000010", "customerNumber": "C00010"}
    assert passes(contact, "erp", person)
    assert not passes(contact, "erp", {**person, "type": "Company"})
    assert not passes(contact, "erp", {**person, "companyNumber": "", "customerNumber": ""})
    dv = {"_parentcustomerid_value": OTHER, "statecode": 0, "_bcbi_companyid_value": None}
    assert passes(contact, "crm", dv)
    assert not passes(contact, "crm", {**dv, "_parentcustomerid_value": None})
    assert not passes(contact, "crm", {**dv, "statecode": 1})
    assert not passes(contact, "crm", {**dv, "_bcbi_companyid_value": OTHER})


def test_items_and_products_filters(template: TemplateSpec) -> None:
    item = template.mapping("ITEM-PRODUCT")
    assert passes(item, "erp", {"blocked": False})
    assert not passes(item, "erp", {"blocked": True})
    product = {"producttypecode": 1, "statecode": 0, "_bcbi_companyid_value": THIS}
    assert passes(item, "crm", product)
    for change in ({"producttypecode": 3}, {"producttypecode": 2}, {"statecode": 1}):
        assert not passes(item, "crm", {**product, **change}), change


def test_salespeople_are_enabled_licensed_users_that_are_not_integration_users(
    template: TemplateSpec,
) -> None:
    people = template.mapping("SALESPEOPLE")
    user = {"isdisabled": False, "islicensed": True, "isintegrationuser": False}
    assert passes(people, "crm", user)
    for change in ({"isdisabled": True}, {"islicensed": False}, {"isintegrationuser": True}):
        assert not passes(people, "crm", {**user, **change}), change


@pytest.mark.parametrize(
    ("names", "direction"),
    [
        ({"erp": "currencyCode", "crm": "_transactioncurrencyid_value"}, "both"),
        ({"erp": "paymentTermsId", "crm": "paymenttermscode"}, "both"),
        ({"erp": "shipmentMethodId", "crm": "address1_freighttermscode"}, "both"),
        ({"erp": "number", "crm": "accountnumber"}, "to_crm"),
        ({"erp": "creditLimit", "crm": "creditlimit"}, "to_crm"),
        ({"erp": "salespersonCode", "crm": "_ownerid_value"}, "to_crm"),
    ],
)
def test_customer_field_directions(
    template: TemplateSpec, names: dict[str, str], direction: str
) -> None:
    assert field(template.mapping("CUSTOMER"), **names).direction == direction


def test_shipment_methods_are_freight_terms_and_shipping_agents_are_carriers(
    template: TemplateSpec,
) -> None:
    assert template.mapping("SHIPMENT METHOD").entity("crm") == "account.address1_freighttermscode"
    agents = template.mapping("SHIPPING AGENT")
    assert (agents.entity("erp"), agents.entity("crm")) == (
        "shippingAgents",
        "account.address1_shippingmethodcode",
    )
    customer = template.mapping("CUSTOMER")
    assert not [
        f
        for f in customer.fields
        if f.field("crm") == "address1_shippingmethodcode" and f.field("erp") == "shipmentMethodId"
    ]
    assert "SHIPPING AGENT" in customer.depends_on


def test_item_number_and_price_go_to_sales_only(template: TemplateSpec) -> None:
    item = template.mapping("ITEM-PRODUCT")
    assert field(item, erp="number", crm="productnumber").direction == "to_crm"
    assert field(item, erp="unitPrice", crm="price").direction == "to_crm"
    assert field(item, erp="displayName", crm="name").direction == "both"


def test_currencies_carry_business_centrals_rate(template: TemplateSpec) -> None:
    currency = template.mapping("CURRENCY")
    assert currency.entity("erp") == "currencyRates"
    assert field(currency, erp="exchangeRate", crm="exchangerate").direction == "to_crm"
    assert "exchangerate" not in currency.new_record_defaults.get("crm", {})


def test_units_are_unit_groups_with_their_units(template: TemplateSpec) -> None:
    groups, units = template.mapping("UNIT GROUP"), template.mapping("ITEM UOM")
    assert (groups.entity("erp"), groups.entity("crm")) == ("unitGroups", "uomschedules")
    assert (units.entity("erp"), units.entity("crm")) == ("itemUnitsOfMeasure", "uoms")
    assert field(units, erp="unitGroupCode", crm="_uomscheduleid_value").lookup == "UNIT GROUP"
    item = template.mapping("ITEM-PRODUCT")
    assert field(item, erp="number", crm="_defaultuomscheduleid_value").lookup == "UNIT GROUP"
    assert "UNIT OF MEASURE" not in {m.name for m in template.mappings}


def test_contact_company_is_found_through_the_customer(template: TemplateSpec) -> None:
    parent = field(template.mapping("CONTACT"), crm="_parentcustomerid_value")
    assert parent.field("erp") == "customerNumber"  # not the company contact's number
    assert (parent.lookup, parent.lookup_by, parent.direction) == (
        "CUSTOMER",
        {"erp": "key"},
        "both",
    )


def test_company_rows_are_set_on_insert(template: TemplateSpec) -> None:
    for name in ("CUSTOMER", "CONTACT", "ITEM-PRODUCT", "PRICE LIST"):
        defaults = template.mapping(name).new_record_defaults["crm"]
        assert defaults["_bcbi_companyid_value"] == THIS, name
    raw = load_template("bc-sales")
    assert raw.mapping("CUSTOMER").new_record_defaults["crm"]["_bcbi_companyid_value"] == COMPANY
