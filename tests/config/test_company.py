"""``$company``: checked when a template loads, replaced everywhere it may appear."""

from __future__ import annotations

from typing import Any

import pytest

from accord.config.company import COMPANY, places, with_company
from accord.config.loader import parse_template
from accord.errors import ConfigError

ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
COMPANY_SECTION = {
    "of": "erp",
    "role": "crm",
    "entity": "bcbi_companies",
    "id_field": "bcbi_externalid",
    "name_field": "bcbi_name",
}


def template(**extra: Any) -> dict[str, Any]:
    mine = {"field": "_bcbi_companyid_value", "op": "eq", "value": COMPANY}
    empty = {"field": "_bcbi_companyid_value", "op": "eq", "value": None}
    return {
        "name": "t",
        "roles": {"erp": "business-central", "crm": "dataverse"},
        "mappings": [
            {
                "name": "CUSTOMER",
                "erp": "customers",
                "crm": "accounts",
                "filters": {"crm": {"all": [{"not": {"any": [mine]}}, {"any": [mine, empty]}]}},
                "new_record_defaults": {"crm": {"_bcbi_companyid_value": COMPANY}},
                "fields": [
                    {"erp": "number", "crm": "accountnumber"},
                    {"crm": "bcbi_tag", "constant": COMPANY, "direction": "to_crm"},
                ],
            }
        ],
        **extra,
    }


def test_placeholder_without_a_company_section_is_refused_naming_the_place() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_template(template(), "t.yaml")
    assert "mappings[CUSTOMER].filters.crm" in str(caught.value)
    assert "'company' section" in str(caught.value)


def test_company_section_names_roles_of_the_template() -> None:
    with pytest.raises(ConfigError, match=r"company\.of: 'bc' is not a role"):
        parse_template(template(company={**COMPANY_SECTION, "of": "bc"}), "t.yaml")
    with pytest.raises(ConfigError, match="name the same role"):
        parse_template(template(company={**COMPANY_SECTION, "role": "erp"}), "t.yaml")


def test_every_placeholder_is_replaced() -> None:
    spec = parse_template(template(company=COMPANY_SECTION), "t.yaml")
    assert list(places(spec)) == [
        "mappings[CUSTOMER].filters.crm",
        "mappings[CUSTOMER].new_record_defaults.crm",
        "mappings[CUSTOMER].fields[crm=bcbi_tag].constant",
    ]
    done = with_company(spec, ID)
    assert list(places(done)) == []
    customer = done.mapping("CUSTOMER")
    values = [c.value for c in customer.filters["crm"].conditions()]
    assert values == [ID, ID, None]
    assert customer.new_record_defaults["crm"]["_bcbi_companyid_value"] == ID
    assert customer.fields[1].constant == ID
    assert spec.mapping("CUSTOMER").new_record_defaults["crm"]["_bcbi_companyid_value"] == COMPANY


def test_a_filter_with_the_placeholder_checks_against_a_lookup_column() -> None:
    from accord.config.filters import check_filter
    from accord.connectors.dataverse.entities import ENTITIES

    spec = parse_template(template(company=COMPANY_SECTION), "t.yaml")
    check_filter(spec.mapping("CUSTOMER").filters["crm"], ENTITIES["accounts"], "here")
    number = {"field": "creditlimit", "op": "eq", "value": COMPANY}
    bad = parse_template(
        template(company=COMPANY_SECTION)
        | {"mappings": [{**template()["mappings"][0], "filters": {"crm": number}}]},
        "t.yaml",
    )
    with pytest.raises(ConfigError, match="is not a decimal"):
        check_filter(bad.mapping("CUSTOMER").filters["crm"], ENTITIES["accounts"], "here")
