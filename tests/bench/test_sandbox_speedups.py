"""The sandbox changes made for the benchmark keep their behaviour: the JSON writer gives the
same bytes as ``accord.jsonwire``, and single-row reads built once per shape find the same
rows (NULL still compares as ``IS NULL``)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from accord import jsonwire
from accord.sandboxes.common import wire
from accord.sandboxes.common.clock import Clock
from accord.sandboxes.common.store import EntitySpec, Field, Store


@pytest.mark.parametrize(
    "value",
    [
        {"a": Decimal("12.10"), "b": [Decimal("1E+2"), 3, "x"], "c": None},
        {"name": "Ünïcode ✓", "n": 1.5, "ok": True},
        ["\x00000000000000:0\x00", Decimal("0.001")],  # looks like a placeholder
        {"only": "text"},
        [],
    ],
)
def test_wire_dumps_matches_jsonwire(value: Any) -> None:
    assert wire.dumps(value) == jsonwire.dumps(value)


def test_wire_dumps_refuses_unknown_types() -> None:
    with pytest.raises(TypeError):
        wire.dumps({"x": object()})


def _store(tmp_path: Path) -> Store:
    spec = EntitySpec(
        name="things",
        key="id",
        fields=(Field("id", "guid"), Field("code"), Field("amount", "float")),
    )
    scoped = EntitySpec(name="lines", key="id", fields=(Field("id", "guid"),), scoped=True)
    store = Store([spec, scoped], str(tmp_path / "s.sqlite"), Clock())
    store.create_indexes()
    return store


def test_single_row_reads(tmp_path: Path) -> None:
    store = _store(tmp_path)
    a = store.insert("things", {"code": "A", "amount": Decimal("1.50")})
    b = store.insert("things", {"code": None})
    assert store.get("things", a["id"]) == a
    assert store.get_raw("things", "missing") is None
    assert [r["id"] for r in store.find_raw("things", {"code": "a"})] == [a["id"]]  # NOCASE
    assert [r["id"] for r in store.find_raw("things", {"amount": Decimal("1.5")})] == [a["id"]]
    assert [r["id"] for r in store.find_raw("things", {"code": None})] == [b["id"]]
    for _ in range(3):
        store.find_raw("things", {"code": "A"})
    assert len(store._statements) == 3  # by id, by code, by amount: built once each
    store.close()


def test_scoped_reads_stay_in_their_company(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.default_company = "c1"
    row = store.insert("lines", {}, company="c2")
    assert store.get("lines", row["id"]) is None
    assert store.get("lines", row["id"], company="c2") == row
    store.close()
