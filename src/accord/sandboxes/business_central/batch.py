"""Business Central OData JSON ``$batch``: independent operations, or all-or-nothing with
``Isolation: snapshot``; at most ``batch_limit`` (100) operations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from accord import jsonwire
from accord.sandboxes.business_central.protocol import BcOptions, error, error_body
from accord.sandboxes.common.http import Req, Resp
from accord.sandboxes.common.store import Store


class _Rollback(Exception):
    pass


def _relative(url: str, root: str) -> tuple[str, dict[str, str]]:
    """Inner URL (absolute, server-relative or API-relative) → (API-relative path, query)."""
    parts = urlsplit(url)
    path = parts.path
    for prefix in (root, "/api/v2.0", "api/v2.0"):
        if path.startswith(prefix):
            path = path[len(prefix) :]
            break
    return path.lstrip("/"), dict(parse_qsl(parts.query, keep_blank_values=True))


def run_batch(
    req: Req,
    dispatch: Callable[[Req], Resp],
    store: Store,
    options: BcOptions,
    note: Callable[[str, int], None],
) -> Resp:
    """Execute a JSON batch request."""
    try:
        payload = req.json()
    except ValueError:
        return error(400, "BadRequest", "The batch request body is not valid JSON.")
    requests = payload.get("requests") if isinstance(payload, dict) else None
    if not isinstance(requests, list):
        return error(400, "BadRequest", "The batch request must contain a 'requests' array.")
    if len(requests) > options.batch_limit:
        return error(
            400,
            "BadRequest",
            f"The number of operations in the batch ({len(requests)}) exceeds the maximum "
            f"allowed ({options.batch_limit}).",
        )
    note("batch_operations", len(requests))
    snapshot = (req.header("isolation") or "").lower() == "snapshot"
    results: list[dict[str, Any]] = []

    def one(item: Any) -> dict[str, Any]:
        if not isinstance(item, dict) or "method" not in item or "url" not in item:
            resp = error(400, "BadRequest", "Each batch operation needs 'method' and 'url'.")
        else:
            headers = {k.lower(): str(v) for k, v in (item.get("headers") or {}).items()}
            path, query = _relative(str(item["url"]), req.path_root)
            body = item.get("body")
            inner = Req(
                str(item["method"]).upper(),
                path,
                query,
                headers,
                jsonwire.dumps(body) if body is not None else b"",
                req.client_id,
                req.origin,
                req.path_root,
            )
            resp = dispatch(inner)
        out: dict[str, Any] = {
            "id": item.get("id") if isinstance(item, dict) else None,
            "status": resp.status,
            "headers": dict(resp.headers),
        }
        if resp.body is not None:
            out["headers"].setdefault("content-type", "application/json; odata.metadata=minimal")
            out["body"] = resp.body
        return out

    if not snapshot:
        results = [one(item) for item in requests]
        return Resp(200, {"responses": results})
    try:
        with store.transaction():
            for item in requests:
                results.append(one(item))
                if results[-1]["status"] >= 400:
                    raise _Rollback
    except _Rollback:
        failed = len(results) - 1
        rolled = error_body(
            "BadRequest_BatchRolledBack",
            "The batch was rolled back because another operation failed.",
        )
        for i, item in enumerate(requests):
            if i != failed:
                ident = item.get("id") if isinstance(item, dict) else None
                status = options.snapshot_failed_status
                entry: dict[str, Any] = {
                    "id": ident,
                    "status": status,
                    "headers": {},
                    "body": rolled,
                }
                if i < len(results):
                    results[i] = entry
                else:
                    results.append(entry)
    return Resp(200, {"responses": results})
