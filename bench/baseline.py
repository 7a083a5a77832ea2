"""Child process: the baseline, a minimal hand-written BC -> Dataverse customer copy.

No state, no change detection, no bookkeeping: one client-credentials token per system, the
salesperson -> user table (the one lookup that must resolve), then every BC customers page
(``odata.maxpagesize=20000``, following ``@odata.nextLink``) mapped with the CUSTOMER mapping's
fields and written as multipart ``$batch`` requests of 1000 ``PATCH accounts(<new guid>)``
upserts with ``Prefer: return=representation`` -- the write shape of Accord's Dataverse
connector. Reads the sandboxes' facts as JSON on stdin (and optionally ``pairs_file``, where
it appends the ids it wrote); prints one JSON object.
"""

from __future__ import annotations

import contextlib
import json
import resource
import ssl
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any, TextIO

import httpx

from accord.connectors.odata import multipart

PAGE_SIZE = 20_000
BATCH_SIZE = 1_000
FIELDS = {  # BC customers field -> Dataverse accounts column (bc-sales.yaml, CUSTOMER)
    "number": "accountnumber",
    "displayName": "name",
    "addressLine1": "address1_line1",
    "addressLine2": "address1_line2",
    "city": "address1_city",
    "state": "address1_stateorprovince",
    "country": "address1_country",
    "postalCode": "address1_postalcode",
    "phoneNumber": "telephone1",
    "email": "emailaddress1",
    "website": "websiteurl",
    "creditLimit": "creditlimit",
}
CLEARED = {  # lookups to mappings nothing is coupled in: Accord clears them
    "transactioncurrencyid@odata.bind": None,
    "paymenttermscode": None,
    "address1_shippingmethodcode": None,
}
ODATA = {"OData-MaxVersion": "4.0", "OData-Version": "4.0", "Accept": "application/json"}


def token(http: httpx.Client, facts: dict[str, Any]) -> str:
    response = http.post(
        facts["token_url"],
        data={
            "grant_type": "client_credentials",
            "client_id": facts["client_id"],
            "client_secret": facts["client_secret"],
            "scope": facts["scope"],
        },
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def client(facts: dict[str, Any], bearer: str, headers: dict[str, str]) -> httpx.Client:
    return httpx.Client(
        base_url=facts["base_url"] + "/",
        timeout=300.0,
        verify=ssl.create_default_context(cafile=facts["ca_cert"]),
        headers={"Authorization": f"Bearer {bearer}", **headers},
    )


def owners(bc: httpx.Client, dv: httpx.Client, company: str) -> dict[str, str]:
    """Salesperson code -> systemuserid, joined on e-mail (as SALESPEOPLE couples them)."""
    group = str(bc.base_url).rstrip("/").replace("/api/v2.0", "/api/accord/integration/v1.0")
    people = bc.get(f"{group}/companies({company})/salespeople", params={"$select": "code,email"})
    users = dv.get("systemusers", params={"$select": "systemuserid,internalemailaddress"})
    by_mail = {
        str(u["internalemailaddress"]).lower(): u["systemuserid"]
        for u in users.raise_for_status().json()["value"]
        if u["internalemailaddress"]
    }
    return {
        p["code"]: by_mail[p["email"].lower()]
        for p in people.raise_for_status().json()["value"]
        if p.get("email") and p["email"].lower() in by_mail
    }


def customer_pages(bc: httpx.Client, company: str) -> Iterator[list[dict[str, Any]]]:
    select = ",".join(["id", *FIELDS, "salespersonCode"])
    prefer = {"Prefer": f"odata.maxpagesize={PAGE_SIZE}"}
    response = bc.get(f"companies({company})/customers", params={"$select": select}, headers=prefer)
    while True:
        body = response.raise_for_status().json()
        yield body["value"]
        link = body.get("@odata.nextLink")
        if not link:
            return
        response = bc.get(link, headers=prefer)


def account(row: dict[str, Any], owner_of: dict[str, str]) -> dict[str, Any]:
    body = {column: row.get(name) for name, column in FIELDS.items()}
    body.update(CLEARED)
    owner = owner_of.get(row.get("salespersonCode") or "")
    if owner:
        body["ownerid@odata.bind"] = f"/systemusers({owner})"
    return body


def write_batch(
    dv: httpx.Client,
    base: str,
    rows: list[dict[str, Any]],
    owner_of: dict[str, str],
    pairs: TextIO | None = None,
) -> tuple[int, int]:
    """One $batch of upserts; returns (succeeded, failed). With ``pairs``, each written
    record's "BC id<TAB>account id" line is appended to it (the copy's only state, kept for
    the reconciliation baseline)."""
    ids = [str(uuid.uuid4()) for _ in rows]
    parts = [
        multipart.PartRequest(
            "PATCH",
            f"{base}/accounts({account_id})",
            {"Prefer": "return=representation"},
            account(row, owner_of),
            str(i + 1),
        )
        for i, (row, account_id) in enumerate(zip(rows, ids, strict=True))
    ]
    content, content_type = multipart.encode(parts)
    response = dv.post(
        "$batch",
        content=content,
        headers={"Content-Type": content_type, "Prefer": "odata.continue-on-error"},
    )
    response.raise_for_status()
    answers = multipart.decode(response.content, response.headers["Content-Type"])
    if pairs is not None:
        done = {a.content_id for a in answers if a.ok}
        pairs.write(
            "".join(f"{row['id']}\t{ids[i]}\n" for i, row in enumerate(rows) if str(i + 1) in done)
        )
    ok = sum(1 for a in answers if a.ok)
    return ok, len(rows) - ok


def run(config: dict[str, Any]) -> dict[str, Any]:
    bc_facts, dv_facts = config["bc"], config["dv"]
    company = bc_facts["company_id"]
    started = time.perf_counter()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    with httpx.Client(verify=ssl.create_default_context(cafile=bc_facts["ca_cert"])) as auth:
        bc_token = token(auth, bc_facts)
    with httpx.Client(verify=ssl.create_default_context(cafile=dv_facts["ca_cert"])) as auth:
        dv_token = token(auth, dv_facts)
    written = failed = 0
    with (
        client(bc_facts, bc_token, {"Accept": "application/json"}) as bc,
        client(dv_facts, dv_token, ODATA) as dv,
        contextlib.ExitStack() as files,
    ):
        path = config.get("pairs_file")
        pairs = files.enter_context(open(path, "w", encoding="utf-8")) if path else None
        owner_of = owners(bc, dv, company)
        for page in customer_pages(bc, company):
            for start in range(0, len(page), BATCH_SIZE):
                chunk = page[start : start + BATCH_SIZE]
                ok, bad = write_batch(dv, dv_facts["base_url"], chunk, owner_of, pairs)
                written, failed = written + ok, failed + bad
    seconds = time.perf_counter() - started
    done = resource.getrusage(resource.RUSAGE_SELF)
    cpu_seconds = done.ru_utime + done.ru_stime - cpu.ru_utime - cpu.ru_stime
    return {
        "seconds": seconds,
        "cpu_seconds": round(cpu_seconds, 2),
        "written": written,
        "failed": failed,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    print(json.dumps(run(json.load(sys.stdin))), flush=True)


if __name__ == "__main__":
    main()
