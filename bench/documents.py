"""``documents``: order intake, Sales -> Business Central, Accord against a hand-written
baseline over the same sandboxes in the same run (each in its own process).

The Dataverse sandbox holds ``2 N`` Submitted orders of ``L`` lines for coupled accounts and
products. The baseline takes the first N one at a time with the fewest requests one order
needs, the marker and the identity counted: the BC identity lookup, one deep insert of header
and lines, the order's lines from Dataverse, unlock (Active) and mark (date + Submitted).
Accord then takes the other N with ``accord documents run 'SALES ORDER' --all`` (its service,
in chunks). Throughput is orders per second of each; requests are counted by the sandboxes
and set against the fewest the APIs allow in batches (:func:`min_requests`)."""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from math import ceil
from pathlib import Path
from typing import Any

from accord.config.filters import where
from accord.config.settings import Settings
from accord.connectors.base import ChangeQuery, WriteOp
from accord.connectors.registry import build_connector
from accord.sandboxes import SandboxSet, run_sandboxes
from accord.services import operations, setup
from accord.services.hub import Hub
from accord.state.couplings import record_id
from accord.state.models import Coupling
from accord.testing.sandbox import settings_from_sandbox
from bench.procs import run_child

Log = Callable[[str], None]
MIN_REQUESTS = 5
"""One order at a time: identity lookup, deep insert (BC); the order with its lines, unlock,
mark (Dataverse)."""


def _pairs(hub: Hub, mapping: str) -> dict[str, str]:
    """crm id -> erp id of the mapping's coupled records."""
    from sqlalchemy import select

    from accord.state.store import load_integration

    with hub.db.session() as session:
        mid = load_integration(session).mapping_ids[mapping]
        rows = session.scalars(select(Coupling).where(Coupling.mapping_id == mid))
        return {
            str(record_id(c, "crm")): str(record_id(c, "erp"))
            for c in rows
            if c.state == "coupled" and record_id(c, "crm") and record_id(c, "erp")
        }


def _seed(
    sx: SandboxSet, prefix: str, orders: int, lines: int, accounts: list[str], products: list[str]
) -> None:
    store = sx["dataverse"].store
    headers, details = [], []
    for n in range(orders):
        oid = str(uuid.uuid4())
        headers.append(
            {
                "salesorderid": oid,
                "name": f"{prefix}-{n:06d}",
                "_customerid_value": accounts[n % len(accounts)],
                "statecode": 1,
                "statuscode": 3,
            }
        )
        for k in range(lines):
            details.append(
                {
                    "salesorderdetailid": str(uuid.uuid4()),
                    "_salesorderid_value": oid,
                    "_productid_value": products[(n + k) % len(products)],
                    "isproductoverridden": False,
                    "quantity": Decimal(k + 1),
                    "priceperunit": Decimal("9.50"),
                    "sequencenumber": k + 1,
                }
            )
    with store.transaction():
        for header in headers:
            store.insert_raw("salesorders", header)
        for detail in details:
            store.insert_raw("salesorderdetails", detail)


def baseline_intake(hub: Hub, prefix: str) -> int:
    """The hand-written intake of the orders named ``prefix-*``; how many it made."""
    customers, items = _pairs(hub, "CUSTOMER"), _pairs(hub, "ITEM-PRODUCT")
    bc = build_connector(hub.connection("bc"))
    dv = build_connector(hub.connection("crm"))
    item_numbers = {
        i.id: i.values["number"] for p in bc.read_changes("items", ChangeQuery()) for i in p.records
    }
    made = 0
    try:
        query = ChangeQuery(filter=where("name", "startswith", prefix))
        for page in dv.read_changes("salesorders", query):
            for order in page.records:
                name = order.values["name"]
                if bc.find("salesOrders", {"externalDocumentNumber": name}):
                    continue
                found = dv.read_changes(
                    "salesorderdetails",
                    ChangeQuery(filter=where("_salesorderid_value", "eq", order.id)),
                )
                rows = sorted(
                    (r.values for p in found for r in p.records),
                    key=lambda v: v["sequencenumber"],
                )
                header = {
                    "externalDocumentNumber": name,
                    "customerId": customers[order.values["_customerid_value"]],
                    "salesOrderLines": [
                        {
                            "sequence": 10000 * (n + 1),
                            "lineObjectNumber": item_numbers[items[r["_productid_value"]]],
                            "quantity": r["quantity"],
                            "unitPrice": r["priceperunit"],
                        }
                        for n, r in enumerate(rows)
                    ],
                }
                [result] = bc.write("salesOrders", [WriteOp("create", "h", header)])
                assert result.ok, result.error
                for values in (
                    {"statecode": 0, "statuscode": 1},
                    {
                        "lastbackofficesubmit": time.strftime("%Y-%m-%d"),
                        "statecode": 1,
                        "statuscode": 3,
                    },
                ):
                    [done] = dv.write("salesorders", [WriteOp("update", "m", values, id=order.id)])
                    assert done.ok, done.error
                made += 1
    finally:
        bc.close()
        dv.close()
    return made


