"""Upgrading an integration with couplings to a newer template, over the sandboxes.

The "old" template is today's bc-sales with a filter removed, a field mapping removed, a
direction changed and a mapping removed; the "new" one is bc-sales itself (plus a filter the
test can exercise). Nothing below depends on which mappings bc-sales holds beyond CUSTOMER.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from accord.config.loader import BUILTIN_PACKAGE
from accord.errors import ConfigError
from accord.mapping.fields import is_blank
from accord.services import operations, templates
from accord.state.models import CouplingLink, TableMapping
from tests.worlds import World, WorldFactory

FILTERED_CITY = "Filtered Town"
TEXT_FIELDS = ("telephone1", "websiteurl", "emailaddress1", "address1_line2", "address1_city")


def _customer(data: dict[str, Any]) -> dict[str, Any]:
    return next(m for m in data["mappings"] if m["name"] == "CUSTOMER")


def _plain(f: dict[str, Any]) -> bool:
    return (
        "erp" in f
        and "crm" in f
        and not f.get("lookup")
        and "constant" not in f
        and not f.get("transform")
        and not f.get("option_map")
    )


def _added_field(customer: dict[str, Any]) -> dict[str, Any]:
    """A two-way text field of CUSTOMER that the old template leaves out."""
    for name in TEXT_FIELDS:
        for f in customer["fields"]:
            if (
                f.get("crm") == name
                and _plain(f)
                and not f.get("match")
                and f.get("direction", "both") == "both"
            ):
                return dict(f)
    raise AssertionError("bc-sales CUSTOMER has no plain two-way text field")


def _one_way_field(customer: dict[str, Any]) -> dict[str, Any]:
    """A CUSTOMER field that flows to_crm only (the old template had it both ways)."""
    found = [f for f in customer["fields"] if _plain(f) and f.get("direction") == "to_crm"]
    decimal = [f for f in found if f.get("crm") == "creditlimit"]  # the test writes a Decimal
    if not found:
        raise AssertionError("bc-sales CUSTOMER has no plain to_crm field")
    return dict((decimal or found)[0])


def _leaf_mapping(data: dict[str, Any]) -> str:
    """A mapping other than CUSTOMER that no other mapping depends on or needs to look up
    (a lookup that waits for its couplings, ``keep_on_failed_lookup``, leaves with it)."""
    used = {d for m in data["mappings"] for d in m.get("depends_on", [])}
    used |= {
        f["lookup"]
        for m in data["mappings"]
        for f in m["fields"]
        if f.get("lookup") and not f.get("keep_on_failed_lookup")
    }
    leaves = [m["name"] for m in data["mappings"] if m["name"] not in used | {"CUSTOMER"}]
    assert leaves, "bc-sales has no mapping that others do not need"
    return "CONTACT" if "CONTACT" in leaves else leaves[-1]


@pytest.fixture
def pair(tmp_path: Path) -> dict[str, Any]:
    """Paths of the old and new templates, and what differs between them."""
    current = yaml.safe_load((resources.files(BUILTIN_PACKAGE) / "bc-sales.yaml").read_text())
    # upgrades are about table mappings: the document mappings (kind: document) stay out
    current["mappings"] = [m for m in current["mappings"] if m.get("kind", "table") == "table"]
    new = copy.deepcopy(current)
    for mapping in new["mappings"]:  # a full sync couples everything: creates the unmatched
        mapping["create_new_if_no_match"] = True
    customer = _customer(new)
    customer["conflict"] = "hold"  # first sight must hold, never overwrite
    customer.pop("initial_master", None)
    mine = {"field": "city", "op": "ne", "value": FILTERED_CITY}
    theirs = customer.get("filters", {}).get("erp")
    customer.setdefault("filters", {})["erp"] = {"all": [theirs, mine]} if theirs else mine
    added, one_way = _added_field(customer), _one_way_field(customer)
    leaf = _leaf_mapping(new)

    old = copy.deepcopy(new)
    old_customer = _customer(old)
    old_customer["filters"] = {}
    old_customer["fields"] = [f for f in old_customer["fields"] if f != added]
    for f in old_customer["fields"]:
        if f == one_way:
            f["direction"] = "both"
    old["mappings"] = [m for m in old["mappings"] if m["name"] != leaf]
    for mapping in old["mappings"]:  # the customer's primary contact came with CONTACT
        mapping["fields"] = [f for f in mapping["fields"] if f.get("lookup") != leaf]
    paths = {}
    for label, data in (("old", old), ("new", new)):
        paths[label] = tmp_path / f"{label}.yaml"
        paths[label].write_text(yaml.safe_dump(data, sort_keys=False))
    return {
        "old": str(paths["old"]),
        "new": str(paths["new"]),
        "added": added,
        "one_way": one_way,
        "leaf": leaf,
    }


def _links(world: World, mapping: str) -> dict[int, dict[str, Any]]:
    """Coupling id -> {role: record id} for every coupling of ``mapping``."""
    return {
        c.id: {r: link.record_id for r, link in c.links.items()} for c in world.couplings(mapping)
    }


def _values(
    world: World, pairs: set[tuple[str | None, str | None]], fields: list[dict[str, Any]]
) -> dict[tuple[str, str], Any]:
    out: dict[tuple[str, str], Any] = {}
    for erp_id, crm_id in pairs:
        customer = world.bc.store.get("customers", erp_id) or {}
        account = world.dv.store.get("accounts", crm_id) or {}
        for f in fields:
            out[(str(erp_id), f["erp"])] = customer.get(f["erp"])
            out[(str(crm_id), f["crm"])] = account.get(f["crm"])
    return out


def test_upgrade_keeps_couplings_and_applies_fields_filters_and_directions(
    make_world: WorldFactory, pair: dict[str, Any]
) -> None:
    world = make_world(records=12, template=pair["old"])
    operations.sync_full(world.hub)
    kept = [
        n
        for n in (m.name for m in templates.plan_upgrade(world.hub, pair["old"]).diff.new.mappings)
    ]
    before = {name: _links(world, name) for name in kept}
    assert before["CUSTOMER"], "the full sync coupled no customer"

    plan = templates.plan_upgrade(world.hub, pair["new"])
    status = {m.name: m for m in plan.diff.mappings}
    assert status[pair["leaf"]].status == "added"
    customer = status["CUSTOMER"]
    assert {c.attribute for c in customer.changes} == {"filters"}
    fields = {(f.status, tuple(sorted(f.fields.items()))): f for f in customer.fields}
    added_key = ("added", tuple(sorted((r, pair["added"][r]) for r in ("crm", "erp"))))
    assert added_key in fields
    changed = [f for f in customer.fields if f.status == "changed"]
    assert [(c.attribute, c.old, c.new) for f in changed for c in f.changes] == [
        ("direction", "both", "to_crm")
    ]
    assert plan.to_json()["from"]["revision"] == 1

    # a blank on crm, a new value on erp: first sight fills the blank
    pairs = sorted(world.coupled_pairs("CUSTOMER"))
    (erp_a, crm_a), (erp_b, crm_b), (erp_c, crm_c) = pairs[:3]
    field_erp, field_crm = pair["added"]["erp"], pair["added"]["crm"]
    result = templates.upgrade(world.hub, pair["new"], expect_digest=plan.current_digest)
    assert result.revision == 2
    world.dv.store.update("accounts", crm_a, {field_crm: None})
    world.bc.store.update("customers", erp_a, {field_erp: "+47 555 0100", "displayName": "A Two"})
    # two different values: held, neither overwritten
    world.dv.store.update("accounts", crm_b, {field_crm: "crm side"})
    world.bc.store.update("customers", erp_b, {field_erp: "erp side", "displayName": "B Two"})
    # outside the new filter: stays coupled, not synced
    name_c = world.dv.store.get("accounts", crm_c)["name"]
    world.bc.store.update("customers", erp_c, {"city": FILTERED_CITY, "displayName": "C Two"})
    # the field that now flows to_crm only: a crm change stays in crm
    one_erp, one_crm = pair["one_way"]["erp"], pair["one_way"]["crm"]
    erp_value = world.bc.store.get("customers", erp_a)[one_erp]
    world.dv.store.update("accounts", crm_a, {one_crm: Decimal("4321.50")})
    new_customer = _customer(yaml.safe_load(Path(pair["new"]).read_text()))
    checked = [f for f in new_customer["fields"] if _plain(f)]
    values_before = _values(world, set(pairs), checked)
    counts_before = (world.bc.store.count("customers"), world.dv.store.count("accounts"))

    runs = operations.sync_incremental(world.hub, kept)
    assert all(r.status == "success" for r in runs), [
        (r.mapping, r.status, r.message) for r in runs
    ]

    after = {name: _links(world, name) for name in kept}
    # every coupling kept with its ids (a unit group an item created in the full sync may
    # still be coupled now: new couplings are fine, lost or changed ones are not)
    assert all(after[name].items() >= links.items() for name, links in before.items())
    assert (world.bc.store.count("customers"), world.dv.store.count("accounts")) == counts_before
    assert world.dv.store.get("accounts", crm_a)[field_crm] == "+47 555 0100"
    assert world.dv.store.get("accounts", crm_a)["name"] == "A Two"
    assert world.dv.store.get("accounts", crm_b)[field_crm] == "crm side"
    assert world.bc.store.get("customers", erp_b)[field_erp] == "erp side"
    added_id = pair["added"].get("id") or f"crm={field_crm}:erp={field_erp}"
    assert any(added_id in c.fields for c in operations.conflicts(world.hub))  # held
    assert world.dv.store.get("accounts", crm_c)["name"] == name_c
    assert world.bc.store.get("customers", erp_a)[one_erp] == erp_value
    blanked = [
        key
        for key, value in _values(world, set(pairs), checked).items()
        if not is_blank(values_before[key]) and is_blank(value)
    ]
    assert blanked == []

    history = templates.history(world.hub)
    assert [(h.revision, h.current) for h in history] == [(1, False), (2, True)]
    assert history[0].note == "set up" and history[1].note == "upgrade"
    again = templates.plan_upgrade(world.hub, pair["new"])
    assert not again.changed


def test_rollback_keeps_a_removed_mapping_inactive_and_brings_it_back(
    make_world: WorldFactory, pair: dict[str, Any]
) -> None:
    world = make_world(records=6, template=pair["new"])
    operations.sync_full(world.hub)
    leaf = pair["leaf"]
    with world.hub.db.session() as session:
        leaf_id = session.scalar(select(TableMapping.id).where(TableMapping.name == leaf))
    leaf_links = _links(world, leaf)
    added_id = f"crm={pair['added']['crm']}:erp={pair['added']['erp']}"

    rolled = templates.upgrade(world.hub, pair["old"])  # revision 2: leaf and a field removed
    assert rolled.kept_inactive == [leaf] and rolled.links_rebaselined > 0
    with world.hub.db.session() as session:
        customer_id = session.scalar(select(TableMapping.id).where(TableMapping.name == "CUSTOMER"))
        synced = session.scalars(
            select(CouplingLink.synced).where(CouplingLink.mapping_id == customer_id)
        ).all()
    assert synced and all(added_id not in s for s in synced)
    assert templates.plan_upgrade(world.hub, pair["old"]).inactive == [leaf]

    back = templates.rollback(world.hub, 1)
    assert not isinstance(back, templates.UpgradePlan) and back.revision == 3
    assert [m.name for m in back.plan.diff.of("restored")] == [leaf]
    again = templates.plan_upgrade(world.hub, pair["new"])
    assert again.changed is False, str(again.to_json())[-3000:]
    history = templates.history(world.hub)
    assert history[0].digest == history[2].digest != history[1].digest
    with world.hub.db.session() as session:
        assert session.scalar(select(TableMapping.id).where(TableMapping.name == leaf)) == leaf_id
    assert _links(world, leaf) == leaf_links
    with pytest.raises(ConfigError, match="no template revision 9"):
        templates.rollback(world.hub, 9)


def test_drop_removed_deletes_the_couplings_of_a_removed_mapping(
    make_world: WorldFactory, pair: dict[str, Any]
) -> None:
    world = make_world(records=6, template=pair["new"])
    operations.sync_full(world.hub)
    leaf = pair["leaf"]
    count = len(world.couplings(leaf))
    result = templates.upgrade(world.hub, pair["old"], drop_removed=True)
    assert result.couplings_dropped == count and result.kept_inactive == []
    with world.hub.db.session() as session:
        assert session.scalar(select(TableMapping.id).where(TableMapping.name == leaf)) is None


def test_an_upgrade_refuses_a_plan_made_before_the_template_changed(
    make_world: WorldFactory, pair: dict[str, Any]
) -> None:
    world = make_world(records=3, template=pair["old"])
    plan = templates.plan_upgrade(world.hub, pair["new"])
    templates.upgrade(world.hub, pair["new"])
    with pytest.raises(ConfigError, match="changed since the difference was shown"):
        templates.upgrade(world.hub, pair["old"], expect_digest=plan.current_digest)


def test_a_mapping_brought_back_is_compared_with_the_spec_its_couplings_followed(
    make_world: WorldFactory, pair: dict[str, Any], tmp_path: Path
) -> None:
    """Kept inactive, then brought back with a field that now names another field under
    the same id: its kept baselines describe the old field and are dropped (first sight)."""
    world = make_world(records=12, template=pair["new"])
    operations.sync_full(world.hub)
    leaf = pair["leaf"]
    assert world.couplings(leaf), f"the full sync coupled no {leaf}"
    new = yaml.safe_load(Path(pair["new"]).read_text())
    mapping = next(m for m in new["mappings"] if m["name"] == leaf)
    field = next(f for f in mapping["fields"] if f.get("crm") == "jobtitle")
    key = f"crm={field['crm']}:erp={field['erp']}"
    field.update(id=field.get("id", key), crm="address1_line2")  # same id, another text field
    path = tmp_path / "again.yaml"
    path.write_text(yaml.safe_dump(new, sort_keys=False))
    with world.hub.db.session() as session:
        leaf_id = session.scalar(select(TableMapping.id).where(TableMapping.name == leaf))

    templates.upgrade(world.hub, pair["old"])
    plan = templates.plan_upgrade(world.hub, str(path))
    (back,) = [m for m in plan.diff.mappings if m.name == leaf]
    assert back.status == "restored" and back.drops == {field["id"]}
    templates.upgrade(world.hub, str(path))
    with world.hub.db.session() as session:
        assert session.scalar(select(TableMapping.id).where(TableMapping.name == leaf)) == leaf_id
        synced = session.scalars(
            select(CouplingLink.synced).where(CouplingLink.mapping_id == leaf_id)
        ).all()
    assert synced and all(field["id"] not in s for s in synced)
