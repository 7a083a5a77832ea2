"""``accord demo --json`` from an empty folder: the master data, then the lead-to-cash story,
whose facts are checked against the state the demo keeps (its document history)."""

from __future__ import annotations

import json
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from accord import jsonwire
from tests.cli.helpers import accord


@pytest.fixture(autouse=True)
def empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "120")
    for name in ("ACCORD_HOME", "ACCORD_DATABASE_URL", "ACCORD_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)


EVENTS = {"released": 1, "shipped": 2, "invoiced": 1, "invoice_posted": 1, "posted_on_account": 1}


def history(url: str, mapping: str, key: str) -> list[dict[str, Any]]:
    ran = accord("documents", "history", mapping, key, "--json", env={"ACCORD_DATABASE_URL": url})
    assert ran.code == 0, ran.output
    return list(json.loads(ran.stdout)["documents"])


def test_the_demo_tells_the_lead_to_cash_story_and_its_facts_hold(tmp_path: Path) -> None:
    ran = accord("demo", "--records", "30", "--json")
    assert ran.code == 0, ran.output
    shown = jsonwire.loads(ran.stdout)  # money as exact decimals
    assert shown["exit_code"] == 0 and shown["full_sync"] and shown["incremental"]
    story = shown["story"]
    assert story["ok"] and len(story["steps"]) == story["planned_steps"] == 19
    assert all(s["ok"] and s["lines"] for s in story["steps"])
    assert {s["system"] for s in story["steps"]} == {"Sales", "Accord", "Business Central"}
    quote, order, invoice = (story["facts"][k] for k in ("quote", "order", "invoice"))
    url = f"sqlite:///{tmp_path / '.accord' / 'demo' / 'demo.db'}"
    assert shown["state"] == url

    # the quote: two revisions, one BC quote, the first revision archived once
    assert len(quote["sales_revisions"]) == 2
    assert quote["archived_versions"] == 1 and quote["archive_version_numbers"] == [1]
    archives = [e for d in history(url, "QUOTE", quote["name"]) for e in d["events"]]
    assert [e["name"] for e in archives].count("archive") == 1

    # the BC order is the Sales order's, coupled in the demo's state
    assert order["bc_order_number"] and order["coupled_bc_order_id"] == order["bc_order_id"]
    [coupled] = history(url, "SALES ORDER", order["sales_order_id"])
    assert coupled["records"] == {"crm": order["sales_order_id"], "erp": order["bc_order_id"]}
    posted = Counter(
        e["name"].removeprefix("posted:")
        for e in coupled["events"]
        if e["name"].startswith("posted:")
    )
    # one timeline post per event: the release, each of two shipments, the invoice, and
    # the invoice's posting (on the order and on the account)
    assert posted == order["timeline"] == EVENTS
    assert len(order["shipments"]) == 2
    assert len(order["posts"]) == len(set(order["posts"])) == 5  # the account's is not here
    assert order["sales_state"] == {"statecode": 4, "statuscode": 100003}  # Invoiced

    # the posted invoice in Sales, with its lines and BC's totals, then Paid
    assert invoice["sales_order_id"] == order["sales_order_id"] and invoice["lines"] == 2
    assert isinstance(invoice["bc_total"], Decimal)
    assert invoice["sales_total"] == invoice["bc_total"] == invoice["paid_amount"] > 0
    assert invoice["sales_tax"] == invoice["bc_tax"]
    assert (invoice["bc_status"], invoice["bc_remaining"]) == ("Paid", 0)
    assert invoice["paid"] and invoice["sales_state"] == {"statecode": 2, "statuscode": 100001}


def test_the_demo_prints_each_step_of_the_story(tmp_path: Path) -> None:
    ran = accord("demo", "--records", "8")
    assert ran.code == 0, ran.output
    out = ran.stdout.split("Demo state kept in")[0]  # then one command line, to copy whole
    assert "Lead to cash" in out and "Every step of the story went through." in out
    steps = re.findall(r"^ ?(\d+)\. (Sales|Accord|Business Central) .* ok$", out, re.MULTILINE)
    assert [int(number) for number, _ in steps] == list(range(1, 20))
    assert "archived versions (quotes history): [1]" in out
    assert out.count("Posted on the Sales order's timeline:") == 5
    assert max(len(line) for line in out.splitlines()) <= 120
