"""Dataverse change tracking: delta links after an ``odata.track-changes`` read, and delta
reads returning changed rows plus ``$deletedEntity`` rows for deletions, paged when large."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import sqlalchemy as sa

from accord.sandboxes.common import odata
from accord.sandboxes.common.clock import Clock
from accord.sandboxes.common.http import Req, Resp
from accord.sandboxes.common.store import VERSION, EntitySpec, Store
from accord.sandboxes.dataverse.protocol import BAD_SYNTAX, entity_json, error


def delta_link(
    req: Req, spec: EntitySpec, select: list[str] | None, version: int, clock: Clock
) -> str:
    """``…/{set}?$select=…&$deltatoken=<version>%21<MM/dd/yyyy HH:mm:ss>``."""
    stamp = clock.now().strftime("%m/%d/%Y %H:%M:%S")
    token = quote(f"{version}!{stamp}", safe="")
    selected = f"$select={','.join(select)}&" if select else ""
    return f"{req.origin}{req.path_root}/{spec.name}?{selected}$deltatoken={token}"


def parse_delta_token(token: str) -> int | None:
    """The row version a delta token starts after, or None if malformed."""
    head = token.split("!", 1)[0]
    return int(head) if head.isdigit() else None


def read_delta(
    req: Req,
    spec: EntitySpec,
    store: Store,
    clock: Clock,
    page_size: int,
    select: list[str] | None,
    state: dict[str, Any] | None,
) -> Resp:
    """One page of changes since the delta token (or the skiptoken's position)."""
    start = parse_delta_token(req.query["$deltatoken"])
    if start is None:
        return error(400, BAD_SYNTAX, "The delta token is not valid.")
    after = int(state["d"]) if state else start
    upto = int(state["u"]) if state else store.version
    table = store.table(spec.name)
    stmt = (
        sa.select(table)
        .where(table.c[VERSION] > after, table.c[VERSION] <= upto)
        .order_by(table.c[VERSION])
        .limit(page_size + 1)
    )
    changed = [(r[VERSION], r) for r in store.rows(stmt)]
    gone = [(t[VERSION], t) for t in store.deleted_since(spec.name, after, upto, page_size + 1)]
    merged = sorted(changed + gone, key=lambda pair: pair[0])
    more = len(merged) > page_size
    merged = merged[:page_size]
    base = f"{req.origin}{req.path_root}"
    deleted_ctx = f"{base}/$metadata#{spec.name}/$deletedEntity"
    value: list[dict[str, Any]] = []
    for _, row in merged:
        if "key" in row and spec.key not in row:
            value.append({"@odata.context": deleted_ctx, "id": row["key"], "reason": "deleted"})
        else:
            value.append(entity_json(row, spec, select))
    suffix = f"({','.join(select)})" if select else ""
    body: dict[str, Any] = {
        "@odata.context": f"{base}/$metadata#{spec.name}{suffix}/$delta",
        "value": value,
    }
    if more:
        token = odata.encode_token({"d": merged[-1][0], "u": upto})
        body["@odata.nextLink"] = odata.next_link(
            f"{base}/{spec.name}", req.query, cookie(token, 2, True)
        )
    else:
        body["@odata.deltaLink"] = delta_link(req, spec, select, upto, clock)
    return Resp(200, body, {"Preference-Applied": "odata.track-changes"})


def cookie(inner: str, page: int, tracking: bool) -> str:
    """A Dataverse-style paging cookie wrapping the opaque keyset token."""
    return f'<cookie pagenumber="{page}" pagingcookie="{inner}" istracking="{tracking}" />'
