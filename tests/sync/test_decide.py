"""The per-record decision: unchanged, insert, modify only changed fields, merge, conflicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from accord.config.spec import TableMappingSpec
from accord.connectors.base import Record
from accord.mapping.fields import CompiledMapping
from accord.sync.decide import CouplingView, decide, source_hash

T0 = datetime(2026, 1, 1, tzinfo=UTC)


ROLES = ("erp", "crm")
NAME = "crm=name:erp=displayName"
CITY = "crm=address1_city:erp=city"


def mapping(conflict: str = "hold", direction: str = "both") -> CompiledMapping:
    return CompiledMapping.compile(
        TableMappingSpec.model_validate(
            {
                "name": "CUSTOMER",
                "erp": "customers",
                "crm": "accounts",
                "direction": direction,
                "conflict": conflict,
                "new_record_defaults": {"crm": {"customertypecode": 3}},
                "fields": [
                    {"erp": "displayName", "crm": "name"},
                    {"erp": "city", "crm": "address1_city"},
                    {"erp": "creditLimit", "crm": "creditlimit", "direction": "to_crm"},
                    {"crm": "statecode", "constant": 0, "direction": "to_crm"},
                    {
                        "erp": "type",
                        "crm": "customertypecode",
                        "direction": "to_crm",
                        "option_map": [{"erp": "Company", "crm": 3}, {"erp": "Person", "crm": 1}],
                    },
                ],
            }
        ),
        ROLES,
    )


def erp(**values: object) -> Record:
    base = {"displayName": "Adatum", "city": "Oslo", "creditLimit": 100, "type": "Company"}
    base.update(values)
    return Record("L1", base, T0 + timedelta(minutes=5))


def crm(modified: datetime = T0, **values: object) -> Record:
    base = {
        "name": "Adatum",
        "address1_city": "Oslo",
        "creditlimit": 100,
        "statecode": 0,
        "customertypecode": 3,
    }
    base.update(values)
    return Record("R1", base, modified)


BASELINE = {
    NAME: {"erp": "Adatum", "crm": "Adatum"},
    CITY: {"erp": "Oslo", "crm": "Oslo"},
    "crm=creditlimit:erp=creditLimit": {"erp": 100, "crm": 100},
    "crm=statecode": {"erp": None, "crm": 0},
    "crm=customertypecode:erp=type": {"erp": "Company", "crm": 3},
}


def view(m: CompiledMapping, source: Record | None = None, **kw: object) -> CouplingView:
    stored = source_hash(m, "to_crm", source) if source is not None else None
    args = {
        "id": 1,
        "baseline": BASELINE,
        "source_hash": stored,
        "last_failed": False,
        "skipped": False,
    }
    args.update(kw)
    return CouplingView(**args)  # type: ignore[arg-type]


def test_uncoupled_is_ignored_unless_creating() -> None:
    m = mapping()
    assert decide(m, "to_crm", erp(), None, None, {}).action == "ignore"
    created = decide(m, "to_crm", erp(), None, None, {}, create_uncoupled=True)
    assert created.action == "insert"
    assert created.values == {
        "customertypecode": 3,
        "name": "Adatum",
        "address1_city": "Oslo",
        "creditlimit": 100,
        "statecode": 0,
    }
    assert created.baseline[NAME] == {"erp": "Adatum", "crm": "Adatum"}


def test_same_content_hash_is_unchanged_without_reading_destination() -> None:
    m = mapping()
    record = erp()
    decision = decide(m, "to_crm", record, view(m, record), None, {})
    assert decision.action == "unchanged"
    assert decision.values == {}


def test_only_changed_fields_are_written() -> None:
    m = mapping()
    changed = erp(city="Bergen")
    decision = decide(m, "to_crm", changed, view(m, erp()), crm(), {})
    assert decision.action == "modify"
    assert decision.values == {"address1_city": "Bergen"}
    assert decision.baseline[CITY] == {"erp": "Bergen", "crm": "Bergen"}


def test_different_fields_changed_on_both_sides_merge() -> None:
    m = mapping()
    decision = decide(m, "to_crm", erp(city="Bergen"), view(m, erp()), crm(name="Adatum Corp"), {})
    assert decision.action == "modify"
    assert decision.values == {"address1_city": "Bergen"}
    # the CRM's own change is left for the opposite pass: its baseline slot is untouched
    assert decision.baseline[NAME] == {"erp": "Adatum", "crm": "Adatum"}
    assert not decision.conflicts


def test_same_field_changed_differently_is_held() -> None:
    m = mapping("hold")
    decision = decide(
        m,
        "to_crm",
        erp(city="Bergen"),
        view(m, erp()),
        crm(address1_city="Trondheim"),
        {},
    )
    assert decision.action == "conflict"
    assert decision.values == {}
    conflict = decision.conflicts[CITY]
    assert conflict["values"] == {"erp": "Bergen", "crm": "Trondheim"}
    assert conflict["baseline"] == {"erp": "Oslo", "crm": "Oslo"}
    assert conflict["fields"] == {"erp": "city", "crm": "address1_city"}


def test_same_field_changed_to_same_value_is_no_conflict() -> None:
    m = mapping("hold")
    decision = decide(
        m, "to_crm", erp(city="Bergen"), view(m, erp()), crm(address1_city="Bergen"), {}
    )
    assert decision.action == "unchanged"
    assert decision.baseline[CITY] == {"erp": "Bergen", "crm": "Bergen"}


@pytest.mark.parametrize(
    ("policy", "crm_modified", "expected"),
    [
        ("source_wins", T0, {"address1_city": "Bergen"}),
        ("destination_wins", T0, {}),
        ("newest_wins", T0, {"address1_city": "Bergen"}),
        ("newest_wins", T0 + timedelta(hours=1), {}),
    ],
)
def test_conflict_policies(policy: str, crm_modified: datetime, expected: dict[str, str]) -> None:
    m = mapping(policy)
    decision = decide(
        m,
        "to_crm",
        erp(city="Bergen"),
        view(m, erp()),
        crm(crm_modified, address1_city="Trondheim"),
        {},
    )
    assert decision.values == expected
    assert not decision.conflicts
    if not expected:
        # destination wins: the source's value counts as synced so the opposite pass carries
        # the destination's value back
        assert decision.baseline[CITY] == {"erp": "Bergen", "crm": "Oslo"}


def test_unidirectional_field_never_conflicts() -> None:
    m = mapping("hold")
    decision = decide(m, "to_crm", erp(creditLimit=500), view(m, erp()), crm(creditlimit=900), {})
    assert decision.values == {"creditlimit": 500}


def test_skipped_coupling_is_skipped_and_failed_is_retried() -> None:
    m = mapping()
    record = erp()
    assert decide(m, "to_crm", record, view(m, record, skipped=True), None, {}).action == "skip"
    retried = decide(m, "to_crm", record, view(m, record, last_failed=True), crm(), {})
    assert retried.action == "unchanged"  # re-examined, found equal


def test_force_writes_every_field_that_differs() -> None:
    m = mapping()
    record = erp()
    decision = decide(m, "to_crm", record, view(m, record), crm(name="Other"), {}, force=True)
    assert decision.values == {"name": "Adatum"}


def test_unmapped_option_fails_the_record_with_the_valid_values() -> None:
    m = mapping()
    decision = decide(m, "to_crm", erp(type="Robot"), view(m, erp()), crm(), {})
    assert decision.action == "fail"
    assert "Robot" in (decision.error or "") and "Company" in (decision.error or "")


def test_pull_direction_uses_crm_as_source() -> None:
    m = mapping()
    decision = decide(m, "to_erp", crm(name="Adatum AS"), view(m), erp(), {})
    assert decision.values == {"displayName": "Adatum AS"}
    assert decision.baseline[NAME] == {"erp": "Adatum AS", "crm": "Adatum AS"}
