"""The demo scenario: sandboxes with sample data, set-up, full sync, changes on both sides.

Kept apart from the CLI so tests can run the same scenario and check its outcome.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from accord.config.settings import Settings
from accord.sandboxes import SandboxSet, run_sandboxes
from accord.services import setup
from accord.services.hub import Hub
from accord.state import couplings
from accord.state.store import load_integration
from accord.testing.sandbox import settings_from_sandbox

BC = "business-central"
DV = "dataverse"


@dataclass
class DemoWorld:
    """The running sandboxes and the hub wired to them."""

    sandboxes: SandboxSet
    hub: Hub
    changes: list[str] = field(default_factory=list)
    watch: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Label -> (BC customer id, Dataverse account id) of records the demo changed."""


@contextmanager
def demo_world(
    home: Path, *, records: int = 200, seed: int = 7, database_url: str | None = None
) -> Iterator[DemoWorld]:
    """Start sandboxes, make a fresh state database in ``home``, connect and init bc-sales."""
    home.mkdir(parents=True, exist_ok=True)
    for stale in home.glob("demo.db*"):
        stale.unlink()
    url = database_url or f"sqlite:///{(home / 'demo.db').resolve()}"
    with run_sandboxes([BC, DV], records=records, seed=seed) as sx:
        hub = Hub(Settings(home=home), database_url=url)
        try:
            setup.connect(hub, settings_from_sandbox(sx[BC], name="bc"))
            setup.connect(hub, settings_from_sandbox(sx[DV], name="crm"))
            setup.init_integration(hub, "bc-sales", {"erp": "bc", "crm": "crm"})
            yield DemoWorld(sx, hub)
        finally:
            hub.close()


def coupled(hub: Hub, mapping: str, limit: int) -> list[tuple[str, str, str | None]]:
    """(BC id, Dataverse id, BC natural key) of a mapping's first coupled records."""
    with hub.db.session() as session:
        config = load_integration(session)
        rows = couplings.pairs(session, config.mapping_ids[mapping], ("erp", "crm"), limit)
    return [(str(a), str(b), c) for a, b, c in rows]


def coupled_customers(hub: Hub, limit: int) -> list[tuple[str, str, str | None]]:
    """(BC id, Dataverse id, customer number) of the first coupled customers."""
    return coupled(hub, "CUSTOMER", limit)


def change_both_sides(world: DemoWorld) -> list[str]:
    """Change records in both systems as their users would, including one conflict."""
    bc, dv = world.sandboxes[BC].store, world.sandboxes[DV].store
    picked = coupled_customers(world.hub, 5)
    if len(picked) < 5:
        raise RuntimeError("the demo needs at least 5 coupled customers; use more --records")
    (c1, a1, n1), (c2, a2, n2), (c3, a3, n3), (c4, a4, n4), (c5, a5, n5) = picked
    notes: list[str] = []

    def note(label: str, ids: tuple[str, str], text: str) -> None:
        world.watch[label] = ids
        notes.append(text)

    bc.update("customers", c1, {"city": "Springfield"})
    note("erp-only", (c1, a1), f"Business Central: customer {n1} moved to Springfield")
    dv.update("accounts", a2, {"telephone1": "+1 555-0100"})
    note("crm-only", (c2, a2), f"Sales: account {n2} got a new phone number")
    bc.update("customers", c3, {"city": "Bergen"})
    dv.update("accounts", a3, {"address1_city": "Trondheim"})
    note(
        "conflict",
        (c3, a3),
        f"Both: customer {n3}'s city set to Bergen in Business Central "
        "and to Trondheim in Sales (a conflict)",
    )
    bc.update("customers", c4, {"email": "orders@example.com"})
    dv.update("accounts", a4, {"websiteurl": "https://example.com"})
    note(
        "merge",
        (c4, a4),
        f"Both: customer {n4}'s e-mail changed in Business Central and "
        "its website in Sales (different fields: both survive)",
    )
    created = bc.insert(
        "customers",
        {
            "displayName": "Northwind Traders",
            "city": "Seattle",
            "email": "sales@northwind.example.com",
        },
    )
    notes.append(f"Business Central: new customer {created.get('number')} Northwind Traders")
    world.watch["new-erp"] = (str(created["id"]), "")
    account = dv.insert(
        "accounts",
        {
            "name": "Tailspin Toys",
            "address1_city": "Oslo",
            "accountnumber": "TT-1",
            "customertypecode": 3,  # a customer: bc-sales takes only those (as Microsoft)
        },
    )
    notes.append("Sales: new account Tailspin Toys")
    world.watch["new-crm"] = ("", str(account["accountid"]))
    dv.delete("accounts", a5)
    note("deleted", (c5, a5), f"Sales: account {n5} deleted (policy: uncouple)")
    world.changes = notes
    return notes


def side_values(
    world: DemoWorld, label: str
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Current BC customer and Dataverse account of a watched pair."""
    erp_id, crm_id = world.watch[label]
    bc, dv = world.sandboxes[BC].store, world.sandboxes[DV].store
    return (
        bc.get("customers", erp_id) if erp_id else None,
        dv.get("accounts", crm_id) if crm_id else None,
    )
