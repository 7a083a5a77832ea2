"""One worker process for the shared-gate tests: builds a Dataverse connection from sandbox
facts (stdin's first line, JSON), says ``ready``, waits for ``go``, then sends ``threads`` x
``each`` reads through the connection's gate and prints the statuses and the gate's stats."""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor

from accord.connectors.dataverse.connector import DataverseSettings
from accord.connectors.registry import build_connector


def main() -> None:
    job = json.loads(sys.stdin.readline())
    settings = DataverseSettings.from_sandbox(job["facts"], "dv", **job["options"])
    connector = build_connector(settings)
    http = connector.http  # type: ignore[attr-defined]
    print("ready", flush=True)
    sys.stdin.readline()

    def work(_: int) -> list[int]:
        return [http.get("accounts", params={"$top": "1"}).status_code for _ in range(job["each"])]

    with ThreadPoolExecutor(job["threads"]) as pool:
        statuses = [s for batch in pool.map(work, range(job["threads"])) for s in batch]
    print(json.dumps({"statuses": statuses, "gate": http.gate.stats()}), flush=True)
    connector.close()


if __name__ == "__main__":
    main()
