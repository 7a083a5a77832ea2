"""Rich tables for passes, full-sync runs, status, errors and conflicts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.table import Table

from accord.cli.common import console, when
from accord.services.operations import ConflictRow
from accord.services.status import ErrorRow, MappingStatus
from accord.state.jobs import COUNTERS
from accord.sync.full import MappingRun
from accord.sync.passes import PassResult

STATUS_STYLE = {"success": "green", "error": "yellow", "failed": "red", "preview": "cyan"}


def _status(text: str) -> str:
    return f"[{STATUS_STYLE.get(text, 'white')}]{text}[/]"


def passes_table(results: Iterable[PassResult], title: str = "Passes") -> None:
    table = Table(title=title)
    table.add_column("mapping")
    table.add_column("direction")
    table.add_column("status")
    for name in COUNTERS:
        table.add_column(name, justify="right")
    for r in results:
        table.add_row(
            r.mapping, r.direction, _status(r.status), *(str(r.counts.get(n, 0)) for n in COUNTERS)
        )
    console.print(table)


def full_sync_table(runs: Sequence[MappingRun]) -> None:
    table = Table(title="Full synchronization")
    directions = list(dict.fromkeys(p.direction for run in runs for p in run.passes))
    for column in ("mapping", "recommendation", "status", "coupled", *directions, "note"):
        table.add_column(column)
    for run in runs:
        by_dir = {p.direction: p for p in run.passes}
        coupled = str(run.coupling.counts["coupled"]) if run.coupling else "-"
        table.add_row(
            run.mapping,
            run.recommendation,
            _status(run.status),
            coupled,
            *(_pass_cell(by_dir.get(d)) for d in directions),
            run.message or "",
        )
    console.print(table)
    console.print("[dim]+ inserted  ~ modified  = unchanged  ! failed[/]")


def _pass_cell(result: PassResult | None) -> str:
    if result is None:
        return "-"
    c = result.counts
    return (
        f"{_status(result.status)} +{c['inserted']} ~{c['modified']} "
        f"={c['unchanged']} !{c['failed']}"
    )


def status_table(rows: Sequence[MappingStatus]) -> None:
    table = Table(title="Mappings")
    roles = list(dict.fromkeys(role for row in rows for role in row.watermarks))
    for column in (
        "mapping",
        "direction",
        "couplings",
        "failed",
        "skipped",
        "conflicts",
        *(f"{role} read up to" for role in roles),
        "last pass",
    ):
        table.add_column(column)
    for row in rows:
        last = row.last_passes[0] if row.last_passes else None
        last_text = (
            "-"
            if last is None
            else (
                f"{last.kind} {last.direction} {_status(last.status)} {when(last.started_at)} "
                + " ".join(f"{k}={v}" for k, v in last.counts.items() if v)
            )
        )
        table.add_row(
            row.name,
            row.direction,
            str(row.couplings),
            str(row.failed),
            str(row.skipped),
            str(row.open_conflicts),
            *(when(row.watermarks.get(role)) for role in roles),
            last_text,
        )
    console.print(table)


def errors_table(rows: Sequence[ErrorRow]) -> None:
    if not rows:
        console.print("[green]No errors.[/]")
        return
    table = Table(title="Errors (newest first)")
    for column in ("when", "mapping", "source", "destination", "message"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            when(row.created_at),
            row.mapping,
            row.source_id or "-",
            row.destination_id or "-",
            row.message,
        )
    console.print(table)


def conflicts_table(rows: Sequence[ConflictRow]) -> None:
    if not rows:
        console.print("[green]No open conflicts.[/]")
        return
    table = Table(title="Held conflicts")
    roles = list(dict.fromkeys(role for row in rows for role in row.records))
    for column in ("id", "mapping", "record", "field", *(f"{r} value" for r in roles)):
        table.add_column(column, overflow="fold")
    table.add_column("last synced", overflow="fold")
    for row in rows:
        record = " / ".join(f"{r} {row.records[r]}" for r in roles if row.records.get(r))
        for key, info in row.fields.items():
            values, base = info.get("values", {}), info.get("baseline", {})
            synced = ", ".join(f"{r}: {base.get(r)!r}" for r in roles if base.get(r) is not None)
            table.add_row(
                str(row.id),
                row.mapping,
                record or "-",
                key,
                *(repr(values.get(r)) for r in roles),
                synced or "(first sight)",
            )
    console.print(table)
    example = roles[0] if roles else "ROLE"
    console.print(
        f"Resolve with [bold]accord resolve ID --take {example}[/] or per field "
        f"[bold]--field KEY={example}[/]."
    )
