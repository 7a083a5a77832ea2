"""Snapshot reconciliation: a full pass whose source has no delete feed.

Business Central reports no deletes, so a full pass finds them by diffing: every coupling
whose source id the pass did not read is a candidate, and the ids confirmed gone are handled
by the mapping's deletion policy (CUSTOMER: ``uncouple``). The benchmark deletes a share of
the BC customers through the BC API ("another user"), then times one more full pass.

This module holds the parts both sides share: which ids to delete, deleting them over the BC
API, the minimum request count, and the baseline's child process (``python -m
bench.reconcile``): the hand-written copy's own reconciliation, which reads the customer pages
it read for the copy and diffs their ids against the pairs (BC id, Dataverse id) it wrote.
"""

from __future__ import annotations

import json
import math
import ssl
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import httpx

from bench import baseline

PAIRS_SEPARATOR = "\t"


def every_nth(ids: Iterable[str], percent: float) -> list[str]:
    """A deterministic ``percent`` share of ``ids`` (sorted, then every k-th)."""
    if percent <= 0:
        return []
    step = max(1, round(100 / percent))
    return sorted(ids)[step - 1 :: step]


def delete_customers(facts: dict[str, Any], ids: Sequence[str]) -> float:
    """Delete BC customers through the API (``If-Match: *``, as any client must send);
    returns the seconds it took (not part of any measurement)."""
    started = time.perf_counter()
    verify = ssl.create_default_context(cafile=facts["ca_cert"])
    with httpx.Client(verify=verify) as auth:
        bearer = baseline.token(auth, facts)
    headers = {"If-Match": "*"}
    with baseline.client(facts, bearer, {"Accept": "application/json"}) as bc:
        for customer in ids:
            path = f"companies({facts['company_id']})/customers({customer})"
            response = bc.delete(path, headers=headers)
            if response.status_code not in (204, 404):
                response.raise_for_status()
    return time.perf_counter() - started


def min_requests(read: int, deleted: int, policy: str, page: int = baseline.PAGE_SIZE) -> int:
    """What a snapshot pass cannot do without: one token and every page of the source
    (``ceil(read / 20000)``, at least one); with ``propagate`` also one token and
    ``ceil(deleted / 1000)`` ``$batch`` deletes at the destination. ``uncouple`` and ``ignore``
    change only the state database."""
    total = 1 + max(1, math.ceil(read / page))
    if policy == "propagate" and deleted:
        total += 1 + math.ceil(deleted / baseline.BATCH_SIZE)
    return total


def read_pairs(path: Path) -> dict[str, str]:
    """BC id -> Dataverse id, as the baseline's copy wrote them."""
    pairs: dict[str, str] = {}
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            source, _, target = line.rstrip("\n").partition(PAIRS_SEPARATOR)
            pairs[source] = target
    return pairs


def run(config: dict[str, Any]) -> dict[str, Any]:
    """The baseline's reconciliation: read every page, diff, drop the gone pairs."""
    facts = config["bc"]
    pairs = read_pairs(Path(config["pairs_file"]))  # its own state, loaded untimed
    started = time.perf_counter()
    with httpx.Client(verify=ssl.create_default_context(cafile=facts["ca_cert"])) as auth:
        bearer = baseline.token(auth, facts)
    seen: set[str] = set()
    read = 0
    with baseline.client(facts, bearer, {"Accept": "application/json"}) as bc:
        for page in baseline.customer_pages(bc, facts["company_id"]):
            read += len(page)
            seen.update(row["id"] for row in page)
    gone = [source for source in pairs if source not in seen]
    for source in gone:  # the uncouple policy: forget the pair, write nothing
        del pairs[source]
    return {"seconds": time.perf_counter() - started, "read": read, "gone": len(gone)}


def main() -> None:
    print(json.dumps(run(json.load(sys.stdin))), flush=True)


if __name__ == "__main__":
    main()
