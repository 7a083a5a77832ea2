"""A shared order-intake world: the Business Central and Dataverse sandboxes with the
bc-sales template (its real filters) between them, customers and items coupled by a full
sync, on a state database shared by the tests of this folder (SQLite, and PostgreSQL when it is
reachable)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from accord.config.settings import Settings
from accord.sandboxes import SandboxSet, run_sandboxes
from accord.services import operations, setup
from accord.services.hub import Hub
from accord.state import documents as document_state
from accord.state.couplings import record_id
from accord.state.document_tables import DocumentLine
from accord.testing.sandbox import settings_from_sandbox
from tests.cli.helpers import Ran, accord
from tests.conftest import fresh_postgres
from tests.worlds import FAST_RETRY, World

MAPPING = "SALES ORDER"


@dataclass
class Intake:
    """The world of the order-intake tests and what they need from it."""

    world: World
    home: Path
    url: str

    @property
    def bc(self) -> Any:
        return self.world.bc.store

    @property
    def dv(self) -> Any:
        return self.world.dv.store

    @property
    def state(self) -> list[str]:
        return ["--home", str(self.home), "--database-url", self.url]

    def cli(self, *args: str) -> Ran:
        return accord(*self.state, *args)

    def spawn(self, *args: str) -> subprocess.Popen[bytes]:
        """The real command line in its own process (to be killed)."""
        self.home.mkdir(parents=True, exist_ok=True)
        with (self.home / "spawned.log").open("ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "accord.cli.app", *self.state, *args],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def coupled(self, mapping: str, role: str) -> list[str]:
        return [
            rid
            for c in self.world.couplings(mapping)
            if c.state == "coupled" and (rid := record_id(c, role))
        ]

    def account(self) -> str:
        """A Sales account coupled to a Business Central customer."""
        return self.coupled("CUSTOMER", "crm")[0]

    def products(self) -> list[dict[str, Any]]:
        """Sales products coupled to items, with their item's number."""
        pairs = {
            record_id(c, "crm"): record_id(c, "erp")
            for c in self.world.couplings("ITEM-PRODUCT")
            if c.state == "coupled"
        }
        items = {i["id"]: i["number"] for i in self.bc.all("items")}
        found = [
            {**p, "item_number": items[pairs[p["productid"]]]}
            for p in self.dv.all("products")
            if pairs.get(p["productid"]) in items
        ]
        assert len(found) >= 2
        return found

    def submit(self, name: str, lines: list[dict[str, Any]], account: str | None = None) -> str:
        """A Submitted Sales order ``name`` with ``lines`` (as a person makes it)."""
        order = self.dv.insert(
            "salesorders",
            {
                "salesorderid": str(uuid.uuid4()),
                "name": name,
                "_customerid_value": account or self.account(),
                "statecode": 1,
                "statuscode": 3,
            },
        )
        for number, line in enumerate(lines, start=1):
            values = {"quantity": Decimal(1), "priceperunit": Decimal(10), **line}
            self.dv.insert(
                "salesorderdetails",
                {
                    "salesorderdetailid": str(uuid.uuid4()),
                    "_salesorderid_value": order["salesorderid"],
                    "sequencenumber": number,
                    "isproductoverridden": False,
                    **values,
                },
            )
        return str(order["salesorderid"])

    def bc_orders(self, name: str) -> list[dict[str, Any]]:
        return [o for o in self.bc.all("salesOrders") if o["externalDocumentNumber"] == name]

    def bc_lines(self, name: str) -> list[dict[str, Any]]:
        [order] = self.bc_orders(name)
        lines = [r for r in self.bc.all("salesOrderLines") if r["documentId"] == order["id"]]
        return sorted(lines, key=lambda r: r["sequence"])

    def bc_line_ids(self, name: str) -> list[tuple[int, str]]:
        """(sequence, id) of BC order ``name``'s lines."""
        return [(r["sequence"], r["id"]) for r in self.bc_lines(name)]

    def recorded_lines(self, order: str) -> list[tuple[int, str | None]]:
        """(position, target id) of the lines recorded for Sales order ``order``."""
        [coupling] = [c for c in self.world.couplings(MAPPING) if record_id(c, "crm") == order]
        with self.world.hub.db.session() as session:
            rows = session.scalars(
                select(DocumentLine)
                .where(DocumentLine.coupling_id == coupling.id)
                .order_by(DocumentLine.position)
            )
            return [(r.position, r.target_id) for r in rows]

    def sales_order(self, order_id: str) -> dict[str, Any]:
        [row] = [o for o in self.dv.all("salesorders") if o["salesorderid"] == order_id]
        return row


@contextmanager
def _database(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'state.db'}"
    else:
        with fresh_postgres("accord_docs") as url:
            yield url


@pytest.fixture(scope="package", params=["sqlite", "postgresql"])
def intake(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Intake]:
    folder = tmp_path_factory.mktemp(f"intake-{request.param}")
    with _database(request.param, folder) as url:
        sx: SandboxSet
        with run_sandboxes(["business-central", "dataverse"], records=12, seed=7) as sx:
            home = folder / "home"
            hub = Hub(Settings(home=home), database_url=url)
            try:
                for name, system in (("bc", "business-central"), ("crm", "dataverse")):
                    setup.connect(
                        hub, settings_from_sandbox(sx[system], name=name, retry=FAST_RETRY)
                    )
                setup.init_integration(hub, "bc-sales", {"erp": "bc", "crm": "crm"})
                for seeded in sx["dataverse"].store.all("salesorders"):  # taken long ago
                    sx["dataverse"].store.update_raw(
                        "salesorders",
                        seeded["salesorderid"],
                        {"lastbackofficesubmit": "2026-01-05"},
                    )
                runs = operations.sync_full(hub, create_new=True)
                assert all(r.status == "success" for r in runs), [
                    (r.mapping, r.message) for r in runs
                ]
                yield Intake(World(sx, hub), home, url)
            finally:
                hub.close()


@pytest.fixture(autouse=True)
def events_settled_at_once(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Listeners see a business event at once in these tests (the settle time that keeps a
    cursor from passing an id still committing has its own test: keeps_the_settle_time)."""
    if "keeps_the_settle_time" not in request.node.name:
        monkeypatch.setattr(document_state, "EVENT_SETTLE", timedelta(0))
