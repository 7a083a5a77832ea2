"""Dataverse documents with their details in one request: deep insert (``POST salesorders``
with ``order_details: [...]``, all or nothing) and ``$expand`` of the details collection on
a header read."""

from __future__ import annotations

import dataclasses
import uuid
from typing import TYPE_CHECKING, Any

from accord import jsonwire
from accord.sandboxes.common.http import Req, Resp
from accord.sandboxes.common.odata import ODataError
from accord.sandboxes.common.store import EntitySpec, Row
from accord.sandboxes.dataverse.documents import Document
from accord.sandboxes.dataverse.protocol import BAD_SYNTAX, entity_json, parse_key
from accord.sandboxes.dataverse.query import list_rows

if TYPE_CHECKING:
    from accord.sandboxes.dataverse.document_rules import DvDocuments


def create_deep(
    docs: DvDocuments, req: Req, spec: EntitySpec, doc: Document, body: Row, details: Any
) -> Resp:
    """Create a header and its details together; a bad detail leaves nothing behind."""
    if not isinstance(details, list) or not all(isinstance(d, dict) for d in details):
        raise ODataError(400, BAD_SYNTAX, f"'{doc.collection}' must be a list of objects.")
    body = {**body, spec.key: body.get(spec.key) or str(uuid.uuid4())}
    detail_spec = docs.store.specs[doc.details]
    with docs.store.transaction():
        resp = docs.generic(dataclasses.replace(req, body=jsonwire.dumps(body)), spec, None)
        bind = f"/{doc.header}({body[spec.key]})"
        for detail in details:
            line = {**detail, f"{doc.parent_nav}@odata.bind": bind}
            part = dataclasses.replace(req, path=doc.details, body=jsonwire.dumps(line), headers={})
            docs.write_detail(part, detail_spec, doc, None, line, None)
    return resp


def read_expanded(
    docs: DvDocuments, req: Req, spec: EntitySpec, doc: Document, key: str | None
) -> Resp:
    """A header (or a page of headers) with ``$expand=<details collection>`` inline."""
    wanted = req.query["$expand"]
    if wanted != doc.collection:
        raise ODataError(
            400,
            BAD_SYNTAX,
            f"Could not find a property named '{wanted}' on type "
            f"'Microsoft.Dynamics.CRM.{spec.type_name}'.",
        )
    query = {k: v for k, v in req.query.items() if k != "$expand"}
    selected = [n.strip() for n in query.get("$select", "").split(",") if n.strip()]
    hide_key = bool(selected) and spec.key not in selected
    if hide_key:
        query["$select"] = ",".join([*selected, spec.key])
    plain = dataclasses.replace(req, query=query)
    if key is None:
        resp = list_rows(plain, spec, docs.store, docs.res.options, docs.store.clock)
    else:
        resp = docs.res.get(plain, spec, parse_key(spec, key, docs.res.options))
    body = resp.body
    if resp.status != 200 or not isinstance(body, dict):
        return resp
    detail_spec = docs.store.specs[doc.details]
    for row in body.get("value", [body]):
        header_id = row.pop(spec.key) if hide_key else row[spec.key]
        lines = sorted(docs.details(doc, header_id), key=lambda d: d["sequencenumber"] or 0)
        row[doc.collection] = [entity_json(line, detail_spec) for line in lines]
    if "@odata.nextLink" in body:
        body["@odata.nextLink"] += f"&$expand={wanted}"
    return resp
