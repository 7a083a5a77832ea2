"""The changes made for the benchmark keep their behaviour: the JSON writer (one pattern for
every call) gives exact decimals, and single-row reads built once per shape find the same
rows (NULL still compares as ``IS NULL``)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from accord import jsonwire
from accord.sandboxes.common.clock import Clock
from accord.sandboxes.common.store import EntitySpec, Field, Store


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"a": Decimal("12.10"), "b": [Decimal("1E+2"), 3, "x"]}, b'{"a":12.10,"b":[100,3,"x"]}'),
        ({"name": "Ünïcode ✓", "n": 1.5}, '{"name":"Ünïcode ✓","n":1.5}'.encode()),
        # text that looks like a placeholder stays text
        (["\x00000000000000:0\x00", Decimal("0.001")], b'["\\u0000000000000000:0\\u0000",0.001]'),
        ([], b"[]"),
    ],
)
def test_jsonwire_writes_exact_decimals_with_one_pattern(value: Any, expected: bytes) -> None:
    assert jsonwire.dumps(value) == expected


def test_jsonwire_refuses_unknown_types() -> None:
    with pytest.raises(TypeError):
        jsonwire.dumps({"x": object()})


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
