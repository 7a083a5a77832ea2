"""Dataverse list reads: $select/$filter/$orderby/$top/$count, ``odata.maxpagesize`` paging
with paging-cookie skiptokens, and the initial ``odata.track-changes`` read."""

from __future__ import annotations

import re
from typing import Any

from accord.sandboxes.common import odata
from accord.sandboxes.common.clock import Clock
from accord.sandboxes.common.http import Req, Resp
from accord.sandboxes.common.odata import ODataError
from accord.sandboxes.common.store import EntitySpec, Store
from accord.sandboxes.dataverse.changetracking import cookie, delta_link, read_delta
from accord.sandboxes.dataverse.protocol import BAD_SYNTAX, DvOptions, entity_json, error

_COOKIE = re.compile(r'pagingcookie="([^"]*)"')
_NOT_WITH_TRACKING = ("$filter", "$orderby", "$expand", "$top")


def _state(query: dict[str, str]) -> dict[str, Any] | None:
    token = query.get("$skiptoken")
    if token is None:
        return None
    m = _COOKIE.search(token)
    if m is None:
        raise ODataError(400, BAD_SYNTAX, "The $skiptoken is not valid.")
    return odata.decode_token(m.group(1))


def list_rows(req: Req, spec: EntitySpec, store: Store, options: DvOptions, clock: Clock) -> Resp:
    """GET an entity set."""
    q = req.query
    label = f"Microsoft.Dynamics.CRM.{spec.type_name}"
    if "$skip" in q:
        return error(400, BAD_SYNTAX, "The query parameter $skip is not supported.")
    prefer = odata.parse_prefer(req.header("prefer"))
    state = _state(q)
    applied: list[str] = []
    page = options.page_size
    if "odata.maxpagesize" in prefer:
        asked = odata.parse_int("odata.maxpagesize", prefer["odata.maxpagesize"]) or page
        page = min(asked, options.max_page_size)
        applied.append(f"odata.maxpagesize={page}")
    elif state and "p" in state:
        page = int(state["p"])
    select = odata.parse_select(spec, q.get("$select"), label)
    tracking = (
        "odata.track-changes" in prefer
        or "$deltatoken" in q
        or bool(state and state.get("ct") is not None)
    )
    if tracking:
        for option in _NOT_WITH_TRACKING:
            if option in q:
                return error(
                    400,
                    BAD_SYNTAX,
                    f'The "{option}" query parameter isn\'t supported '
                    "when Change Tracking is enabled.",
                )
        if options.change_tracking is not None and spec.name not in options.change_tracking:
            return error(
                400, "0x80044352", f"Change tracking is not enabled for entity '{spec.type_name}'."
            )
        if "$deltatoken" in q:
            return read_delta(req, spec, store, clock, page, select, state)
    if "$expand" in q:
        return error(400, BAD_SYNTAX, "$expand is not supported by the Accord sandbox.")
    table = store.table(spec.name)
    where = [odata.compile_filter(spec, table, q["$filter"], label)] if q.get("$filter") else []
    order = odata.parse_orderby(spec, q.get("$orderby"), label)
    top = None if "odata.maxpagesize" in prefer else odata.parse_int("$top", q.get("$top"))
    start = store.version if tracking and state is None else (state or {}).get("ct")
    after = state.get("k") if state else None
    if state:
        top = state.get("r")
    rows, position = odata.fetch_page(
        store, spec, odata.ListQuery(where, order, max(page, 1), top, 0, after)
    )
    suffix = f"({','.join(select)})" if select else ""
    base = f"{req.origin}{req.path_root}"
    body: dict[str, Any] = {"@odata.context": f"{base}/$metadata#{spec.name}{suffix}"}
    if q.get("$count", "").lower() == "true":
        total = odata.count_rows(store, spec, where, None)
        body["@odata.count"] = min(total, options.count_limit)
        if total > options.count_limit:
            body["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] = True
    body["value"] = [entity_json(r, spec, select) for r in rows]
    if position is not None:
        number = int((state or {}).get("n", 1)) + 1
        inner = odata.encode_token(
            {
                "k": position,
                "r": None if top is None else top - len(rows),
                "p": page,
                "n": number,
                "ct": start,
            }
        )
        body["@odata.nextLink"] = odata.next_link(
            f"{base}/{spec.name}", q, cookie(inner, number, tracking), drop=("$top",)
        )
    elif tracking:
        body["@odata.deltaLink"] = delta_link(req, spec, select, int(start or 0), clock)
    if tracking:
        applied.append("odata.track-changes")
    return Resp(200, body, {"Preference-Applied": ",".join(applied)} if applied else {})
