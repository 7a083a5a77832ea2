"""Store and OData query translation: versions, tombstones, filters, keyset paging."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from accord.sandboxes.common import odata
from accord.sandboxes.common.clock import Clock, format_ms, parse_instant
from accord.sandboxes.common.store import VERSION, EntitySpec, Field, RejectedError, Store

SPEC = EntitySpec(
    name="things",
    key="id",
    fields=(
        Field("id", "guid"),
        Field("name", "str", index=True),
        Field("qty", "int"),
        Field("price", "float"),
        Field("active", "bool"),
        Field("modified", "datetime"),
    ),
    modified="modified",
    time_format=format_ms,
    type_name="thing",
)


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    clock = Clock()
    clock.freeze(datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC))
    s = Store([SPEC], str(tmp_path / "s.sqlite"), clock)
    s.insert_many(
        "things",
        [
            {"name": f"n{i:03d}", "qty": i, "price": i * 1.5, "active": i % 2 == 0}
            for i in range(50)
        ],
    )
    s.create_indexes()
    return s


def where(store: Store, text: str) -> list[object]:
    return [odata.compile_filter(SPEC, store.table("things"), text, "thing")]


def test_versions_grow_and_modified_time_follows_clock(store: Store) -> None:
    row = store.all("things")[0]
    before = store.row_version("things", row["id"])
    store.clock.advance(1.5)
    updated = store.update("things", row["id"], {"qty": 999})
    assert updated["qty"] == 999
    assert updated["modified"] == "2024-05-01T12:00:01.500Z"
    after = store.row_version("things", row["id"])
    assert before is not None and after is not None and after > before
    assert store.version == after


def test_delete_leaves_tombstone_with_newer_version(store: Store) -> None:
    row = store.all("things")[3]
    start = store.version
    store.delete("things", row["id"])
    assert store.get("things", row["id"]) is None
    tombs = store.deleted_since("things", start, store.version, 10)
    assert [t["key"] for t in tombs] == [row["id"]]
    assert tombs[0][VERSION] == store.version
    with pytest.raises(KeyError):
        store.delete("things", row["id"])


def test_transaction_rolls_back_everything(store: Store) -> None:
    count = store.count("things")
    with pytest.raises(RuntimeError), store.transaction():
        store.insert("things", {"name": "temp"})
        raise RuntimeError("boom")
    assert store.count("things") == count


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("qty gt 45", 4),
        ("qty ge 10 and qty lt 20", 10),
        ("name in ('n001','n002','zzz')", 2),
        ("contains(name,'04')", 11),
        ("name eq 'N007'", 1),
        ("tolower(name) eq 'n007'", 1),
        ("active eq true", 25),
        ("price gt 70.0 or qty eq 0", 4),
        ("modified ge 2024-05-01T12:00:00Z", 50),
        ("modified gt 2024-05-01T12:00:00.000Z", 0),
    ],
)
def test_filter_translation(store: Store, expr: str, expected: int) -> None:
    assert odata.count_rows(store, SPEC, where(store, expr), None) == expected


def test_unknown_property_in_filter_is_a_400(store: Store) -> None:
    with pytest.raises(odata.ODataError) as err:
        where(store, "nope eq 1")
    assert err.value.status == 400 and "nope" in err.value.message


@pytest.mark.parametrize("order", [[], [("qty", True)], [("name", False), ("qty", True)]])
def test_keyset_paging_visits_every_row_once(store: Store, order: list[tuple[str, bool]]) -> None:
    seen: list[str] = []
    after = None
    while True:
        rows, after = odata.fetch_page(store, SPEC, odata.ListQuery([], order, 7, after=after))
        seen += [r["id"] for r in rows]
        if after is None:
            break
    assert len(seen) == 50 and len(set(seen)) == 50
    if order == [("qty", True)]:
        qtys = [store.get("things", i)["qty"] for i in seen]  # type: ignore[index]
        assert qtys == sorted(qtys, reverse=True)


def test_top_caps_across_pages(store: Store) -> None:
    rows, after = odata.fetch_page(store, SPEC, odata.ListQuery([], [], 5, top=12))
    assert len(rows) == 5 and after is not None
    rows2, after2 = odata.fetch_page(store, SPEC, odata.ListQuery([], [], 5, top=7, after=after))
    rows3, after3 = odata.fetch_page(store, SPEC, odata.ListQuery([], [], 5, top=2, after=after2))
    assert len(rows2) == 5 and len(rows3) == 2 and after3 is None


def test_reject_rule(store: Store) -> None:
    store.reject("things", "name", "bad", "Name 'bad' is blocked.")
    with pytest.raises(RejectedError, match="blocked"):
        store.check_rejects("things", {"name": "bad"})
    store.check_rejects("things", {"name": "good"})


def test_skiptoken_roundtrip_and_tamper() -> None:
    token = odata.encode_token({"k": ["a", 1], "r": None})
    assert odata.decode_token(token) == {"k": ["a", 1], "r": None}
    with pytest.raises(odata.ODataError):
        odata.decode_token("%%%not-a-token")


def test_parse_instant_variants() -> None:
    assert parse_instant("2019-08-18T20:05:51.1234567Z") == datetime(
        2019, 8, 18, 20, 5, 51, 123456, tzinfo=UTC
    )
    assert format_ms(parse_instant("2019-08-18T20:05:51Z")) == "2019-08-18T20:05:51.000Z"


def test_paging_stays_fast_with_many_rows(tmp_path: Path) -> None:
    import time

    s = Store([SPEC], str(tmp_path / "big.sqlite"), Clock())
    s.insert_many("things", [{"name": f"n{i}", "qty": i} for i in range(200_000)])
    s.create_indexes()
    rows, after = odata.fetch_page(s, SPEC, odata.ListQuery([], [], 1000))
    for _ in range(150):
        rows, after = odata.fetch_page(s, SPEC, odata.ListQuery([], [], 1000, after=after))
    started = time.perf_counter()
    rows, after = odata.fetch_page(s, SPEC, odata.ListQuery([], [], 1000, after=after))
    assert len(rows) == 1000
    assert time.perf_counter() - started < 0.5
