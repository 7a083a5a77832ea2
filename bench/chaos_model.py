"""The chaos run's ledger: random changes on both sides, and the end state they imply.

Every customer the run makes is named ``Chaos NNNNNN`` (names are never edited, so a record is
found on either side by its name, whatever the engine coupled). Business Central owns some
mapped fields and Dataverse the others (edits on disjoint fields merge); a delete on either
side ends the record on both (deletes propagate) and nothing touches it afterwards. So the
expected end state is computable: each live record on both sides, each field with the last
value written to it, each deleted record on neither side.

One delete is left out, as no engine could carry it: a customer the engine made in Business
Central (from an account) and deleted there before the engine stored its id -- the worker
killed while the create's answer was on its way. Business Central's API shows deletes only
to webhooks, which name the id alone, so the next try cannot tell that delete from a create
that never ran, and makes the customer again. Such a delete is made on the account instead
(ADR 0020). A customer whose coupling holds its id is deleted on either side.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

BC, DV = "bc", "dv"
ENTITY = {BC: "customers", DV: "accounts"}
NAME = {BC: "displayName", DV: "name"}
PREFIX = "Chaos "
FIELDS: list[tuple[str, str, str]] = [
    # (Business Central field, Dataverse field, the side that edits it)
    ("addressLine1", "address1_line1", BC),
    ("city", "address1_city", BC),
    ("phoneNumber", "telephone1", BC),
    ("email", "emailaddress1", DV),
    ("website", "websiteurl", DV),
    ("postalCode", "address1_postalcode", DV),
]
COMPARED = [("displayName", "name"), ("number", "accountnumber")] + [(b, d) for b, d, _ in FIELDS]
"""Every mapped field pair, compared between the sides at the end."""


def template_yaml(interval_seconds: int = 1) -> str:
    """A one-mapping template: customers <-> accounts, both ways, deletes propagate."""
    fields = "\n".join(f"      - {{erp: {b}, crm: {d}}}" for b, d, _ in FIELDS)
    return f"""name: chaos
