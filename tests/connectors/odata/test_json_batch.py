from __future__ import annotations

import json

import pytest

from accord.connectors.odata import json_batch as jb


def test_encode_shapes_requests() -> None:
    body = json.loads(
        jb.encode(
            [
                jb.BatchRequest("1", "POST", "companies(c)/customers", body={"displayName": "A"}),
                jb.BatchRequest("2", "DELETE", "companies(c)/customers(x)", {"If-Match": "*"}),
            ]
        )
    )
    first, second = body["requests"]
    assert first == {
        "id": "1",
        "method": "POST",
        "url": "companies(c)/customers",
        "body": {"displayName": "A"},
        "headers": {"Content-Type": "application/json"},
    }
    assert second == {
        "id": "2",
        "method": "DELETE",
        "url": "companies(c)/customers(x)",
        "headers": {"If-Match": "*"},
    }


def test_encode_refuses_more_than_100() -> None:
    with pytest.raises(ValueError, match="at most 100"):
        jb.encode([jb.BatchRequest(str(i), "GET", "x") for i in range(101)])


def test_decode_matches_by_id_in_any_order() -> None:
    raw = json.dumps(
        {
            "responses": [
                {
                    "id": "2",
                    "status": 409,
                    "headers": {"Content-Type": "application/json"},
                    "body": {"error": {"code": "Request_EntityChanged", "message": "changed"}},
                },
                {"id": "1", "status": 201, "headers": {"ETag": 'W/"x"'}, "body": {"id": "a"}},
            ]
        }
    ).encode()
    answers = jb.decode(raw)
    assert answers["1"].ok and answers["1"].body == {"id": "a"}
    assert answers["1"].headers["etag"] == 'W/"x"'
    assert answers["2"].status == 409 and not answers["2"].ok


def test_decode_rejects_bodies_without_responses() -> None:
    with pytest.raises(ValueError):
        jb.decode(b'{"value": []}')
