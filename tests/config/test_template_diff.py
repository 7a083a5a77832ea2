"""Comparing a stored template with a newer one: pairing, ids kept or re-keyed, effects."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from accord.config.loader import parse_template
from accord.config.spec import TemplateSpec
from accord.config.template_diff import diff_templates
from accord.errors import ConfigError


def _template(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "t",
        "roles": {"erp": "business-central", "crm": "dataverse"},
        "mappings": [
            {
                "name": "CUSTOMER",
                "erp": "customers",
                "crm": "accounts",
                "fields": [
                    {"erp": "number", "crm": "accountnumber", "match": True},
                    {"erp": "displayName", "crm": "name"},
                    {"erp": "city", "crm": "address1_city"},
                ],
            },
            {
                "name": "ITEM",
                "erp": "items",
                "crm": "products",
                "direction": "to_crm",
                "fields": [{"erp": "number", "crm": "productnumber", "direction": "to_crm"}],
            },
        ],
    }
    data.update(changes)
    return data


def _stored(data: dict[str, Any]) -> TemplateSpec:
    """A template as an integration stores it (field ids filled in)."""
    return parse_template(data, "old").with_field_ids()


def _customer(data: dict[str, Any]) -> dict[str, Any]:
    return next(m for m in data["mappings"] if m["name"] == "CUSTOMER")


def test_identical_templates_differ_in_nothing() -> None:
    result = diff_templates(_stored(_template()), parse_template(_template(), "new"))
    assert not result.changed and result.mappings == []


def test_added_removed_and_changed_fields_with_what_they_mean_for_baselines() -> None:
    old = _template()
    new = copy.deepcopy(old)
    fields = _customer(new)["fields"]
    fields.remove({"erp": "city", "crm": "address1_city"})
    fields.append({"erp": "phoneNumber", "crm": "telephone1"})
    fields[1]["direction"] = "to_crm"
    _customer(new)["filters"] = {"erp": {"field": "blocked", "op": "eq", "value": " "}}
    result = diff_templates(_stored(old), parse_template(new, "new"))
    (customer,) = result.mappings
    assert customer.status == "changed"
    assert [c.attribute for c in customer.changes] == ["filters"]
    assert "stay coupled" in customer.effects[0]
    by_status = {f.status: f for f in customer.fields}
    assert by_status["added"].id == "crm=telephone1:erp=phoneNumber"
    assert by_status["added"].baselines == "none" and "first sight" in by_status["added"].effect
    assert by_status["removed"].id == "crm=address1_city:erp=city"
    assert customer.drops == {"crm=address1_city:erp=city"}
    changed = by_status["changed"]
    assert changed.changes[0].attribute == "direction"
    assert (changed.changes[0].old, changed.changes[0].new) == ("both", "to_crm")
    assert changed.baselines == "kept"


def test_fields_pair_by_name_and_keep_their_stored_ids() -> None:
    """An integration migrated from the local/remote form stores ids like
    'number:accountnumber'; a new template without ids pairs by field names and keeps them."""
    stored = _stored(_template())
    legacy = stored.model_copy(
        update={
            "mappings": [
                m.model_copy(
                    update={
                        "fields": [
                            f.model_copy(update={"id": f"{f.field('erp')}:{f.field('crm')}"})
                            for f in m.fields
                        ]
                    }
                )
                for m in stored.mappings
            ]
        }
    )
    result = diff_templates(legacy, parse_template(_template(), "new"))
    assert not result.changed
    ids = [f.key for f in result.new.mapping("CUSTOMER").fields]
    assert ids == ["number:accountnumber", "displayName:name", "city:address1_city"]


def test_an_explicit_new_id_rekeys_the_baselines() -> None:
    new = _template()
    _customer(new)["fields"][2]["id"] = "customer.city"
    result = diff_templates(_stored(_template()), parse_template(new, "new"))
    (customer,) = result.mappings
    assert customer.rekeys == {"crm=address1_city:erp=city": "customer.city"}
    assert result.new.mapping("CUSTOMER").fields[2].key == "customer.city"


def test_a_field_changed_under_the_same_id_drops_its_baselines() -> None:
    old = _template()
    _customer(old)["fields"][2]["id"] = "customer.city"
    new = copy.deepcopy(old)
    _customer(new)["fields"][2]["crm"] = "address2_city"
    result = diff_templates(_stored(old), parse_template(new, "new"))
    (field,) = result.mappings[0].fields
    assert field.baselines == "dropped" and result.mappings[0].drops == {"customer.city"}
    assert field.changes[0].attribute == "fields"


def test_mappings_added_removed_renamed_and_retired() -> None:
    old = _template()
    old["mappings"].append(
        {
            "name": "CONTACT",
            "erp": "contacts",
            "crm": "contacts",
            "fields": [{"erp": "email", "crm": "emailaddress1"}],
        }
    )
    new = copy.deepcopy(old)
    new["mappings"][1]["name"] = "ITEM-PRODUCT"  # same entities: a rename
    new["mappings"][2]["crm"] = "leads"  # another entity: the old couplings are retired
    new["mappings"].append(
        {
            "name": "CURRENCY",
            "erp": "currencies",
            "crm": "transactioncurrencies",
            "fields": [{"erp": "code", "crm": "isocurrencycode"}],
        }
    )
    del new["mappings"][0]
    result = diff_templates(_stored(old), parse_template(new, "new"))
    status = {m.name: (m.status, m.old_name) for m in result.mappings}
    assert status == {
        "ITEM-PRODUCT": ("renamed", "ITEM"),
        "CONTACT": ("retired", "CONTACT"),
        "CURRENCY": ("added", None),
        "CUSTOMER": ("removed", None),
    }


def test_roles_must_stay_the_same() -> None:
    new = _template(roles={"erp": "business-central", "crm": "salesforce"})
    with pytest.raises(ConfigError, match=r"roles differ.*crm=salesforce.*crm=dataverse"):
        diff_templates(_stored(_template()), parse_template(new, "new"))


def test_template_version_and_name_changes_are_listed() -> None:
    result = diff_templates(
        _stored(_template()), parse_template(_template(version="2026.2"), "new")
    )
    assert [(c.attribute, c.old, c.new) for c in result.template_changes] == [
        ("version", None, "2026.2")
    ]


def test_only_changes_to_what_a_pass_reads_forget_change_feed_tokens() -> None:
    policy = _template()
    _customer(policy)["conflict"] = "source_wins"
    (customer,) = diff_templates(_stored(_template()), parse_template(policy, "new")).mappings
    assert not customer.changes_reads
    filtered = _template()
    _customer(filtered)["filters"] = {"crm": {"field": "statecode", "op": "eq", "value": 0}}
    (customer,) = diff_templates(_stored(_template()), parse_template(filtered, "new")).mappings
    assert customer.changes_reads


def test_an_entity_with_the_same_records_keeps_the_couplings() -> None:
    """bc-sales moved CUSTOMER from v2.0 ``customers`` to the custom API's
    ``integrationCustomers``, a page over the same rows: an upgrade must not retire it."""
    old = _template()
    new = copy.deepcopy(old)
    _customer(new)["erp"] = "integrationCustomers"
    _customer(new)["fields"].append({"erp": "shippingAgentCode", "crm": "shippingmethod"})
    retired = diff_templates(_stored(old), parse_template(new, "new"))
    assert [(m.name, m.status) for m in retired.mappings] == [("CUSTOMER", "retired")]
    _customer(new)["same_records_as"] = {"erp": "customers"}
    kept = diff_templates(_stored(old), parse_template(new, "new"))
    (customer,) = kept.mappings
    assert customer.status == "changed" and customer.changes_reads
    assert ("entities", {"erp": "customers", "crm": "accounts"}) in [
        (c.attribute, c.old) for c in customer.changes
    ]
    assert [f.status for f in customer.fields] == ["added"]  # the old fields keep baselines
    _customer(new)["same_records_as"] = {"erp": "contacts"}  # not what the old one read
    assert diff_templates(_stored(old), parse_template(new, "new")).mappings[0].status == (
        "retired"
    )
