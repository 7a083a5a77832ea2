from __future__ import annotations

import json

import pytest

from accord.connectors.odata import multipart as mp

RESPONSE = (
    "--batchresponse_abc\r\n"
    "Content-Type: application/http\r\n"
    "Content-Transfer-Encoding: binary\r\n"
    "Content-ID: 1\r\n"
    "\r\n"
    "HTTP/1.1 201 Created\r\n"
    "Content-Type: application/json; odata.metadata=minimal\r\n"
    "OData-EntityId: https://org/api/data/v9.2/accounts(0f1e2d3c-0000-0000-0000-000000000001)\r\n"
    'ETag: W/"101"\r\n'
    "\r\n"
    '{"accountid":"0f1e2d3c-0000-0000-0000-000000000001","name":"A\\r\\nB"}\r\n'
    "--batchresponse_abc\r\n"
    "Content-Type: multipart/mixed; boundary=changesetresponse_def\r\n"
    "\r\n"
    "--changesetresponse_def\r\n"
    "Content-Type: application/http\r\n"
    "Content-Transfer-Encoding: binary\r\n"
    "Content-ID: 2\r\n"
    "\r\n"
    "HTTP/1.1 204 No Content\r\n"
    "OData-Version: 4.0\r\n"
    "\r\n"
    "\r\n"
    "--changesetresponse_def--\r\n"
    "--batchresponse_abc\r\n"
    "Content-Type: application/http\r\n"
    "Content-Transfer-Encoding: binary\r\n"
    "\r\n"
    "HTTP/1.1 412 Precondition Failed\r\n"
    "Content-Type: application/json\r\n"
    "\r\n"
    '{"error":{"code":"0x80060882","message":"The version of the existing record doesn\'t '
    'match"}}\r\n'
    "--batchresponse_abc--\r\n"
)


def test_decode_parts_changesets_headers_and_bodies() -> None:
    parts = mp.decode(RESPONSE.encode(), 'multipart/mixed; boundary="batchresponse_abc"')
    assert [p.status for p in parts] == [201, 204, 412]
    assert parts[0].content_id == "1"
    assert parts[0].headers["etag"] == 'W/"101"'
    assert parts[0].headers["odata-entityid"].endswith("000000000001)")
    assert parts[0].body["name"] == "A\r\nB"
    assert parts[1].content_id == "2" and parts[1].body is None
    assert parts[2].body["error"]["code"] == "0x80060882"
    assert not parts[2].ok


def test_encode_writes_application_http_parts() -> None:
    body, content_type = mp.encode(
        [
            mp.PartRequest(
                "POST",
                "https://org/api/data/v9.2/accounts",
                {"Prefer": "return=representation"},
                {"name": "x"},
                "1",
            ),
            mp.ChangeSet([mp.PartRequest("DELETE", "accounts(1)", {"If-Match": "*"})]),
        ],
        boundary="batch_t",
    )
    assert content_type == "multipart/mixed; boundary=batch_t"
    text = body.decode()
    assert text.startswith("--batch_t\r\nContent-Type: application/http\r\n")
    assert "Content-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\n" in text
    assert "POST https://org/api/data/v9.2/accounts HTTP/1.1\r\n" in text
    assert "Content-Type: application/json\r\n\r\n" + json.dumps({"name": "x"}).replace(" ", "")
    assert '{"name":"x"}' in text
    assert "Content-Type: multipart/mixed; boundary=changeset_" in text
    assert "DELETE accounts(1) HTTP/1.1\r\nIf-Match: *\r\n\r\n" in text
    assert text.endswith("--batch_t--\r\n")


def test_roundtrip_through_a_fake_server_response() -> None:
    body, content_type = mp.encode([mp.PartRequest("GET", "x")])
    assert mp.boundary_of(content_type) in body.decode()
    with pytest.raises(ValueError):
        mp.encode([mp.PartRequest("GET", "x")] * 1001)


def test_lf_only_responses_are_tolerated() -> None:
    text = RESPONSE.replace("\r\n", "\n")
    parts = mp.decode(text.encode(), "multipart/mixed; boundary=batchresponse_abc")
    assert [p.status for p in parts] == [201, 204, 412]
