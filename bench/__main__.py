"""Benchmarks: ``python -m bench full-sync [--records N] [--json] [--memory]``, ``memory``,
``latency``, ``documents [--orders N] [--lines L]``, ``workers``, ``chaos --ops N``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from accord.sandboxes.common.faults import FAULT_KINDS
from bench import fullsync, realistic, report


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    _latency_parser(commands)
    text = "Order intake Sales -> BC: Accord against a hand-written baseline"
    command = commands.add_parser("documents", help=text, description=text)
    command.add_argument("--orders", type=int, default=200, help="orders each side takes")
    command.add_argument("--lines", type=int, default=5, help="lines per order")
    command.add_argument("--json", action="store_true", help="print one JSON object")
    command.add_argument(
        "--no-baseline", action="store_true", help="Accord alone (its memory at a large N)"
    )
    _workers_parser(commands)
    _chaos_parser(commands)
    for name, text in (
        ("full-sync", "Full sync BC -> Dataverse against a hand-written baseline"),
        ("memory", "Peak RSS of Accord's full sync at N/10 and N customers"),
    ):
        command = commands.add_parser(name, help=text, description=text)
        command.add_argument(
            "--records",
            type=int,
            default=10_000,
            help="customers in the Business Central sandbox (default 10000)",
        )
        command.add_argument("--seed", type=int, default=7, help="sandbox sample data seed")
        command.add_argument("--json", action="store_true", help="print one JSON object")
        if name == "full-sync":
            command.add_argument(
                "--no-wait",
                action="store_true",
                help="do not wait out the overlap window before the no-change pass (quicker; "
                "that pass may then re-read records changed within the window)",
            )
            command.add_argument(
                "--reconcile-percent",
                type=float,
                default=1.0,
                help="share of BC customers deleted before the snapshot reconciliation pass "
                "(default 1; 0 skips that phase)",
            )
            command.add_argument(
                "--realistic",
                action="store_true",
                help="with the sandboxes' service-protection limits on: Accord's records/s "
                "against the ceiling the limits allow (no baseline)",
            )
            command.add_argument(
                "--scale",
                type=float,
                default=10.0,
                help="with --realistic: limit windows this many times shorter, same rates "
                "(default 10: 30-second windows)",
            )
            command.add_argument(
                "--batch-size",
                type=int,
                default=100,
                help="with --realistic: Dataverse records per $batch (default 100)",
            )
            command.add_argument(
                "--memory",
                action="store_true",
                help="the memory sub-mode (same as `python -m bench memory`)",
            )
    return parser


def _latency_parser(commands: Any) -> None:
    text = "Change in BC -> value in Sales: through webhook receivers, and by polling"
    command = commands.add_parser("latency", help=text, description=text)
    command.add_argument("--changes", type=int, default=1000, help="changes timed (receivers)")
    command.add_argument("--rate", type=float, default=20.0, help="changes per second")
    command.add_argument(
        "--bc-delay", type=float, default=0.0, help="BC's own notification delay (30 on a tenant)"
    )
    command.add_argument("--poll-interval", type=float, default=5.0, help="polling pass interval")
    command.add_argument("--polling-changes", type=int, default=100, help="changes timed (polling)")
    command.add_argument("--json", action="store_true", help="print one JSON object")


def _workers_parser(commands: Any) -> None:
    text = "Full-sync throughput with 1, 2 and 4 Celery workers (target: 4 >= 3 x one)"
    command = commands.add_parser("workers", help=text, description=text)
    command.add_argument("--records", type=int, default=1000, help="customers in BC")
    command.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    command.add_argument("--part-size", type=int, default=20, help="records per workload")
    command.add_argument("--latency", type=float, default=0.2, help="seconds per API request")
    command.add_argument("--broker", default=None, help="amqp://… or redis://…")
    command.add_argument("--json", action="store_true", help="print one JSON object")


def _chaos_parser(commands: Any) -> None:
    text = "Random changes on both sides under faults and killed workers; then compare the sides"
    command = commands.add_parser("chaos", help=text, description=text)
    command.add_argument("--ops", type=int, default=10_000, help="random changes applied")
    command.add_argument("--workers", type=int, default=2, help="accord worker processes (>= 2)")
    command.add_argument("--rate", type=float, default=40.0, help="changes per second")
    command.add_argument("--fault-rate", type=float, default=0.1, help="share of API requests")
    command.add_argument(
        "--kill-every",
        type=float,
        nargs=2,
        default=(3.0, 8.0),
        metavar=("MIN", "MAX"),
        help="seconds between kills, drawn uniformly (default 3 8)",
    )
    command.add_argument(
        "--fault-kinds",
        default=",".join(FAULT_KINDS),
        help=f"comma-separated, of {', '.join(FAULT_KINDS)} (default: all)",
    )
    command.add_argument("--seed", type=int, default=11, help="random seed")
    command.add_argument("--settle-timeout", type=float, default=600.0, help="seconds to converge")
    command.add_argument("--broker", default="amqp://guest:guest@127.0.0.1:5672//")
    command.add_argument("--database-url", default=None, help="default: a fresh PostgreSQL db")
    command.add_argument(
        "--keep", type=Path, default=None, help="keep logs, a write journal and the db here"
    )
    command.add_argument("--json", action="store_true", help="print one JSON object")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    if args.command == "documents":
        from bench.documents import documents_bench

        figures = documents_bench(args.orders, args.lines, log, not args.no_baseline)
        print(json.dumps(figures) if args.json else json.dumps(figures, indent=2))
        return 0
    if args.command == "latency":
        from bench.latency import latency

        figures = latency(
            args.changes,
            log,
            rate=args.rate,
            bc_delay=args.bc_delay,
            poll_interval=args.poll_interval,
            polling_changes=args.polling_changes,
        )
        print(json.dumps(figures) if args.json else json.dumps(figures, indent=2))
        return 0
    if args.command == "workers":
        from bench import workers

        found = workers.workers(
            args.records,
            log,
            counts=tuple(int(n) for n in args.workers.split(",")),
            part_size=args.part_size,
            latency=args.latency,
            broker=args.broker or workers.BROKER,
        )
        print(json.dumps(found) if args.json else report.table(workers.rows(found)))
        return 0
    if args.command == "chaos":
        from bench.chaos import chaos

        figures = chaos(
            args.ops,
            log,
            workers=args.workers,
            seed=args.seed,
            rate=args.rate,
            fault_rate=args.fault_rate,
            kill_every=tuple(args.kill_every),
            settle_timeout=args.settle_timeout,
            broker=args.broker,
            database_url=args.database_url,
            keep=args.keep,
            fault_kinds=tuple(k for k in args.fault_kinds.split(",") if k),
        )
        print(json.dumps(figures) if args.json else json.dumps(figures, indent=2))
        return 0
    if args.records < 1:
        raise SystemExit("--records must be at least 1")

    figures: dict[str, Any]
    if args.command == "memory" or getattr(args, "memory", False):
        figures = fullsync.memory(args.records, args.seed, log)
        rows = report.memory_rows(figures)
    elif getattr(args, "realistic", False):
        started_at = fullsync.commit()
        figures = realistic.realistic(
            args.records, args.seed, log, scale=args.scale, batch_size=args.batch_size
        )
        figures["machine"] = fullsync.machine(started_at)
        rows = realistic.rows(figures)
    else:
        figures = fullsync.full_sync(
            args.records,
            args.seed,
            log,
            wait=not args.no_wait,
            reconcile_percent=args.reconcile_percent,
        )
        rows = report.full_sync_rows(figures)
    if args.json:
        print(json.dumps(figures))
    else:
        print(report.table(rows))
        m = figures["machine"]
        moved = "; the tree moved during the run" if m["tree_moved"] else ""
        print(f"(measured {m['date']} at {m['commit']}, {m['cpus']} CPUs{moved})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
