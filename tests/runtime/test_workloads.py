"""Workloads are serializable: their JSON form round-trips; a bad one is named."""

from __future__ import annotations

import pytest

from accord.errors import ConfigError
from accord.runtime.workloads import (
    KINDS,
    Couple,
    Reconcile,
    SyncPass,
    SyncRecords,
    Workload,
    parse_workload,
    register,
)

SAMPLES: list[Workload] = [
    SyncPass(mapping="CUSTOMER", direction="to_crm", integration="bc-sales"),
    SyncRecords(mapping="CUSTOMER", direction="to_erp", record_ids=["a", "b"]),
    Couple(mapping="CONTACT", records={"erp": "1", "crm": "2"}),
    Reconcile(mappings=["CUSTOMER", "ITEM"]),
]


@pytest.mark.parametrize("workload", SAMPLES, ids=lambda w: w.kind)
def test_round_trip_through_json(workload: Workload) -> None:
    again = parse_workload(workload.model_validate_json(workload.model_dump_json()).model_dump())
    assert again == workload and type(again) is type(workload)


def test_keys_are_unique_unless_given() -> None:
    assert SyncPass(mapping="A").key != SyncPass(mapping="A").key
    assert SyncPass(mapping="A", key="x").key == "x"


def test_unknown_kind_and_bad_fields_are_named() -> None:
    with pytest.raises(ConfigError, match=r"unknown workload kind 'export'.*sync_pass"):
        parse_workload({"kind": "export"})
    with pytest.raises(ConfigError, match="record_ids"):
        parse_workload({"kind": "sync_records", "mapping": "M", "direction": "to_crm"})
    with pytest.raises(ConfigError, match="colour"):
        parse_workload({"kind": "sync_pass", "mapping": "M", "colour": "red"})


def test_a_new_kind_registers_itself() -> None:
    from typing import Literal

    class Export(Workload):
        kind: Literal["export_test"] = "export_test"
        document: str

    register(Export)
    try:
        parsed = parse_workload({"kind": "export_test", "document": "SO-1", "key": "k"})
        assert isinstance(parsed, Export) and parsed.document == "SO-1"
    finally:
        KINDS.pop("export_test")
