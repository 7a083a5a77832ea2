"""The order in which a sync runs document mappings: a mapping whose action makes another's
target record runs before it, through a chain of them, else in the template's order."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from accord.config.documents import DocumentMappingSpec
from accord.services.documents import run_order


def doc(name: str, makes: str | None = None) -> DocumentMappingSpec:
    actions = [SimpleNamespace(couples_to=makes)] if makes else []
    return cast(Any, SimpleNamespace(name=name, actions=actions))


def test_makers_run_before_what_they_make_through_a_chain() -> None:
    docs = [doc("C"), doc("A", makes="B"), doc("B", makes="C"), doc("D")]
    assert [d.name for d in run_order(docs)] == ["A", "B", "C", "D"]


def test_without_makers_the_template_order_stays() -> None:
    docs = [doc("SALES ORDER"), doc("SALES INVOICE"), doc("QUOTE", makes="SALES ORDER")]
    assert [d.name for d in run_order(docs)] == ["QUOTE", "SALES ORDER", "SALES INVOICE"]
