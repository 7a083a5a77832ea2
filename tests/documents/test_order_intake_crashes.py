"""Order intake killed mid-way (SIGKILL of a real ``accord orders create-in-erp``): after
the BC header was made but before it was recorded, between the header and the lines, and
in the middle of marking the Sales order. The next run completes each: one BC order with
every line, none twice, and the Sales order Submitted again with its mark.

The sandboxes run in this process; a gate blocks the sandbox's store right after the write
the kill must follow, so the kill always lands at that point."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tests.documents.conftest import MAPPING, Intake

TIMEOUT = 40.0


@contextmanager
def killed_after(
    intake: Intake, store: Any, method: str, when: Callable[..., bool], *args: str
) -> Iterator[None]:
    """Run ``accord *args`` and kill it once the store's ``method`` call for which ``when``
    holds has run (the call itself completes: the system applied the write, the answer is
    lost)."""
    reached, released = threading.Event(), threading.Event()
    original = getattr(store, method)

    def gated(*call: Any, **named: Any) -> Any:
        result = original(*call, **named)
        if not reached.is_set() and when(*call, **named):
            reached.set()
            released.wait(TIMEOUT)
        return result

    setattr(store, method, gated)
    process = intake.spawn(*args)
    try:
        assert reached.wait(TIMEOUT), (intake.home / "spawned.log").read_text()
        process.send_signal(signal.SIGKILL)
        assert process.wait(TIMEOUT) == -signal.SIGKILL
    finally:
        released.set()
        vars(store).pop(method, None)
        if process.poll() is None:
            process.kill()
            process.wait()
    yield


def eventually(condition: Callable[[], bool]) -> None:
    """Wait for the sandbox to finish the request the kill interrupted."""
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, "the sandbox never finished the request"
        time.sleep(0.05)


def lines_of(intake: Intake, count: int) -> list[dict[str, Any]]:
    products = intake.products()
    return [
        {"_productid_value": products[n % len(products)]["productid"], "quantity": n + 1}
        for n in range(count)
    ]


def test_killed_after_the_header_was_made_the_rerun_finds_it(intake: Intake) -> None:
    intake.submit("SO-KILL-HEADER", lines_of(intake, 2))
    with killed_after(
        intake,
        intake.bc,
        "insert_raw",
        lambda entity, values, *_: entity == "salesOrders",
        "orders",
        "create-in-erp",
        "SO-KILL-HEADER",
    ):
        pass
    eventually(lambda: len(intake.bc_orders("SO-KILL-HEADER")) == 1)  # made, never recorded
    ran = intake.cli("orders", "create-in-erp", "SO-KILL-HEADER")
    assert ran.code == 0, ran.output
    assert len(intake.bc_orders("SO-KILL-HEADER")) == 1
    assert [r["quantity"] for r in intake.bc_lines("SO-KILL-HEADER")] == [1, 2]
    history = intake.cli("documents", "history", MAPPING, "SO-KILL-HEADER").output
    assert "found_again" in history


def test_killed_between_the_lines_the_rerun_completes_them_once(intake: Intake) -> None:
    order = intake.submit("SO-KILL-LINES", lines_of(intake, 5))
    seen: list[str] = []

    def third_line(entity: str, *_: Any) -> bool:
        seen.extend([entity] if entity == "salesOrderLines" else [])
        return len(seen) == 3

    with killed_after(
        intake, intake.bc, "insert_raw", third_line, "orders", "create-in-erp", "SO-KILL-LINES"
    ):
        pass
    # the sandbox goes on with the batch once released: let it end, then take out the lines
    # after the third, as if the kill had stopped them
    eventually(lambda: len(intake.bc_lines("SO-KILL-LINES")) == 5)
    for line in intake.bc_lines("SO-KILL-LINES")[3:]:
        intake.bc.delete_raw("salesOrderLines", line["id"])
    assert len(intake.bc_lines("SO-KILL-LINES")) == 3
    assert not intake.sales_order(order)["lastbackofficesubmit"]

    ran = intake.cli("orders", "create-in-erp", "SO-KILL-LINES")
    assert ran.code == 0, ran.output
    assert len(intake.bc_orders("SO-KILL-LINES")) == 1
    lines = intake.bc_lines("SO-KILL-LINES")
    assert [(r["sequence"], r["quantity"]) for r in lines] == [(10000 * n, n) for n in range(1, 6)]
    assert intake.sales_order(order)["lastbackofficesubmit"]


def test_killed_while_marking_the_sales_order_it_is_never_left_active(intake: Intake) -> None:
    order = intake.submit("SO-KILL-MARK", lines_of(intake, 1))
    with killed_after(
        intake,
        intake.dv,
        "update_raw",
        lambda entity, key, values, *_: entity == "salesorders" and values.get("statecode") == 0,
        "orders",
        "create-in-erp",
        "SO-KILL-MARK",
    ):
        pass
    eventually(lambda: intake.sales_order(order)["statecode"] == 0)
    stopped = intake.sales_order(order)
    assert stopped["statecode"] == 0 and not stopped["lastbackofficesubmit"]  # left Active

    ran = intake.cli("documents", "run", MAPPING)  # not automatic: only what stopped resumes
    assert ran.code == 0, ran.output
    marked = intake.sales_order(order)
    assert (marked["statecode"], marked["statuscode"]) == (1, 3)
    assert marked["lastbackofficesubmit"]
    assert len(intake.bc_orders("SO-KILL-MARK")) == 1
    assert len(intake.bc_lines("SO-KILL-MARK")) == 1


def _nth(entity: str, count: int, unlock: bool = False) -> Callable[..., bool]:
    """True at the ``count``-th write on ``entity`` (an unlock only, with ``unlock``)."""
    seen: list[str] = []

    def when(name: str, *call: Any) -> bool:
        wanted = not unlock or (isinstance(call[1], dict) and call[1].get("statecode") == 0)
        seen.extend([name] if name == entity and wanted else [])
        return len(seen) == count

    return when


def test_a_chunk_killed_in_its_deep_inserts_is_completed_without_a_line_twice(
    intake: Intake,
) -> None:
    names = [f"DI-KILL-{n}" for n in range(3)]
    orders = [intake.submit(name, lines_of(intake, 3)) for name in names]
    with killed_after(
        intake, intake.bc, "insert_raw", _nth("salesOrders", 2), "orders", "create-in-erp", *names
    ):
        pass
    # the batch ends once released: three BC orders, each with all its lines, none recorded
    eventually(lambda: all(len(intake.bc_orders(n)) == 1 for n in names))
    eventually(lambda: all(len(intake.bc_lines(n)) == 3 for n in names))
    made = {name: intake.bc_line_ids(name) for name in names}
    for order in orders:  # the intent and every line were recorded before the write
        assert [p for p, target in intake.recorded_lines(order)] == [10_000, 20_000, 30_000]
        assert all(target is None for _, target in intake.recorded_lines(order))

    ran = intake.cli("orders", "create-in-erp", *names)
    assert ran.code == 0, ran.output
    for name, order in zip(names, orders, strict=True):
        assert len(intake.bc_orders(name)) == 1
        assert intake.bc_line_ids(name) == made[name]  # found again by position, not rewritten
        assert intake.recorded_lines(order) == made[name]
        assert intake.sales_order(order)["lastbackofficesubmit"], name
        history = intake.cli("documents", "history", MAPPING, name).output
        assert "found_again" in history


def test_a_chunk_killed_while_unlocking_is_never_left_active(intake: Intake) -> None:
    names = [f"SO-KILL-UNLOCK-{n}" for n in range(3)]
    orders = [intake.submit(name, lines_of(intake, 1)) for name in names]
    when = _nth("salesorders", 2, unlock=True)
    with killed_after(intake, intake.dv, "update_raw", when, "orders", "create-in-erp", *names):
        pass
    # the unlock batch ends once released: all three Active, none marked
    eventually(lambda: all(intake.sales_order(o)["statecode"] == 0 for o in orders))
    ran = intake.cli("documents", "run", MAPPING)  # not automatic: only what stopped resumes
    assert ran.code == 0, ran.output
    for name, order in zip(names, orders, strict=True):
        marked = intake.sales_order(order)
        assert (marked["statecode"], marked["statuscode"]) == (1, 3), name
        assert marked["lastbackofficesubmit"], name
        assert len(intake.bc_orders(name)) == 1 and len(intake.bc_lines(name)) == 1
