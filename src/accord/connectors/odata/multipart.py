"""OData multipart ``$batch`` (Dataverse): encode requests and change sets, decode responses.

Each request is a part with ``Content-Type: application/http`` and
``Content-Transfer-Encoding: binary`` holding the raw request line, headers and JSON body.
A :class:`ChangeSet` nests its requests in an atomic ``changeset_…`` part. Responses come
back as ``--batchresponse_…`` parts, each with its own HTTP status line.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from accord import jsonwire

MAX_REQUESTS = 1000
"""Dataverse accepts at most 1000 requests per batch."""
CRLF = b"\r\n"
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_STATUS = re.compile(rb"^HTTP/\d(?:\.\d)?\s+(\d{3})")


@dataclass(frozen=True)
class PartRequest:
    """One request of a batch; ``url`` absolute or relative to the service root."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    """JSON-serializable body, or pre-encoded bytes."""
    content_id: str | None = None


@dataclass(frozen=True)
class ChangeSet:
    """Requests applied atomically: all succeed or all roll back."""

    requests: Sequence[PartRequest]


@dataclass(frozen=True)
class PartResponse:
    """One response part; header names are lower-cased; ``body`` is decoded JSON or None."""

    status: int
    headers: Mapping[str, str]
    body: Any = None
    content_id: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def new_boundary(prefix: str = "batch") -> str:
    return f"{prefix}_{uuid.uuid4()}"


def _encode_request(request: PartRequest, out: list[bytes]) -> None:
    out.append(b"Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n")
    if request.content_id is not None:
        out.append(f"Content-ID: {request.content_id}\r\n".encode())
    out.append(CRLF)
    lines = [f"{request.method} {request.url} HTTP/1.1"]
    lines.extend(f"{k}: {v}" for k, v in request.headers.items())
    body = request.body
    if body is not None and not isinstance(body, bytes):
        body = jsonwire.dumps(body)
    if body is not None and not any(k.lower() == "content-type" for k in request.headers):
        lines.append("Content-Type: application/json")
    out.append("\r\n".join(lines).encode())
    out.append(CRLF + CRLF)
    if body is not None:
        out.append(body)
    out.append(CRLF)


def encode(
    items: Sequence[PartRequest | ChangeSet], boundary: str | None = None
) -> tuple[bytes, str]:
    """The batch body and its ``Content-Type`` header value."""
    total = sum(len(i.requests) if isinstance(i, ChangeSet) else 1 for i in items)
    if total > MAX_REQUESTS:
        raise ValueError(f"a batch holds at most {MAX_REQUESTS} requests, got {total}")
    boundary = boundary or new_boundary()
    delimiter = f"--{boundary}\r\n".encode()
    out: list[bytes] = []
    for item in items:
        out.append(delimiter)
        if isinstance(item, ChangeSet):
            inner = new_boundary("changeset")
            out.append(f"Content-Type: multipart/mixed; boundary={inner}\r\n\r\n".encode())
            for request in item.requests:
                out.append(f"--{inner}\r\n".encode())
                _encode_request(request, out)
            out.append(f"--{inner}--\r\n".encode())
        else:
            _encode_request(item, out)
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/mixed; boundary={boundary}"


def boundary_of(content_type: str) -> str:
    match = _BOUNDARY.search(content_type)
    if not match:
        raise ValueError(f"no boundary in Content-Type {content_type!r}")
    return match.group(1)


def _split_head(blob: bytes) -> tuple[bytes, bytes]:
    """Split at the first blank line (CRLF or bare LF style)."""
    crlf, lf = blob.find(b"\r\n\r\n"), blob.find(b"\n\n")
    if crlf >= 0 and (lf < 0 or crlf <= lf):
        return blob[:crlf], blob[crlf + 4 :]
    if lf >= 0:
        return blob[:lf], blob[lf + 2 :]
    return blob, b""


def _headers(block: bytes) -> tuple[list[bytes], dict[str, str]]:
    lines = [line.rstrip(b"\r") for line in block.split(b"\n")]
    headers: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(b":")
        if sep:
            headers[name.strip().decode().lower()] = value.strip().decode()
    return lines, headers


def _strip_crlf(body: bytes) -> bytes:
    if body.endswith(CRLF):
        return body[:-2]
    return body[:-1] if body.endswith(b"\n") else body


def _parts(content: bytes, boundary: str) -> list[bytes]:
    marker = f"--{boundary}".encode()
    chunks = content.split(marker)
    parts: list[bytes] = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        if chunk.startswith(CRLF):
            chunk = chunk[2:]
        elif chunk.startswith(b"\n"):
            chunk = chunk[1:]
        parts.append(_strip_crlf(chunk))
    return parts


def decode(content: bytes, content_type: str) -> list[PartResponse]:
    """Every response part in order; change-set responses are flattened in place."""
    responses: list[PartResponse] = []
    for part in _parts(content, boundary_of(content_type)):
        head, rest = _split_head(part)
        _, part_headers = _headers(head)
        part_type = part_headers.get("content-type", "")
        if part_type.lower().startswith("multipart/"):
            responses.extend(decode(rest, part_type))
            continue
        http_head, body = _split_head(rest)
        lines, headers = _headers(http_head)
        status_line = next((line for line in lines if line.startswith(b"HTTP/")), b"")
        match = _STATUS.match(status_line)
        if not match:
            raise ValueError(f"batch part without an HTTP status line: {status_line[:80]!r}")
        body = body.strip()
        decoded: Any = None
        if body:
            try:
                decoded = jsonwire.loads(body)
            except ValueError:
                decoded = body.decode(errors="replace")
        responses.append(
            PartResponse(
                status=int(match.group(1)),
                headers=headers,
                body=decoded,
                content_id=part_headers.get("content-id") or headers.get("content-id"),
            )
        )
    return responses
