"""One side of ``python -m bench documents`` in its own process (so that its peak memory is
its own): reads ``{"side", "home", "database_url", "prefix"}`` as JSON on stdin, prints
``{"done", "seconds", "peak_rss_mb"}``."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from accord.config.settings import Settings
from accord.services import documents
from accord.services.hub import Hub
from bench.documents import baseline_intake
from bench.procs import own_peak_rss_mb


def main() -> int:
    config = json.loads(sys.stdin.read())
    hub = Hub(Settings(home=Path(config["home"])), database_url=config["database_url"])
    try:
        started = time.perf_counter()
        if config["side"] == "baseline":
            done = baseline_intake(hub, config["prefix"])
        else:
            run = documents.run(hub, "SALES ORDER", automatic=True)
            done = sum(o.status == "created" for o in run.outcomes)
        seconds = time.perf_counter() - started
    finally:
        hub.close()
    peak = own_peak_rss_mb()
    print(json.dumps({"done": done, "seconds": seconds, "peak_rss_mb": round(peak, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
