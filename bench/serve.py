"""Child process: serve one sandbox in the foreground (``python -m bench.serve NAME N SEED``).

Prints one JSON line with the connection facts (and ``origin``), then serves until SIGINT.
"""

from __future__ import annotations

import json
import sys

from accord.sandboxes import serve_forever


def main(argv: list[str]) -> None:
    name, records, seed = argv[0], int(argv[1]), int(argv[2])

    def emit(line: str) -> None:
        facts = json.loads(line)[name]
        print(json.dumps(facts), flush=True)

    serve_forever([name], records=records, seed=seed, json_out=True, print_fn=emit)


if __name__ == "__main__":
    main(sys.argv[1:])
