"""OData v4 query options over the store: $filter (via odata-query), $select, $orderby,
$top/$skip and keyset paging behind an opaque $skiptoken."""

from __future__ import annotations

import base64
import json
import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import sqlalchemy as sa
from odata_query import ast
from odata_query import exceptions as odata_exc
from odata_query.grammar import ODataLexer, ODataParser
from odata_query.sqlalchemy.core import AstToSqlAlchemyCoreVisitor

from accord.sandboxes.common.clock import parse_instant
from accord.sandboxes.common.store import COMPANY, EntitySpec, Row, Store

GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
"""Literal shapes both Microsoft APIs validate."""
EDM = {
    "str": "Edm.String",
    "guid": "Edm.Guid",
    "int": "Edm.Int32",
    "float": "Edm.Decimal",
    "bool": "Edm.Boolean",
    "datetime": "Edm.DateTimeOffset",
    "date": "Edm.Date",
}
"""Store field type -> EDM type name (for $metadata and type errors)."""


_TEXT_TYPES = {"str", "guid", "date", "datetime"}
logging.getLogger("odata_query").setLevel(logging.ERROR)


class ODataError(Exception):
    """An error the sandbox turns into the system's OData error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class _Visitor(AstToSqlAlchemyCoreVisitor):
    """odata-query's Core visitor with the store's literal shapes (text datetimes, GUIDs)."""

    def __init__(self, table: sa.Table, spec: EntitySpec, type_label: str) -> None:
        super().__init__(table)  # type: ignore[arg-type]
        self.spec = spec
        self.type_label = type_label
        self._columns = table.c

    def visit_Identifier(self, node: ast.Identifier) -> Any:
        if node.name not in self.spec.field_map:
            raise ODataError(
                400,
                "BadRequest",
                f"Could not find a property named '{node.name}' on type '{self.type_label}'.",
            )
        return self._columns[node.name]

    def visit_DateTime(self, node: ast.DateTime) -> Any:
        try:
            return sa.literal(self.spec.time_format(parse_instant(node.val)))
        except ValueError as exc:
            raise ODataError(400, "BadRequest", f"Invalid datetime '{node.val}'.") from exc

    def visit_GUID(self, node: ast.GUID) -> Any:
        return sa.literal(node.val.lower())

    def visit_Float(self, node: ast.Float) -> Any:
        """Decimal literals stay exact text (compared under the ``DECIMAL`` collation)."""
        return sa.literal(node.val, sa.Text)


_LEXER = ODataLexer()
_PARSER = ODataParser()


def compile_filter(spec: EntitySpec, table: sa.Table, text: str, type_label: str) -> Any:
    """Translate a $filter expression into a SQL boolean clause."""
    try:
        tree = _PARSER.parse(_LEXER.tokenize(text))
        return _Visitor(table, spec, type_label).visit(tree)
    except ODataError:
        raise
    except (odata_exc.ODataException, NotImplementedError, TypeError, ValueError) as exc:
        raise ODataError(400, "BadRequest", f"Invalid $filter expression: {exc}") from exc


def parse_orderby(spec: EntitySpec, text: str | None, type_label: str) -> list[tuple[str, bool]]:
    """Parse $orderby into (field, descending) pairs."""
    order: list[tuple[str, bool]] = []
    if not text:
        return order
    for part in text.split(","):
        bits = part.strip().split()
        if not bits:
            continue
        name = bits[0]
        if name not in spec.field_map:
            raise ODataError(
                400,
                "BadRequest",
                f"Could not find a property named '{name}' on type '{type_label}'.",
            )
        direction = bits[1].lower() if len(bits) > 1 else "asc"
        if direction not in ("asc", "desc"):
            raise ODataError(400, "BadRequest", f"Invalid $orderby direction '{bits[1]}'.")
        order.append((name, direction == "desc"))
    return order


def parse_select(spec: EntitySpec, text: str | None, type_label: str) -> list[str] | None:
    """Parse $select into field names (None = all fields)."""
    if not text:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    for name in names:
        if name not in spec.field_map:
            raise ODataError(
                400,
                "BadRequest",
                f"Could not find a property named '{name}' on type '{type_label}'.",
            )
    return names


def parse_int(name: str, text: str | None) -> int | None:
    """Parse a non-negative integer query option."""
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise ODataError(400, "BadRequest", f"Invalid value '{text}' for {name}.")
    return value


def encode_token(state: dict[str, Any]) -> str:
    """Opaque URL-safe token for keyset state."""
    raw = json.dumps(state, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> dict[str, Any]:
    """Inverse of encode_token; ODataError when tampered with."""
    try:
        padded = token + "=" * (-len(token) % 4)
        state = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, json.JSONDecodeError) as exc:
        raise ODataError(400, "BadRequest", "The skip token is not valid.") from exc
    if not isinstance(state, dict):
        raise ODataError(400, "BadRequest", "The skip token is not valid.")
    return state


@dataclass
class ListQuery:
    """A resolved list request."""

    where: list[Any]
    order: list[tuple[str, bool]]
    page_size: int
    top: int | None = None
    skip: int = 0
    after: list[Any] | None = None
    company: str | None = None


def _sort_expr(spec: EntitySpec, table: sa.Table, name: str) -> Any:
    col = table.c[name]
    nullable_text = spec.field_map[name].type in _TEXT_TYPES and name not in (
        spec.key,
        spec.modified,
    )
    return sa.func.coalesce(col, "") if nullable_text else col


def full_order(spec: EntitySpec, order: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """The requested order made total by appending the key."""
    if any(name == spec.key for name, _ in order):
        return order
    return [*order, (spec.key, False)]


def fetch_page(store: Store, spec: EntitySpec, q: ListQuery) -> tuple[list[Row], list[Any] | None]:
    """One page of rows plus the keyset position to continue from (None on the last page)."""
    table = store.table(spec.name)
    order = full_order(spec, q.order)
    exprs = [_sort_expr(spec, table, name) for name, _ in order]
    stmt = sa.select(table)
    if spec.scoped:
        stmt = stmt.where(table.c[COMPANY] == (q.company or store.default_company))
    for clause in q.where:
        stmt = stmt.where(clause)
    directions = {desc for _, desc in order}
    if q.after is not None and len(order) == 1:
        stmt = stmt.where(exprs[0] < q.after[0] if order[0][1] else exprs[0] > q.after[0])
    elif q.after is not None and len(directions) == 1:
        left, right = sa.tuple_(*exprs), sa.tuple_(*(sa.literal(v) for v in q.after))
        stmt = stmt.where(left < right if order[0][1] else left > right)
    elif q.after is not None:
        ors = []
        for i, (_, desc) in enumerate(order):
            eqs = [exprs[j] == q.after[j] for j in range(i)]
            step = exprs[i] < q.after[i] if desc else exprs[i] > q.after[i]
            ors.append(sa.and_(*eqs, step))
        stmt = stmt.where(sa.or_(*ors))
    sorts = [e.desc() if d else e.asc() for e, (_, d) in zip(exprs, order, strict=True)]
    stmt = stmt.order_by(*sorts)
    limit = q.page_size if q.top is None else min(q.page_size, q.top)
    stmt = stmt.limit(limit + 1)
    if q.skip and q.after is None:
        stmt = stmt.offset(q.skip)
    rows = store.rows(stmt)
    more = len(rows) > limit
    rows = rows[:limit]
    if q.top is not None and len(rows) >= q.top:
        more = False
    if not more or not rows:
        return rows, None
    last = rows[-1]
    return rows, [last[name] if last[name] is not None else "" for name, _ in order]


def count_rows(store: Store, spec: EntitySpec, where: list[Any], company: str | None) -> int:
    """COUNT(*) under the same filter."""
    table = store.table(spec.name)
    stmt = sa.select(sa.func.count()).select_from(table)
    if spec.scoped:
        stmt = stmt.where(table.c[COMPANY] == (company or store.default_company))
    for clause in where:
        stmt = stmt.where(clause)
    return int(store.scalar(stmt))


def next_link(base: str, query: dict[str, str], token: str, drop: tuple[str, ...] = ()) -> str:
    """``base`` with the original query options (minus ``drop``) and a new $skiptoken."""
    kept = {k: v for k, v in query.items() if k not in drop and k != "$skiptoken"}
    kept["$skiptoken"] = token
    return base + "?" + urlencode(kept, quote_via=quote, safe="$,'()=")


def parse_prefer(header: str | None) -> dict[str, str]:
    """Split a Prefer header into {preference: value}."""
    prefs: dict[str, str] = {}
    if not header:
        return prefs
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name:
            prefs[name.strip().lower()] = value.strip().strip('"')
    return prefs


def project(row: Row, names: list[str]) -> Row:
    """Pick ``names`` from a stored row."""
    return {n: row[n] for n in names}