def documents_bench(orders: int, lines: int, log: Log, baseline: bool = True) -> dict[str, Any]:
    """Both intakes over the same sandboxes (Accord's alone without ``baseline``: its
    memory at a size the baseline would take too long for); the figures as one dict."""
    with (
        tempfile.TemporaryDirectory() as folder,
        run_sandboxes(["business-central", "dataverse"], records=20, seed=7) as sx,
    ):
        hub = Hub(Settings(home=Path(folder) / "home"), database_url=f"sqlite:///{folder}/state.db")
        try:
            for name, system in (("bc", "business-central"), ("crm", "dataverse")):
                setup.connect(hub, settings_from_sandbox(sx[system], name=name))
            setup.init_integration(hub, "bc-sales", {"erp": "bc", "crm": "crm"})
            for seeded in sx["dataverse"].store.all("salesorders"):  # the samples: taken before
                sx["dataverse"].store.update_raw(
                    "salesorders", seeded["salesorderid"], {"lastbackofficesubmit": "2026-01-05"}
                )
            operations.sync_full(hub, create_new=True)
            customers, items = _pairs(hub, "CUSTOMER"), _pairs(hub, "ITEM-PRODUCT")
            log(f"seeding {(1 + baseline) * orders} orders of {lines} lines")
            if baseline:
                _seed(sx, "BASE", orders, lines, sorted(customers), sorted(items))
            _seed(sx, "ACCORD", orders, lines, sorted(customers), sorted(items))
            handles = (sx["business-central"], sx["dataverse"])
            state = {"home": str(Path(folder) / "home"), "database_url": hub.db.url}

            def measured(side: str, prefix: str) -> tuple[dict[str, Any], dict[str, int]]:
                """One side in its own process; its figures and the requests it sent to each
                system (every HTTP request: sign-in, lookups and marks included; a
                ``$batch`` is one)."""
                log(side)
                for handle in handles:
                    handle.faults.reset_stats()
                ran = run_child("bench.documents_child", {**state, "side": side, "prefix": prefix})
                systems = ("business_central", "dataverse")
                return ran, {
                    s: h.faults.stats()["total"] for s, h in zip(systems, handles, strict=True)
                }

            none = {"done": orders, "seconds": float("nan"), "peak_rss_mb": None}
            base, base_sent = measured("baseline", "BASE") if baseline else (none, {})
            acc, acc_sent = measured("accord", "ACCORD")
            base_req, acc_req = sum(base_sent.values()), sum(acc_sent.values())
            bc = sx["business-central"].store
            made = {o["id"] for o in bc.all("salesOrders") if o["externalDocumentNumber"]}
            written = sum(r["documentId"] in made for r in bc.all("salesOrderLines"))
        finally:
            hub.close()
    base_n, acc_n = base["done"], acc["done"]
    assert base_n == orders and acc_n == orders, (base_n, acc_n)
    assert written >= (1 + baseline) * orders * lines, written  # both sides wrote every line
    floor = min_requests(orders)
    accord_rate, base_rate = acc_n / acc["seconds"], base_n / base["seconds"]
    figures = {
        "orders": orders,
        "lines": lines,
        "accord_documents_per_s": round(accord_rate, 2),
        "baseline_documents_per_s": round(base_rate, 2),
        "ratio": round(accord_rate / base_rate, 3),
        "requests_per_document": round(acc_req / acc_n, 4),
        "requests_by_system": acc_sent,
        "baseline_requests_per_document": round(base_req / base_n, 4),
        "min_requests_per_document": round(floor, 4),
        "requests_ratio": round(acc_req / acc_n / floor, 2),
        "min_requests_per_document_one_by_one": MIN_REQUESTS,
        "peak_rss_mb": acc["peak_rss_mb"],
        "baseline_peak_rss_mb": base["peak_rss_mb"],
        "note": "each side in its own process (its own RSS); the sandboxes in the parent",
    }
    if not baseline:
        for key in ("baseline_documents_per_s", "ratio", "baseline_requests_per_document"):
            figures[key] = None
    return figures


def min_requests(orders: int) -> float:
    """The fewest requests per order the APIs allow for the same work, in batches: the
    triggered orders with their lines (Dataverse ``$expand``, 5,000 a page), unlock and mark
    (Dataverse ``$batch``, 1,000 a batch), the identity lookup (Business Central, 40 names a
    filter, as the connector sends) and the deep inserts (BC ``$batch``, 100 a batch)."""
    n = orders
    total = ceil(n / 5000) + 2 * ceil(n / 1000) + ceil(n / 40) + ceil(n / 100)
    return total / n
