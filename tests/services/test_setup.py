"""Setting up and coupling by hand, with clear errors for what does not exist."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.errors import ConfigError
from accord.services import operations, setup, templates
from tests.worlds import WorldFactory, custom_template


def test_unknown_field_in_a_template_is_named_with_the_valid_ones(
    make_world: WorldFactory, tmp_path: Path
) -> None:
    template = custom_template(
        tmp_path,
        "CUSTOMER",
        fields=[
            {"erp": "displayName", "crm": "name"},
            {"erp": "favouriteColour", "crm": "telephone1"},
        ],
    )
    with pytest.raises(ConfigError) as err:  # at init, not at the first sync
        make_world(records=3, template=template)
    text = str(err.value)
    assert "mappings[CUSTOMER]" in text and "favouriteColour" in text and "displayName" in text


def test_unknown_entity_is_named(make_world: WorldFactory, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"accountz.*did you mean 'accounts'"):
        make_world(records=3, template=custom_template(tmp_path, "CUSTOMER", crm="accountz"))


def test_manual_couple_then_uncouple(make_world: WorldFactory) -> None:
    world = make_world(records=12, seed_overlap=0.0)
    operations.sync_full(world.hub, ["SALESPEOPLE", "CURRENCY", "PAYMENT TERMS", "SHIPMENT METHOD"])
    customer = world.bc.store.all("customers")[0]
    account = world.dv.store.all("accounts")[0]
    operations.couple_records(
        world.hub, "CUSTOMER", {"erp": customer["id"], "crm": account["accountid"]}
    )
    assert world.coupled_pairs("CUSTOMER") == {(customer["id"], account["accountid"])}
    other = world.dv.store.all("accounts")[1]
    with pytest.raises(ConfigError, match="already coupled"):
        operations.couple_records(
            world.hub, "CUSTOMER", {"erp": customer["id"], "crm": other["accountid"]}
        )
    with pytest.raises(ConfigError, match="not found"):
        operations.couple_records(world.hub, "CUSTOMER", {"erp": customer["id"], "crm": "nope"})
    with pytest.raises(ConfigError, match="one record id per role"):
        operations.couple_records(world.hub, "CUSTOMER", {"erp": customer["id"]})
    # synchronizing now copies the chosen role's record over the other
    now = operations.sync_now(world.hub, "CUSTOMER", [customer["id"]], "to_crm")
    assert now.counts["modified"] == 1, (now.status, dict(now.counts), now.message)
    assert world.dv.store.get("accounts", account["accountid"])["name"] == customer["displayName"]
    assert operations.uncouple_records(world.hub, "CUSTOMER", [account["accountid"]]) == 1
    assert world.coupled_pairs("CUSTOMER") == set()
    assert world.dv.store.get("accounts", account["accountid"]) is not None


def test_init_over_an_integration_with_couplings_is_refused(
    make_world: WorldFactory, tmp_path: Path
) -> None:
    """Defect: a second init dropped the couplings of mappings the template no longer had
    and kept stale baselines; an upgrade keeps every coupling."""
    world = make_world(records=6, create_unmatched=True)
    operations.sync_full(world.hub)
    before = len(world.couplings("CUSTOMER"))
    with pytest.raises(ConfigError, match="template upgrade"):
        setup.init_integration(world.hub, "bc-sales", {"erp": "bc", "crm": "crm"})
    assert len(world.couplings("CUSTOMER")) == before
    made = setup.init_integration(world.hub, "bc-sales", {"erp": "bc", "crm": "crm"}, name="second")
    assert made.name == "second"


def test_an_upgrade_is_checked_against_the_systems_before_anything_changes(
    make_world: WorldFactory, tmp_path: Path
) -> None:
    world = make_world(records=4, create_unmatched=True)
    operations.sync_full(world.hub)
    broken = custom_template(tmp_path, fields=[{"erp": "displayName", "crm": "no_such_column"}])
    before = templates.plan_upgrade(world.hub).current_digest
    with pytest.raises(ConfigError, match="no_such_column"):
        templates.upgrade(world.hub, broken)
    assert templates.plan_upgrade(world.hub).current_digest == before
