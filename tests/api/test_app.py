"""The REST API through its OpenAPI document, on a real uvicorn, called with httpx."""

from __future__ import annotations

import re
from typing import Any

from fastapi.routing import APIRoute

from accord.api.app import create_app
from accord.services import tokens
from accord.services.workloads import local_executor
from tests.api.conftest import Served
from tests.api.schema_check import answer_schema, problems

METHODS = ("get", "post", "put", "patch", "delete")


def operations_of(schema: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m, p) for p, item in schema["paths"].items() for m in METHODS if m in item]


def filled(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


def test_every_route_is_documented_and_refuses_calls_without_a_token(served: Served) -> None:
    with served.client(None) as anonymous:
        schema = anonymous.get("/openapi.json").json()
        documented = set(operations_of(schema))
        app = create_app(served.world.hub, local_executor(served.world.hub))
        routes = {
            (m.lower(), r.path) for r in app.routes if isinstance(r, APIRoute) for m in r.methods
        }
        assert routes <= documented, routes - documented
        assert {("get", "/healthz"), ("get", "/metrics")} <= documented
        assert "HTTPBearer" in schema["components"]["securitySchemes"]
        api = [(m, p) for m, p in documented if p.startswith("/api/v1/")]
        assert len(api) >= 18
        dummy = {"name": "x", "mapping": "CUSTOMER", "record_id": "x", "key": "x",
                 "job_id": "x", "conflict_id": "1"}  # fmt: skip
        for method, path in api:
            answer = anonymous.request(method, filled(path, dummy), json={})
            assert answer.status_code == 401, (method, path, answer.text)
            body = answer.json()
            assert body["error"] == "unauthorized" and "no API token" in body["detail"]
            assert answer.headers["www-authenticate"] == "Bearer"


def test_every_read_answers_through_the_schema(served: Served) -> None:
    world = served.world
    customer_id, account_id = sorted(world.coupled_pairs("CUSTOMER"))[0]
    assert customer_id and account_id
    with served.client() as client:
        schema = client.get("/openapi.json").json()
        sync = client.post(
            "/api/v1/mappings/CUSTOMER/sync", json={"direction": "to_crm"},
            headers={"Idempotency-Key": "reads"},
        )  # fmt: skip
        key = sync.json()["key"]
        done = served.wait_finished(key)
        job_id = done["result"]["passes"][0]["job_id"]  # type: ignore[index]
        values = {"name": "bc", "mapping": "CUSTOMER", "record_id": customer_id, "key": key,
                  "job_id": job_id}  # fmt: skip
        reads = [
            p
            for m, p in operations_of(schema)
            if m == "get" and (p.startswith("/api/v1/") or p == "/healthz")
        ]
        for path in reads:
            answer = client.get(filled(path, values))
            assert answer.status_code == 200, (path, answer.text)
            documented = answer_schema(schema, "get", path, 200)
            assert documented, f"GET {path}: no answer schema documented"
            assert not problems(answer.json(), documented, schema), (path, answer.json())
        refused = client.get("/api/v1/jobs/none")
        assert not problems(refused.json(), answer_schema(schema, "get", "/api/v1/jobs/{job_id}",
                                                          404), schema)  # fmt: skip
        coupling = client.get(f"/api/v1/mappings/CUSTOMER/couplings/{account_id}").json()
        assert coupling["links"]["erp"]["record_id"] == customer_id
        connection = client.get("/api/v1/connections/bc").json()
        assert connection["system"] == "business-central"
        assert world.bc.client_secret not in str(connection)  # secrets masked
        assert client.get(f"/api/v1/jobs/{job_id}").json()["mapping"] == "CUSTOMER"


def test_sync_now_enqueues_once_per_idempotency_key(served: Served) -> None:
    world = served.world
    customer_id, account_id = sorted(world.coupled_pairs("CUSTOMER"))[0]
    assert customer_id and account_id
    world.bc.store.update("customers", customer_id, {"city": "Over HTTP"})
    body = {"direction": "to_crm", "record_ids": [customer_id]}
    with served.client() as client:
        first = client.post("/api/v1/mappings/CUSTOMER/sync", json=body,
                            headers={"Idempotency-Key": "once"})  # fmt: skip
        assert first.status_code == 202, first.text
        assert first.headers["location"] == "/api/v1/workloads/api:once"
        assert first.json()["kind"] == "sync_records"
        done = served.wait_finished("api:once")
        assert done["status"] == "done", done
        again = client.post("/api/v1/mappings/CUSTOMER/sync", json=body,
                            headers={"Idempotency-Key": "once"})  # fmt: skip
        assert again.status_code == 200 and again.json()["duplicate"] is True
        assert again.json()["attempts"] == 1
        jobs = client.get("/api/v1/jobs", params={"mapping": "CUSTOMER"}).json()
        assert sum(1 for j in jobs if j["kind"] == "records") == 1
    assert world.dv.store.get("accounts", account_id)["address1_city"] == "Over HTTP"


def test_conflicts_resolve_retry_and_errors(served: Served) -> None:
    world = served.world
    customer_id, account_id = sorted(world.coupled_pairs("CUSTOMER"))[1]
    assert customer_id and account_id
    world.bc.store.update("customers", customer_id, {"city": "Bergen"})
    world.dv.store.update("accounts", account_id, {"address1_city": "Trondheim"})
    with served.client() as client:
        sync = client.post("/api/v1/mappings/CUSTOMER/sync", json={})
        assert served.wait_finished(sync.json()["key"])["status"] == "done"
        conflicts = client.get("/api/v1/conflicts").json()
        assert len(conflicts) == 1 and conflicts[0]["mapping"] == "CUSTOMER"
        cid = conflicts[0]["id"]
        resolved = client.post(f"/api/v1/conflicts/{cid}/resolve", json={"take": "erp"})
        assert resolved.status_code == 200, resolved.text
        assert set(resolved.json()["chosen"].values()) == {"erp"}
        again = client.post(f"/api/v1/conflicts/{cid}/resolve", json={"take": "erp"})
        assert again.status_code == 404 and "resolved already" in again.json()["detail"]
        assert client.get("/api/v1/conflicts").json() == []
        retried = client.post("/api/v1/retry", json={"mapping": "CUSTOMER"})
        assert retried.status_code == 200 and retried.json() == {"retried": 0}
        assert client.get("/api/v1/errors").status_code == 200
    assert world.dv.store.get("accounts", account_id)["address1_city"] == "Bergen"


def test_bad_input_gets_a_clear_4xx(served: Served) -> None:
    world = served.world
    _, info = tokens.create(world.hub, "old")
    old, _ = tokens.create(world.hub, "revoked")
    tokens.revoke(world.hub, "revoked")
    assert info.prefix.startswith("acc_")
    with served.client(old) as revoked:
        answer = revoked.get("/api/v1/connections")
        assert answer.status_code == 401 and "'revoked' was revoked" in answer.json()["detail"]
    with served.client("acc_made-up") as unknown:
        answer = unknown.get("/api/v1/connections")
        assert answer.status_code == 401 and answer.json()["detail"] == "unknown API token"
    with served.client(None) as basic:
        answer = basic.get("/api/v1/connections", headers={"Authorization": "Basic eDp5"})
        assert answer.status_code == 401 and "Bearer" in answer.json()["detail"]
    with served.client() as client:
        cases: list[tuple[str, str, dict[str, Any] | None, int, str]] = [
            ("get", "/api/v1/mappings/CUSTOMER/couplings/nope", None, 404,
             "no coupling of mapping CUSTOMER holds a record with id 'nope'"),
            ("get", "/api/v1/mappings/NOPE", None, 404, "unknown mapping 'NOPE'; valid"),
            ("get", "/api/v1/connections/nope", None, 404, "no connection named 'nope'"),
            ("get", "/api/v1/jobs/nope", None, 404, "no job with id 'nope'"),
            ("get", "/api/v1/workloads/nope", None, 404, "no workload with key 'nope'"),
            ("get", "/api/v1/mappings", None, 200, ""),
            ("get", "/api/v1/mappings?integration=nope", None, 404, "no integration named"),
            ("post", "/api/v1/conflicts/999/resolve", {"take": "erp"}, 404, "no conflict 999"),
            ("post", "/api/v1/mappings/CUSTOMER/sync", {"direction": "to_mars"}, 400,
             "valid directions: to_crm, to_erp"),
            ("post", "/api/v1/mappings/CUSTOMER/sync", {"record_ids": ["a"]}, 422,
             "record_ids need a direction"),
            ("post", "/api/v1/mappings/CUSTOMER/couplings", {}, 422,
             "give either records"),
            ("post", "/api/v1/mappings/CUSTOMER/sync",
             {"direction": "to_crm", "record_ids": ["ghost-1", "ghost-2"]}, 404,
             "erp integrationCustomers has no record ghost-1, ghost-2"),
            ("post", "/api/v1/mappings/CUSTOMER/couplings",
             {"records": {"erp": "ghost", "crm": "ghost"}}, 404,
             "erp integrationCustomers has no record ghost; crm accounts has no record ghost"),
            ("post", "/api/v1/mappings/CUSTOMER/couplings",
             {"records": {"erp": "x", "cloud": "y"}}, 400, "unknown role cloud"),
            ("delete", "/api/v1/mappings/CUSTOMER/couplings/nope", None, 404,
             "holds a record with id 'nope'"),
            ("post", "/api/v1/reconcile", {"mappings": ["NOPE"]}, 404, "unknown mapping"),
            ("get", "/api/v1/jobs?limit=0", None, 422, "limit"),
            ("get", "/api/v1/nowhere", None, 404, "no route GET /api/v1/nowhere"),
        ]  # fmt: skip
        workloads_before = len(client.get("/api/v1/workloads").json())
        for method, path, body, code, text in cases:
            answer = client.request(method, path, json=body)
            assert answer.status_code == code, (path, answer.text)
            if code != 200:
                assert text in answer.json()["detail"], (path, answer.json())
        assert len(client.get("/api/v1/workloads").json()) == workloads_before  # none enqueued


def test_healthz_and_metrics(served: Served) -> None:
    with served.client(None) as client:
        health = client.get("/healthz")
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "database": "ok",
                                 "queue": {"queued": 0, "running": 0}}  # fmt: skip
        text = client.get("/metrics").text
    for name in ("accord_passes_total", "accord_records_total", "accord_queue_depth",
                 "accord_queue_oldest_seconds", "accord_pass_seconds_bucket"):  # fmt: skip
        assert name in text, name
