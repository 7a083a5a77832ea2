"""Dataverse multipart ``$batch``: ``application/http`` parts, atomic change sets with
``Content-ID``/``$n`` references, ``odata.continue-on-error``, at most 1000 requests."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from accord import jsonwire
from accord.sandboxes.common.http import STATUS_TEXT, Req, Resp
from accord.sandboxes.common.odata import parse_prefer
from accord.sandboxes.common.store import Store
from accord.sandboxes.dataverse.protocol import BAD_SYNTAX, DvOptions, error

_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.I)
_REF = re.compile(r"^\$(\d+)")


class _Rollback(Exception):
    def __init__(self, failure: Part) -> None:
        self.failure = failure


@dataclass
class Part:
    """One request (or change set) of the batch, and later its response."""

    headers: dict[str, str]
    method: str = ""
    url: str = ""
    req_headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    changeset: list[Part] | None = None
    resp: Resp | None = None


def _split_head(blob: bytes) -> tuple[list[str], bytes]:
    text = blob.replace(b"\r\n", b"\n")
    head, _, rest = text.partition(b"\n\n")
    return [ln for ln in head.decode().split("\n") if ln.strip()], rest


def _headers(lines: list[str]) -> dict[str, str]:
    out = {}
    for line in lines:
        name, _, value = line.partition(":")
        out[name.strip().lower()] = value.strip()
    return out


def parse_multipart(body: bytes, boundary: str) -> list[tuple[dict[str, str], bytes]]:
    """Split a multipart body into (MIME headers, content) pairs."""
    delim = b"--" + boundary.encode()
    parts = []
    for chunk in body.split(delim)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk.lstrip(b"\r\n")
        lines, content = _split_head(chunk)
        parts.append((_headers(lines), content.rstrip(b"\r\n")))
    return parts


def _parse_part(headers: dict[str, str], content: bytes) -> Part:
    ctype = headers.get("content-type", "")
    if ctype.lower().startswith("multipart/mixed"):
        m = _BOUNDARY.search(ctype)
        inner = parse_multipart(content, m.group(1)) if m else []
        return Part(headers, changeset=[_parse_part(h, c) for h, c in inner])
    lines, payload = _split_head(content)
    if not lines:
        raise ValueError("empty batch part")
    method, url = [*lines[0].split(" "), ""][:2]
    return Part(headers, method.upper(), url, _headers(lines[1:]), payload.strip())


def _render(part: Part) -> str:
    resp = part.resp
    assert resp is not None
    head = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if "content-id" in part.headers:
        head.append(f"Content-ID: {part.headers['content-id']}")
    lines = [f"HTTP/1.1 {resp.status} {STATUS_TEXT.get(resp.status, '')}"]
    body = resp.encode()
    extra = dict(resp.headers)
    if body and resp.raw is None:
        extra.setdefault("Content-Type", "application/json; odata.metadata=minimal")
    extra.setdefault("OData-Version", "4.0")
    lines += [f"{k}: {v}" for k, v in extra.items()]
    return "\r\n".join(head) + "\r\n\r\n" + "\r\n".join(lines) + "\r\n\r\n" + body.decode()


class BatchRunner:
    """Executes one multipart batch against the sandbox's dispatcher."""

    def __init__(
        self,
        dispatch: Callable[[Req], Resp],
        store: Store,
        options: DvOptions,
        note: Callable[[str, int], None],
    ) -> None:
        self.dispatch = dispatch
        self.store = store
        self.options = options
        self.note = note

    def _inner(self, req: Req, part: Part, refs: dict[str, str]) -> Resp:
        url = part.url
        m = _REF.match(url)
        if m and m.group(1) in refs:
            url = refs[m.group(1)] + url[m.end() :]
        parts = urlsplit(url)
        path = parts.path
        if path.startswith(req.path_root):
            path = path[len(req.path_root) :]
        body = part.body
        if refs and body:
            try:
                data = jsonwire.loads(body)
                if isinstance(data, dict):
                    for k, v in data.items():
                        if k.endswith("@odata.bind") and isinstance(v, str) and _REF.match(v):
                            ref = _REF.match(v)
                            assert ref is not None
                            data[k] = refs.get(ref.group(1), v)
                    body = jsonwire.dumps(data)
            except ValueError:
                pass
        inner = Req(
            part.method,
            path.lstrip("/"),
            dict(parse_qsl(parts.query)),
            part.req_headers,
            body,
            req.client_id,
            req.origin,
            req.path_root,
        )
        resp = self.dispatch(inner)
        cid = part.headers.get("content-id")
        if cid and "OData-EntityId" in resp.headers:
            refs[cid] = resp.headers["OData-EntityId"]
        return resp

    def _changeset(self, req: Req, cs: Part, refs: dict[str, str]) -> Part | None:
        """Run a change set atomically; returns the failed part (rolled back) or None."""
        try:
            with self.store.transaction():
                for part in cs.changeset or []:
                    part.resp = self._inner(req, part, refs)
                    if part.resp.status >= 400:
                        raise _Rollback(part)
        except _Rollback as rb:
            return rb.failure
        return None

    def run(self, req: Req) -> Resp:
        """Parse, execute and render the batch."""
        m = _BOUNDARY.search(req.header("content-type") or "")
        if m is None:
            return error(
                400, BAD_SYNTAX, "The batch request must be multipart/mixed with a boundary."
            )
        try:
            items = [_parse_part(h, c) for h, c in parse_multipart(req.body, m.group(1))]
        except (ValueError, IndexError):
            return error(400, BAD_SYNTAX, "The batch request body is malformed.")
        count = sum(len(p.changeset) if p.changeset is not None else 1 for p in items)
        if count > self.options.batch_limit:
            return error(
                400,
                BAD_SYNTAX,
                f"The number of requests in the batch ({count}) "
                f"exceeds the limit of {self.options.batch_limit}.",
            )
        for item in items:
            if item.changeset is not None and any(p.method == "GET" for p in item.changeset):
                return error(400, BAD_SYNTAX, "GET requests are not allowed inside a change set.")
        self.note("batch_operations", count)
        go_on = "odata.continue-on-error" in parse_prefer(req.header("prefer"))
        refs: dict[str, str] = {}
        out: list[str] = []
        boundary = f"batchresponse_{uuid.uuid4()}"
        for item in items:
            if item.changeset is None:
                item.resp = self._inner(req, item, refs)
                failed: Part | None = item if item.resp.status >= 400 else None
                rendered = _render(item)
            else:
                failed = self._changeset(req, item, refs)
                if failed is None:
                    inner_b = f"changesetresponse_{uuid.uuid4()}"
                    rendered = (
                        f"Content-Type: multipart/mixed; boundary={inner_b}\r\n\r\n"
                        + "".join(f"--{inner_b}\r\n{_render(p)}\r\n" for p in item.changeset or [])
                        + f"--{inner_b}--"
                    )
                else:
                    rendered = _render(failed)
            if failed is not None and not go_on:
                return self._finish(boundary, [_render(failed)], 400)
            out.append(rendered)
        return self._finish(boundary, out, 200)

    @staticmethod
    def _finish(boundary: str, parts: list[str], status: int) -> Resp:
        text = "".join(f"--{boundary}\r\n{p}\r\n" for p in parts) + f"--{boundary}--\r\n"
        return Resp(
            status,
            raw=text.encode(),
            headers={
                "Content-Type": f"multipart/mixed; boundary={boundary}",
                "OData-Version": "4.0",
            },
        )
