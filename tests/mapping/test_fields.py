from __future__ import annotations

import pytest

from accord.config.spec import FieldMappingSpec, TableMappingSpec
from accord.connectors.base import EntityInfo, FieldInfo, FieldType
from accord.errors import ConfigError, SkippableError
from accord.mapping.fields import CompiledMapping, FieldRule


def rule(**kw: object) -> FieldRule:
    spec = TableMappingSpec(name="X", local="a", remote="b", fields=[FieldMappingSpec(**kw)])  # type: ignore[arg-type]
    return CompiledMapping.compile(spec).rules[0]


def test_lookup_through_couplings_by_key() -> None:
    r = rule(
        local="salespersonCode",
        remote="_ownerid_value",
        direction="to_remote",
        lookup="SALESPEOPLE",
        lookup_by="key",
    )
    tables = {("SALESPEOPLE", "key", "to_remote"): {"JO": "guid-1"}}
    assert r.map_value("to_remote", {"salespersonCode": "JO"}, tables) == "guid-1"
    assert r.map_value("to_remote", {"salespersonCode": ""}, tables) is None
    with pytest.raises(SkippableError, match="not coupled"):
        r.map_value("to_remote", {"salespersonCode": "XX"}, tables)


def test_clear_value_on_failed_lookup_writes_blank() -> None:
    r = rule(
        local="currencyId",
        remote="_transactioncurrencyid_value",
        direction="to_remote",
        lookup="CURRENCY",
        clear_on_failed_lookup=True,
    )
    assert r.map_value("to_remote", {"currencyId": "unknown"}, {}) is None
    assert (
        r.map_value("to_remote", {"currencyId": "00000000-0000-0000-0000-000000000000"}, {}) is None
    )


def test_option_map_both_ways() -> None:
    r = rule(local="blocked", remote="statecode", option_map={" ": 0, "All": 1})
    assert r.map_value("to_remote", {"blocked": "All"}, {}) == 1
    assert r.map_value("from_remote", {"statecode": 0}, {}) == " "


def test_compile_checks_fields_against_entities() -> None:
    spec = TableMappingSpec(
        name="X", local="a", remote="b", fields=[FieldMappingSpec(local="nme", remote="name")]
    )
    entities = {
        "local": EntityInfo("a", "id", {"id": FieldInfo("id"), "name": FieldInfo("name")}),
        "remote": EntityInfo("b", "id", {"name": FieldInfo("name", FieldType.STRING)}),
    }
    with pytest.raises(ConfigError) as err:
        CompiledMapping.compile(spec, entities)  # type: ignore[arg-type]
    assert "nme" in str(err.value) and "name" in str(err.value)
    assert "mappings[X]" in str(err.value)
