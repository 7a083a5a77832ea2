"""Lines keyed by their line key: against a BC order made by the engine, a changed line is
updated in place, an added one goes after the last, a removed one is deleted or holds the
document, as the mapping says."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from accord.documents.engine import document_spec
from accord.documents.lines import recorded_positions, write_lines
from accord.documents.values import Lookups, Scope, plan_lines, table_key
from accord.state.couplings import record_id
from tests.documents.conftest import MAPPING, Intake


def test_lines_added_changed_and_removed(intake: Intake) -> None:
    first, second = intake.products()[:2]
    order = intake.submit(
        "SO-LINES",
        [{"_productid_value": first["productid"]}, {"_productid_value": second["productid"]}],
    )
    assert intake.cli("orders", "create-in-erp", "SO-LINES").code == 0
    [coupling] = [c for c in intake.world.couplings(MAPPING) if record_id(c, "crm") == order]
    target = record_id(coupling, "erp")
    assert target is not None
    sources = [r for r in intake.dv.all("salesorderdetails") if r["_salesorderid_value"] == order]
    one = min(sources, key=lambda r: r["sequencenumber"])
    with intake.world.hub.context() as ctx:
        doc = document_spec(ctx, MAPPING)
        assert doc.lines is not None
        key = table_key(doc.lines.fields[0], ("crm", "erp"))
        found = Lookups({key: {p["productid"]: p["item_number"] for p in (first, second)}})

        def apply(rows: list[dict[str, Any]], removed: str) -> list[Any]:
            assert doc.lines is not None
            variant = doc.model_copy(
                update={"lines": doc.lines.model_copy(update={"removed": removed})}
            )
            recorded = recorded_positions(ctx, coupling.id)
            planned, problems = plan_lines(variant, rows, found, Scope({}), lambda n: 100, recorded)
            assert problems == []
            return write_lines(ctx, variant, coupling.id, target, planned)[0]

        added = {**one, "salesorderdetailid": "added-line", "sequencenumber": 3}
        changed = {**one, "quantity": Decimal(7)}
        assert apply([changed, added], "delete") == []
        lines = intake.bc_lines("SO-LINES")
        assert [(r["sequence"], r["quantity"]) for r in lines] == [(10000, 7), (30000, 1)]

        problems = apply([added], "hold")
        assert len(problems) == 1 and "removed in crm" in problems[0].message
        assert len(intake.bc_lines("SO-LINES")) == 2  # held: nothing deleted
