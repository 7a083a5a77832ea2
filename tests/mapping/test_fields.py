from __future__ import annotations

import pytest

from accord.config.spec import TableMappingSpec
from accord.connectors.base import EntityInfo, FieldInfo, FieldType
from accord.errors import ConfigError, SkippableError
from accord.mapping.fields import CompiledMapping, FieldRule

ROLES = ("erp", "crm")


def rule(**kw: object) -> FieldRule:
    spec = TableMappingSpec.model_validate({"name": "X", "erp": "a", "crm": "b", "fields": [kw]})
    return CompiledMapping.compile(spec, ROLES).rules[0]


def test_lookup_through_couplings_by_key() -> None:
    r = rule(
        erp="salespersonCode",
        crm="_ownerid_value",
        direction="to_crm",
        lookup="SALESPEOPLE",
        lookup_by={"erp": "key"},
    )
    tables = {("SALESPEOPLE", "to_crm", "key", "id"): {"JO": "guid-1"}}
    assert r.map_value("to_crm", {"salespersonCode": "JO"}, tables) == "guid-1"
    assert r.map_value("to_crm", {"salespersonCode": ""}, tables) is None
    with pytest.raises(SkippableError, match="not coupled"):
        r.map_value("to_crm", {"salespersonCode": "XX"}, tables)


def test_clear_value_on_failed_lookup_writes_blank() -> None:
    r = rule(
        erp="currencyId",
        crm="_transactioncurrencyid_value",
        direction="to_crm",
        lookup="CURRENCY",
        clear_on_failed_lookup=True,
    )
    assert r.map_value("to_crm", {"currencyId": "unknown"}, {}) is None
    assert r.map_value("to_crm", {"currencyId": "00000000-0000-0000-0000-000000000000"}, {}) is None


def test_option_map_both_ways() -> None:
    r = rule(
        erp="blocked",
        crm="statecode",
        option_map=[{"erp": " ", "crm": 0}, {"erp": "All", "crm": 1}],
    )
    assert r.map_value("to_crm", {"blocked": "All"}, {}) == 1
    assert r.map_value("to_erp", {"statecode": 0}, {}) == " "


def test_compile_checks_fields_against_entities() -> None:
    spec = TableMappingSpec.model_validate(
        {"name": "X", "erp": "a", "crm": "b", "fields": [{"erp": "nme", "crm": "name"}]}
    )
    entities = {
        "erp": EntityInfo("a", "id", {"id": FieldInfo("id"), "name": FieldInfo("name")}),
        "crm": EntityInfo("b", "id", {"name": FieldInfo("name", FieldType.STRING)}),
    }
    with pytest.raises(ConfigError) as err:
        CompiledMapping.compile(spec, ROLES, entities)
    assert "nme" in str(err.value) and "name" in str(err.value)
    assert "mappings[X].fields[crm=name:erp=nme].erp" in str(err.value)


def test_pass_roles_name_the_valid_directions() -> None:
    m = rule(erp="a", crm="b")
    assert m.source_of("to_crm") == "erp" and m.source_of("to_erp") == "crm"
    spec = TableMappingSpec.model_validate(
        {"name": "X", "erp": "a", "crm": "b", "fields": [{"erp": "a", "crm": "b"}]}
    )
    compiled = CompiledMapping.compile(spec, ROLES)
    assert compiled.pass_roles("to_erp") == ("crm", "erp")
    assert compiled.directions() == ["to_crm", "to_erp"]
    with pytest.raises(ConfigError, match="valid: to_erp, to_crm"):
        compiled.pass_roles("to_remote")
