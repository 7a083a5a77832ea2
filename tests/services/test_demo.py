"""The demo scenario ends with both systems in agreement, on SQLite and PostgreSQL; its
lead-to-cash story goes through on both, and stops at the step a system refuses."""

from __future__ import annotations

from pathlib import Path

from accord.services import operations, status
from accord.services.demo import BC, DemoWorld, change_both_sides, demo_world, side_values
from accord.services.demo_story import LeadToCash


def test_demo_story_ends_in_agreement(tmp_path: Path, database_url: str) -> None:
    with demo_world(tmp_path, records=30, database_url=database_url) as world:
        runs = operations.sync_full(world.hub, create_new=True)  # as the demo asks
        assert all(r.status == "success" for r in runs), [(r.mapping, r.message) for r in runs]
        assert not status.recent_errors(world.hub)  # the demo's story has no failed record
        first_sight = operations.conflicts(world.hub)
        assert first_sight  # matched pairs whose values differ are held, not overwritten
        for held in first_sight:
            for field in held.fields.values():
                assert None not in field["values"].values()
            operations.resolve(world.hub, held.id, "erp")
        notes = change_both_sides(world)
        assert len(notes) == 7
        results = operations.sync_incremental(world.hub)
        assert all(r.status == "success" for r in results)
        (conflict,) = operations.conflicts(world.hub)
        operations.resolve(world.hub, conflict.id, "erp")

        erp, crm = side_values(world, "erp-only")
        assert erp["city"] == crm["address1_city"] == "Springfield"
        erp, crm = side_values(world, "crm-only")
        assert erp["phoneNumber"] == crm["telephone1"] == "+1 555-0100"
        erp, crm = side_values(world, "conflict")
        assert erp["city"] == crm["address1_city"] == "Bergen"
        erp, crm = side_values(world, "merge")
        assert erp["email"] == crm["emailaddress1"] == "orders@example.com"
        assert erp["website"] == crm["websiteurl"] == "https://example.com"
        erp, crm = side_values(world, "deleted")
        assert erp is not None and crm is None
        bc, dv = world.sandboxes["business-central"].store, world.sandboxes["dataverse"].store
        names = [c["displayName"] for c in bc.all("customers")]
        assert names.count("Tailspin Toys") == 1 and names.count("Northwind Traders") == 1
        accounts = [a["name"] for a in dv.all("accounts")]
        assert accounts.count("Northwind Traders") == 1

        story = LeadToCash(world).run()  # the lead-to-cash story, after the master data
        assert story.ok, [(s.number, s.title, s.error) for s in story.steps if not s.ok]
        assert story.facts["invoice"]["paid"] and story.facts["order"]["timeline"] == {
            "released": 1,
            "shipped": 2,
            "invoiced": 1,
            "invoice_posted": 1,
            "posted_on_account": 1,
        }


def synced(world: DemoWorld) -> None:
    runs = operations.sync_full(world.hub, create_new=True)
    assert all(r.status == "success" for r in runs), [(r.mapping, r.message) for r in runs]


def test_the_story_stops_at_the_step_business_central_refuses(tmp_path: Path) -> None:
    with demo_world(tmp_path, records=12) as world:
        synced(world)
        refusal = {"error": {"code": "Application_DialogException", "message": "No makeOrder."}}
        rule = world.sandboxes[BC].faults.add(400, path=r"makeOrder", count=None, body=refusal)
        seen: list[int] = []
        story = LeadToCash(world).run(lambda step: seen.append(step.number))
    assert not story.ok and rule.hits >= 1
    assert seen == [s.number for s in story.steps] == list(range(1, 8))  # told as they end
    *done, failed = story.steps
    assert all(s.ok for s in done)
    assert failed.title.startswith("The won quote made the BC order")
    assert failed.error and "held" in failed.error and "No makeOrder." in failed.error
    assert "bc_order_id" not in story.facts["order"]  # nothing later was played
