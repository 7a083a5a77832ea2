"""The per-record decision: unchanged, insert, modify only changed fields, merge, conflicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from accord.config.spec import FieldMappingSpec, TableMappingSpec
from accord.connectors.base import Record
from accord.mapping.fields import CompiledMapping
from accord.sync.decide import CouplingView, decide, source_hash

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def mapping(conflict: str = "hold", direction: str = "bidirectional") -> CompiledMapping:
    return CompiledMapping.compile(
        TableMappingSpec(
            name="CUSTOMER",
            local="customers",
            remote="accounts",
            direction=direction,  # type: ignore[arg-type]
            conflict=conflict,  # type: ignore[arg-type]
            new_remote_defaults={"customertypecode": 3},
            fields=[
                FieldMappingSpec(local="displayName", remote="name"),
                FieldMappingSpec(local="city", remote="address1_city"),
                FieldMappingSpec(local="creditLimit", remote="creditlimit", direction="to_remote"),
                FieldMappingSpec(remote="statecode", constant=0, direction="to_remote"),
                FieldMappingSpec(
                    local="type",
                    remote="customertypecode",
                    direction="to_remote",
                    option_map={"Company": 3, "Person": 1},
                ),
            ],
        )
    )


def local(**values: object) -> Record:
    base = {"displayName": "Adatum", "city": "Oslo", "creditLimit": 100, "type": "Company"}
    base.update(values)
    return Record("L1", base, T0 + timedelta(minutes=5))


def remote(modified: datetime = T0, **values: object) -> Record:
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
    "displayName:name": ["Adatum", "Adatum"],
    "city:address1_city": ["Oslo", "Oslo"],
    "creditLimit:creditlimit": [100, 100],
    "=:statecode": [None, 0],
    "type:customertypecode": ["Company", 3],
}


def view(m: CompiledMapping, source: Record | None = None, **kw: object) -> CouplingView:
    stored = source_hash(m, "to_remote", source) if source is not None else None
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
    assert decide(m, "to_remote", local(), None, None, {}).action == "ignore"
    created = decide(m, "to_remote", local(), None, None, {}, create_uncoupled=True)
    assert created.action == "insert"
    assert created.values == {
        "customertypecode": 3,
        "name": "Adatum",
        "address1_city": "Oslo",
        "creditlimit": 100,
        "statecode": 0,
    }
    assert created.baseline["displayName:name"] == ["Adatum", "Adatum"]


def test_same_content_hash_is_unchanged_without_reading_destination() -> None:
    m = mapping()
    record = local()
    decision = decide(m, "to_remote", record, view(m, record), None, {})
    assert decision.action == "unchanged"
    assert decision.values == {}


def test_only_changed_fields_are_written() -> None:
    m = mapping()
    changed = local(city="Bergen")
    decision = decide(m, "to_remote", changed, view(m, local()), remote(), {})
    assert decision.action == "modify"
    assert decision.values == {"address1_city": "Bergen"}
    assert decision.baseline["city:address1_city"] == ["Bergen", "Bergen"]


def test_different_fields_changed_on_both_sides_merge() -> None:
    m = mapping()
    decision = decide(
        m, "to_remote", local(city="Bergen"), view(m, local()), remote(name="Adatum Corp"), {}
    )
    assert decision.action == "modify"
    assert decision.values == {"address1_city": "Bergen"}
    # the remote's own change is left for the opposite pass: its baseline slot is untouched
    assert decision.baseline["displayName:name"] == ["Adatum", "Adatum"]
    assert not decision.conflicts


def test_same_field_changed_differently_is_held() -> None:
    m = mapping("hold")
    decision = decide(
        m,
        "to_remote",
        local(city="Bergen"),
        view(m, local()),
        remote(address1_city="Trondheim"),
        {},
    )
    assert decision.action == "conflict"
    assert decision.values == {}
    conflict = decision.conflicts["city:address1_city"]
    assert conflict["local"] == "Bergen" and conflict["remote"] == "Trondheim"
    assert conflict["baseline"] == {"local": "Oslo", "remote": "Oslo"}


def test_same_field_changed_to_same_value_is_no_conflict() -> None:
    m = mapping("hold")
    decision = decide(
        m, "to_remote", local(city="Bergen"), view(m, local()), remote(address1_city="Bergen"), {}
    )
    assert decision.action == "unchanged"
    assert decision.baseline["city:address1_city"] == ["Bergen", "Bergen"]


@pytest.mark.parametrize(
    ("policy", "remote_modified", "expected"),
    [
        ("source_wins", T0, {"address1_city": "Bergen"}),
        ("destination_wins", T0, {}),
        ("newest_wins", T0, {"address1_city": "Bergen"}),
        ("newest_wins", T0 + timedelta(hours=1), {}),
    ],
)
def test_conflict_policies(
    policy: str, remote_modified: datetime, expected: dict[str, str]
) -> None:
    m = mapping(policy)
    decision = decide(
        m,
        "to_remote",
        local(city="Bergen"),
        view(m, local()),
        remote(remote_modified, address1_city="Trondheim"),
        {},
    )
    assert decision.values == expected
    assert not decision.conflicts
    if not expected:
        # destination wins: the source's value counts as synced so the opposite pass carries
        # the destination's value back
        assert decision.baseline["city:address1_city"] == ["Bergen", "Oslo"]


def test_unidirectional_field_never_conflicts() -> None:
    m = mapping("hold")
    decision = decide(
        m, "to_remote", local(creditLimit=500), view(m, local()), remote(creditlimit=900), {}
    )
    assert decision.values == {"creditlimit": 500}


def test_skipped_coupling_is_skipped_and_failed_is_retried() -> None:
    m = mapping()
    record = local()
    assert decide(m, "to_remote", record, view(m, record, skipped=True), None, {}).action == "skip"
    retried = decide(m, "to_remote", record, view(m, record, last_failed=True), remote(), {})
    assert retried.action == "unchanged"  # re-examined, found equal


def test_force_writes_every_field_that_differs() -> None:
    m = mapping()
    record = local()
    decision = decide(m, "to_remote", record, view(m, record), remote(name="Other"), {}, force=True)
    assert decision.values == {"name": "Adatum"}


def test_unmapped_option_fails_the_record_with_the_valid_values() -> None:
    m = mapping()
    decision = decide(m, "to_remote", local(type="Robot"), view(m, local()), remote(), {})
    assert decision.action == "fail"
    assert "Robot" in (decision.error or "") and "Company" in (decision.error or "")


def test_pull_direction_uses_remote_as_source() -> None:
    m = mapping()
    decision = decide(m, "from_remote", remote(name="Adatum AS"), view(m), local(), {})
    assert decision.values == {"displayName": "Adatum AS"}
    assert decision.baseline["displayName:name"] == ["Adatum AS", "Adatum AS"]
