"""Worlds for integration tests: a running pair of sandboxes with an integration set up on
them, on both databases (the ``make_world`` fixture is registered in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from accord.config.settings import Settings
from accord.sandboxes import SandboxSet, run_sandboxes
from accord.services import setup
from accord.services.hub import Hub
from accord.state.couplings import record_id
from accord.state.models import Coupling
from accord.state.store import load_integration
from accord.testing.sandbox import settings_from_sandbox

FAST_RETRY = {
    "max_attempts": 4,
    "base_delay": 0.01,
    "max_delay": 0.05,
    "max_retry_after": 1.5,
    "jitter": 0.0,
}


@dataclass
class World:
    sx: SandboxSet
    hub: Hub

    @property
    def bc(self) -> Any:
        return self.sx["business-central"]

    @property
    def dv(self) -> Any:
        return self.sx["dataverse"]

    def context(self) -> Any:
        return self.hub.context()

    def couplings(self, mapping: str) -> list[Coupling]:
        with self.hub.db.session() as session:
            mid = load_integration(session).mapping_ids[mapping]
            return list(session.scalars(select(Coupling).where(Coupling.mapping_id == mid)))

    def in_scope(self, mapping: str, role: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The ``rows`` of ``role`` that pass the mapping's table filter (``$company``
        resolved)."""
        from accord.config.filters import matches

        with self.context() as ctx:
            condition = ctx.mapping(mapping).spec.filters.get(role)
        return [r for r in rows if condition is None or matches(condition, r)]

    def carried_customer(self, number: str, name: str) -> tuple[str, str]:
        """A customer made in Business Central and carried to Dataverse by an incremental
        sync: (customer id, account id)."""
        from accord.services import operations

        customer_id = str(
            self.bc.store.insert("customers", {"number": number, "displayName": name})["id"]
        )
        operations.sync_incremental(self.hub, ["CUSTOMER"])
        (account,) = self.dv.store.find_raw("accounts", {"name": name})
        return customer_id, str(account["accountid"])

    def lost_create_deleted(self, number: str, name: str) -> str:
        """A customer made in Business Central whose create into Dataverse (an incremental
        pass ``to_crm``) is carried out but its answer lost; a person then deletes the account
        it made. Returns the customer's id."""
        from accord.sync.passes import PassOptions, run_pass

        customer_id = str(
            self.bc.store.insert("customers", {"number": number, "displayName": name})["id"]
        )
        self.dv.faults.add(method="POST", path=r"\$batch", drop=True, after=True, count=1)
        with self.context() as ctx:
            run_pass(ctx, "CUSTOMER", "to_crm", PassOptions(kind="incremental"))
        (account,) = self.dv.store.find_raw("accounts", {"name": name})
        self.dv.store.delete("accounts", account["accountid"])
        return customer_id

    def coupled_pairs(self, mapping: str) -> set[tuple[str | None, str | None]]:
        """(erp id, crm id) of every coupled pair."""
        return {
            (record_id(c, "erp"), record_id(c, "crm"))
            for c in self.couplings(mapping)
            if c.state == "coupled"
        }


WorldFactory = Callable[..., World]


@pytest.fixture
def make_world(database_url: str, tmp_path: Path) -> Iterator[WorldFactory]:
    """Build a world: ``make_world(records=30, bc={...options}, dv={...}, template=...)``
    (by default bc-sales without table filters: :func:`custom_template`)."""
    stack = ExitStack()

    def build(
        records: int = 30,
        *,
        seed: int = 7,
        bc: dict[str, Any] | None = None,
        dv: dict[str, Any] | None = None,
        template: str | None = None,
        seed_overlap: float = 0.5,
        create_unmatched: bool = False,
    ) -> World:
        if create_unmatched:
            template = creating_template(tmp_path, template)
        template = template or custom_template(tmp_path, "CUSTOMER")
        sx = stack.enter_context(
            run_sandboxes(
                ["business-central", "dataverse"],
                records=records,
                seed=seed,
                seed_overlap=seed_overlap,
            )
        )
        hub = Hub(Settings(home=tmp_path / "home"), database_url=database_url)
        stack.callback(hub.close)
        setup.connect(
            hub,
            settings_from_sandbox(
                sx["business-central"], name="bc", retry=FAST_RETRY, **(bc or {})
            ),
        )
        setup.connect(
            hub, settings_from_sandbox(sx["dataverse"], name="crm", retry=FAST_RETRY, **(dv or {}))
        )
        setup.init_integration(hub, template, {"erp": "bc", "crm": "crm"})
        return World(sx, hub)

    with stack:
        yield build


def custom_template(folder: Path, mapping: str = "CUSTOMER", **overrides: Any) -> str:
    """bc-sales without table filters, with ``overrides`` applied to one mapping, written as
    a YAML file: the engine's tests count every seeded record (``make_world``'s default); the
    filters are tested with the real template (tests/sync/test_bc_sales_template.py)."""
    return _edited_template(folder, f"custom-{mapping.replace(' ', '_')}", mapping, overrides)


def creating_template(folder: Path, base: str | None = None) -> str:
    """``base`` (a file; default bc-sales without table filters) with
    ``create_new_if_no_match`` on every mapping: a full sync over data on both sides then
    creates what stays unmatched, so every seeded record ends up coupled."""
    return _edited_template(folder, "creating", None, {"create_new_if_no_match": True}, base)


def _edited_template(
    folder: Path,
    stem: str,
    mapping: str | None,
    overrides: dict[str, Any],
    base: str | None = None,
) -> str:
    """``base`` (a YAML file), or bc-sales without its table filters, with ``overrides``
    applied to ``mapping`` (every mapping when None), written as ``<stem>.yaml``."""
    from importlib import resources

    import yaml

    from accord.config.loader import BUILTIN_PACKAGE

    if base is not None and Path(base).is_file():
        data = yaml.safe_load(Path(base).read_text())
    else:
        builtin = resources.files(BUILTIN_PACKAGE) / f"{base or 'bc-sales'}.yaml"
        data = yaml.safe_load(builtin.read_text())
        for item in data["mappings"]:
            if item.get("kind") == "document":
                continue
            item.pop("filters", None)
            # a field waiting for a later mapping's couplings (a primary contact, a product's
            # units) settles a pass after the rest; the engine's tests count the writes of
            # passes that settle at once. Those fields are tested with the real template
            # (tests/sync/test_bc_sales_references.py, tests/sync/test_waiting_lookups.py)
            item["fields"] = [f for f in item["fields"] if not f.get("keep_on_failed_lookup")]
            if item["name"] == "CUSTOMER":
                # Microsoft sends the customer number one way (to_crm). An account created in
                # Sales with its own number keeps it (no person's value is overwritten), so the
                # sides differ there: the engine's whole-history properties are checked with
                # the number both ways (tests/sync/test_bc_sales_template.py: the real one)
                for f in item["fields"]:
                    if f.get("erp") == "number":
                        f["direction"] = "both"
    for item in data["mappings"]:
        if item.get("kind") == "document":
            continue  # overrides are table-mapping keys
        if mapping is None or item["name"] == mapping:
            item.update(overrides)
    path = folder / f"{stem}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)