description: Customers <-> accounts for the chaos run (disjoint edits merge, deletes propagate)
roles: {{erp: business-central, crm: dataverse}}
mappings:
  - name: CUSTOMER
    erp: customers
    crm: accounts
    direction: both
    sync_only_coupled: false
    create_new_if_no_match: true
    conflict: hold
    deletion: propagate
    interval_seconds: {interval_seconds}
    fields:
      - {{erp: number, crm: accountnumber, match: true, match_priority: 1}}
      - {{erp: displayName, crm: name, match: true, match_priority: 2}}
{fields}
"""


def _value(column: str, op: int) -> str:
    if column in ("email", "emailaddress1"):
        return f"c{op}@chaos.example"
    if column in ("website", "websiteurl"):
        return f"https://c{op}.example"
    if column in ("phoneNumber", "telephone1"):
        return f"+47 {op:08d}"
    if column in ("postalCode", "address1_postalcode"):
        return f"{op % 100000:05d}"
    return f"{column[:4]} {op}"


def _keys(side: str, rows: list[dict[str, Any]]) -> str:
    return ", ".join(str(r.get("id" if side == BC else "accountid")) for r in rows)


@dataclass
class Record:
    """One customer the run made, and what it should hold."""

    n: int
    name: str
    origin: str
    ids: dict[str, str]
    expected: dict[str, str]
    """Business Central field -> the last value written to it."""
    deleted: str | None = None
    """The side it was deleted on."""


@dataclass
class Ledger:
    """Applies random changes to the sandboxes' stores and remembers what they should give."""

    sx: Any
    rng: random.Random
    stored: Callable[[str], bool] = lambda _bc_id: True
    """Whether the engine has stored a Business Central customer's id in a coupling."""
    records: list[Record] = field(default_factory=list)
    applied: Counter[str] = field(default_factory=Counter)

    def _store(self, side: str) -> tuple[Any, str | None]:
        box = self.sx["business-central" if side == BC else "dataverse"]
        return box.store, (box.company_id if side == BC else None)

    def find(self, side: str, record: Record) -> str | None:
        """The id of ``record`` on ``side`` (looked up by name once the engine made it)."""
        if side not in record.ids:
            store, company = self._store(side)
            rows = store.find_raw(ENTITY[side], {NAME[side]: record.name}, company)
            if rows:
                record.ids[side] = str(rows[0]["id" if side == BC else "accountid"])
        return record.ids.get(side)

    def step(self, op: int) -> str:
        """Apply one random change; returns its kind (``create_bc``, ``update_dv``, ...)."""
        live = [r for r in self.records[-400:] if not r.deleted]
        roll = self.rng.random()
        if not live or roll < 0.2:
            kind = self._create(op)
        elif roll < 0.92:
            kind = self._update(op, self.rng.choice(live))
        else:
            kind = self._delete(self.rng.choice(live))
        self.applied[kind] += 1
        return kind

    def _create(self, op: int) -> str:
        side = self.rng.choice((BC, DV))
        n = len(self.records)
        name = f"{PREFIX}{n:06d}"
        expected = {b: _value(b, op) for b, _, _ in FIELDS}
        store, company = self._store(side)
        if side == BC:
            row = store.insert(
                "customers", {"number": f"CH{n:06d}", "displayName": name, **expected}, company
            )
            ids = {BC: str(row["id"])}
        else:
            values = {d: expected[b] for b, d, _ in FIELDS}
            row = store.insert("accounts", {"name": name, **values})
            ids = {DV: str(row["accountid"])}
        self.records.append(Record(n, name, side, ids, expected))
        return f"create_{side}"

    def _update(self, op: int, record: Record) -> str:
        side = self.rng.choice((BC, DV))
        key = self.find(side, record)
        if key is None:  # not made on that side yet: edit where it was made
            side, key = record.origin, record.ids[record.origin]
        bc_field, dv_field = self.rng.choice([(b, d) for b, d, owner in FIELDS if owner == side])
        value = _value(bc_field, op)
        store, company = self._store(side)
        store.update(ENTITY[side], key, {bc_field if side == BC else dv_field: value}, company)
        record.expected[bc_field] = value
        return f"update_{side}"

    def _delete(self, record: Record) -> str:
        side = self.rng.choice((BC, DV))
        key = self.find(side, record)
        if key is None or (side == BC and record.origin == DV and not self.stored(key)):
            # a customer the engine made whose id it has not yet stored: a delete now is one
            # Business Central's API cannot show (see the module's docstring)
            side, key = record.origin, record.ids[record.origin]
        store, company = self._store(side)
        store.delete(ENTITY[side], key, company)
        record.deleted = side
        return f"delete_{side}"

    def compare(self) -> dict[str, int]:
        """``lost``, ``duplicated`` and ``divergent`` of the end state (0, 0, 0 when right)."""
        found = Counter(kind for kind, _ in self.problems())
        return {k: found[k] for k in ("lost", "duplicated", "divergent")}

    def breakdown(self) -> dict[str, int]:
        """What the problems are, by kind: deleted but present, missing, a stale field..."""
        kinds = Counter()
        for kind, what in self.problems():
            detail = "deleted, still present" if "deleted on" in what else (
                "missing on a side" if "missing on" in what else "field")  # fmt: skip
            kinds[f"{kind}: {detail}"] += 1
        return dict(kinds)

    def problems(self) -> list[tuple[str, str]]:
        """Each thing wrong with the end state: (``lost`` | ``duplicated`` | ``divergent``,
        what)."""
        rows: dict[str, dict[str, list[dict[str, Any]]]] = {BC: {}, DV: {}}
        for side in (BC, DV):
            store, company = self._store(side)
            for row in store.all(ENTITY[side], company):
                name = str(row.get(NAME[side]) or "")
                if name.startswith(PREFIX):
                    rows[side].setdefault(name, []).append(row)
        known = {r.name for r in self.records}
        out: list[tuple[str, str]] = []
        for side in (BC, DV):
            for name, many in rows[side].items():
                extra = len(many) - (1 if name in known else 0)
                out += [("duplicated", f"{name} on {side}")] * extra
        for record in self.records:
            out += self._wrong(record, {side: rows[side].get(record.name, []) for side in (BC, DV)})
        return out

    @staticmethod
    def _wrong(record: Record, present: dict[str, list[dict[str, Any]]]) -> list[tuple[str, str]]:
        ids = ", ".join(f"{side} {key}" for side, key in sorted(record.ids.items()))
        what = f"{record.name} (made on {record.origin}; {ids})"
        if record.deleted:
            gone = f"{what}: deleted on {record.deleted}, still on"
            return [
                ("lost", f"{gone} {s} as {_keys(s, present[s])}") for s in (BC, DV) if present[s]
            ]
        out = [("lost", f"{what}: missing on {s}") for s in (BC, DV) if not present[s]]
        for b, d, _ in FIELDS:
            wanted = record.expected[b]
            for side, column in ((BC, b), (DV, d)):
                for row in present[side][:1]:
                    if (row.get(column) or "") != wanted:
                        out.append(("lost", f"{what}: {side} {column}={row.get(column)!r}, "
                                            f"wanted {wanted!r}"))  # fmt: skip
        if present[BC] and present[DV]:
            bc_row, dv_row = present[BC][0], present[DV][0]
            for b, d in COMPARED:
                if (bc_row.get(b) or "") != (dv_row.get(d) or ""):
                    out.append(
                        ("divergent", f"{what}: {b}={bc_row.get(b)!r}, {d}={dv_row.get(d)!r}")
                    )
        return out

    def summary(self) -> dict[str, Any]:
        return {
            "records": len(self.records),
            "deleted": sum(1 for r in self.records if r.deleted),
            "applied": dict(sorted(self.applied.items())),
        }
