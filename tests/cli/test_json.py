"""``--json``: one JSON document on stdout and nothing else, in the documented shape."""

from __future__ import annotations

import json
from typing import Any

import pytest

from accord.state.jobs import COUNTERS
from tests.cli.helpers import on
from tests.worlds import World, WorldFactory


@pytest.fixture(autouse=True)
def narrow_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # no table may leak into --json output


def as_json(world: World, *args: str, code: int = 0) -> Any:
    ran = on(world, *args, "--json")
    assert ran.code == code, ran.output
    return json.loads(ran.stdout)  # the whole of stdout is one document


def test_every_inspecting_command_prints_json(make_world: WorldFactory) -> None:
    world = make_world(records=10, create_unmatched=True)  # half overlap: first-sight conflicts
    full = as_json(world, "sync", "--full", code=1)
    assert full["kind"] == "full" and full["exit_code"] == 1
    customer = next(m for m in full["mappings"] if m["mapping"] == "CUSTOMER")
    assert customer["recommendation"] == "couple" and customer["coupling"]["coupled"] > 0
    assert set(customer["passes"][0]["counts"]) == set(COUNTERS)

    passes = as_json(world, "sync")
    assert passes["kind"] == "incremental" and passes["exit_code"] == 0
    first = passes["passes"][0]
    assert {"mapping", "direction", "job_id", "status", "message", "counts"} == set(first)

    status = as_json(world, "status")
    row = next(m for m in status["mappings"] if m["mapping"] == "CUSTOMER")
    assert row["couplings"] == len(world.couplings("CUSTOMER"))
    assert row["open_conflicts"] > 0 and set(row["watermarks"]) == {"erp", "crm"}
    assert row["last_passes"][0]["started_at"].startswith("20")

    conflicts = as_json(world, "conflicts")["conflicts"]
    assert len(conflicts) == row["open_conflicts"]
    assert {"id", "mapping", "records", "fields"} == set(conflicts[0])

    couplings = as_json(world, "couplings", "-m", "CUSTOMER", "--limit", "3")
    assert couplings["total"] == row["couplings"] and len(couplings["couplings"]) == 3
    link = couplings["couplings"][0]["records"]["erp"]
    assert set(link) == {"id", "natural_key"} and link["natural_key"]

    assert as_json(world, "errors") == {"errors": []}
    retried = as_json(world, "retry", "--now")
    assert retried["retried"] == 0 and retried["kind"] == "incremental" and retried["passes"]


def test_preview_json_lists_changes_per_field(make_world: WorldFactory) -> None:
    world = make_world(records=10, seed_overlap=0.0, create_unmatched=True)
    as_json(world, "sync", "--full")
    erp_id, _ = sorted(world.coupled_pairs("CUSTOMER"))[0]
    world.bc.store.update("customers", erp_id, {"city": "Springfield"})
    preview = as_json(world, "preview", "-m", "CUSTOMER")
    change = next(c for c in preview["changes"] if c["source_id"] == erp_id)
    assert change["action"] == "modify" and change["direction"] == "to_crm"
    assert {"field": "address1_city", "new": "Springfield"}.items() <= next(
        f for f in change["fields"] if f["field"] == "address1_city"
    ).items()
    assert preview["exit_code"] == 0 and preview["passes"][0]["status"] == "preview"
