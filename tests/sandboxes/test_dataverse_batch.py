"""Dataverse multipart $batch: change sets, Content-ID references, continue-on-error."""

from __future__ import annotations

import json
import re
import uuid

import httpx

from accord.sandboxes import SandboxHandle


def part(
    method: str, url: str, body: dict[str, object] | None = None, content_id: str | None = None
) -> str:
    head = "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
    if content_id:
        head += f"Content-ID: {content_id}\r\n"
    req = f"{method} {url} HTTP/1.1\r\nContent-Type: application/json\r\n\r\n"
    return head + "\r\n" + req + (json.dumps(body) if body is not None else "") + "\r\n"


def batch(items: list[str | list[str]]) -> tuple[str, bytes]:
    """Multipart body; a list item becomes a change set."""
    b = f"batch_{uuid.uuid4().hex}"
    out = ""
    for item in items:
        if isinstance(item, list):
            cs = f"changeset_{uuid.uuid4().hex}"
            inner = "".join(f"--{cs}\r\n{p}" for p in item) + f"--{cs}--\r\n"
            out += f"--{b}\r\nContent-Type: multipart/mixed; boundary={cs}\r\n\r\n{inner}"
        else:
            out += f"--{b}\r\n{item}"
    out += f"--{b}--\r\n"
    return f"multipart/mixed; boundary={b}", out.encode()


def statuses(resp: httpx.Response) -> list[int]:
    return [int(s) for s in re.findall(r"HTTP/1.1 (\d{3})", resp.text)]


def test_changeset_with_reference_commits(dv: SandboxHandle, dv_http: httpx.Client) -> None:
    api = "/api/data/v9.2"
    ctype, body = batch(
        [
            [
                part("POST", f"{api}/accounts", {"name": "Batch Parent"}, "1"),
                part(
                    "POST",
                    f"{api}/contacts",
                    {"lastname": "Child", "parentcustomerid_account@odata.bind": "$1"},
                    "2",
                ),
            ],
            part("GET", f"{api}/accounts?$select=name&$top=1"),
        ]
    )
    resp = dv_http.post("$batch", content=body, headers={"Content-Type": ctype})
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("multipart/mixed; boundary=batchresponse_")
    assert statuses(resp) == [204, 204, 200]
    assert "changesetresponse_" in resp.text and "OData-EntityId:" in resp.text
    parent_id = re.search(r"accounts\(([0-9a-f-]{36})\)", resp.text).group(1)  # type: ignore[union-attr]
    children = [c for c in dv.store.all("contacts") if c["_parentcustomerid_value"] == parent_id]
    assert [c["lastname"] for c in children] == ["Child"]


def test_changeset_rolls_back_and_stops(dv: SandboxHandle, dv_http: httpx.Client) -> None:
    before = dv.store.count("accounts")
    ctype, body = batch(
        [
            [
                part("POST", "accounts", {"name": "Rolled Back"}),
                part("POST", "accounts", {"name": "x", "nonsense": 1}),
            ],
            part("POST", "accounts", {"name": "Never Runs"}),
        ]
    )
    resp = dv_http.post("$batch", content=body, headers={"Content-Type": ctype})
    assert resp.status_code == 400
    assert statuses(resp) == [400]
    assert dv.store.count("accounts") == before


def test_continue_on_error_reports_every_part(dv: SandboxHandle, dv_http: httpx.Client) -> None:
    before = dv.store.count("accounts")
    ctype, body = batch(
        [
            part("POST", "accounts", {"name": "First"}),
            part("PATCH", f"accounts({uuid.uuid4()})", {"name": "x", "bogus": True}),
            part("POST", "accounts", {"name": "Third"}),
        ]
    )
    resp = dv_http.post(
        "$batch", content=body, headers={"Content-Type": ctype, "Prefer": "odata.continue-on-error"}
    )
    assert resp.status_code == 200
    assert statuses(resp) == [204, 400, 204]
    assert dv.store.count("accounts") == before + 2
    assert dv.stats()["counters"]["batch_operations"] >= 3


def test_batch_limits(dv: SandboxHandle, dv_http: httpx.Client) -> None:
    ctype, body = batch([part("GET", "accounts?$top=1")] * 1001)
    too_many = dv_http.post("$batch", content=body, headers={"Content-Type": ctype})
    assert too_many.status_code == 400 and "1000" in too_many.json()["error"]["message"]
    ctype, body = batch([[part("GET", "accounts")]])
    get_in_cs = dv_http.post("$batch", content=body, headers={"Content-Type": ctype})
    assert get_in_cs.status_code == 400


def test_fault_rules_for_operations_inside_a_batch(
    dv: SandboxHandle, dv_http: httpx.Client
) -> None:
    """``inner`` rules answer for one operation of a ``$batch`` (with ``after``, once it is
    done); whole requests and the other operations are not hit."""
    dv.faults.add(status=412, method="POST", path="^accounts$", inner=True, count=1)
    dv.faults.add(status=503, method="POST", path="^accounts$", inner=True, after=True, count=1)
    names = ["Inner One", "Inner Two", "Inner Three"]
    ctype, body = batch([part("POST", "accounts", {"name": name}) for name in names])
    resp = dv_http.post(
        "$batch", content=body, headers={"Content-Type": ctype, "Prefer": "odata.continue-on-error"}
    )
    assert resp.status_code == 200
    assert statuses(resp) == [412, 503, 204]
    made = [len(dv.store.find_raw("accounts", {"name": name})) for name in names]
    assert made == [0, 1, 1]
