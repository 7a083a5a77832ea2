"""Tables for passes, full-sync runs, status, errors, conflicts and couplings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from accord.cli.common import console, when
from accord.cli.layout import Grid, short_id
from accord.services.operations import ConflictRow
from accord.services.status import CouplingRow, ErrorRow, MappingStatus
from accord.sync.full import MappingRun
from accord.sync.passes import PassResult

STATUS_STYLE = {"success": "green", "error": "yellow", "failed": "red", "preview": "cyan"}


def _status(text: str) -> str:
    return f"[{STATUS_STYLE.get(text, 'white')}]{text}[/]"


def counts_text(counts: Mapping[str, int]) -> str:
    """The counters that are not zero: ``inserted 3, failed 1`` (``-`` for none)."""
    return ", ".join(f"{k} {v}" for k, v in counts.items() if v) or "-"


def passes_table(results: Iterable[PassResult], title: str = "Passes") -> None:
    grid = Grid(title, ("mapping", "direction", "status", "records"), wrap=frozenset({"records"}))
    for r in results:
        grid.add(r.mapping, r.direction, _status(r.status), counts_text(r.counts))
    grid.print(console)


def full_sync_table(runs: Sequence[MappingRun]) -> None:
    directions = list(dict.fromkeys(p.direction for run in runs for p in run.passes))
    notes = any(run.message for run in runs)
    grid = Grid(
        "Full synchronization",
        ("mapping", "plan", "status", "coupled", *directions, *(["note"] if notes else [])),
        wrap=frozenset({*directions, "note"}),
    )
    for run in runs:
        by_dir = {p.direction: p for p in run.passes}
        coupled = str(run.coupling.counts["coupled"]) if run.coupling else "-"
        grid.add(
            run.mapping,
            run.recommendation,
            _status(run.status),
            coupled,
            *(_pass_cell(by_dir.get(d)) for d in directions),
            *([run.message or ""] if notes else []),
        )
    grid.print(console)
    console.print("[dim]+ inserted  ~ modified  = unchanged  ! failed  ? conflicts held[/]")


def _pass_cell(result: PassResult | None) -> str:
    if result is None:
        return "-"
    c = result.counts
    held = f" ?{c['conflicts']}" if c.get("conflicts") else ""
    return (
        f"{_status(result.status)} +{c['inserted']} ~{c['modified']} "
        f"={c['unchanged']} !{c['failed']}{held}"
    )


def status_table(rows: Sequence[MappingStatus]) -> None:
    grid = Grid(
        "Mappings",
        ("mapping", "direction", "records", "last pass"),
        wrap=frozenset({"mapping", "records", "last pass"}),
    )
    for row in rows:
        last = row.last_passes[0] if row.last_passes else None
        lines = (
            ["-"]
            if last is None
            else [
                f"{last.kind} {last.direction} {_status(last.status)} {when(last.started_at)}",
                *([counts_text(last.counts)] if any(last.counts.values()) else []),
            ]
        )
        lines += [f"{role} read up to {when(mark)}" for role, mark in row.watermarks.items()]
        if row.disabled:
            lines.insert(0, f"[yellow]disabled:[/] {row.disabled}")
        numbers = {
            "coupled": row.couplings,
            "[red]failed[/]": row.failed,
            "skipped": row.skipped,
            "[yellow]conflicts[/]": row.open_conflicts,
        }
        grid.add(
            row.name,
            row.direction,
            ", ".join(f"{n} {label}" for label, n in numbers.items() if n) or "-",
            "\n".join(lines),
        )
    grid.print(console)


def errors_table(rows: Sequence[ErrorRow]) -> None:
    if not rows:
        console.print("[green]No errors.[/]")
        return
    grid = Grid(
        "Errors (newest first)",
        ("when", "mapping", "source", "destination", "message"),
        wrap=frozenset({"when", "source", "destination", "message"}),
    )
    for row in rows:
        grid.add(
            when(row.created_at),
            row.mapping,
            short_id(row.source_id),
            short_id(row.destination_id),
            row.message,
        )
    grid.print(console)


def conflicts_table(rows: Sequence[ConflictRow]) -> None:
    if not rows:
        console.print("[green]No open conflicts.[/]")
        return
    roles = list(dict.fromkeys(role for row in rows for role in row.records))
    grid = Grid(
        "Held conflicts",
        ("id", "mapping", "record", "fields"),
        wrap=frozenset({"record", "fields"}),
    )
    for row in rows:
        record = " / ".join(f"{r} {short_id(row.records[r])}" for r in roles if row.records.get(r))
        lines = []
        for key, info in row.fields.items():
            values, base = info.get("values", {}), info.get("baseline", {})
            labels = info.get("labels", {})
            now = ", ".join(
                f"{r} {labels[r]!r} ({short_id(str(values.get(r)))})"
                if r in labels
                else f"{r} {values.get(r)!r}"
                for r in roles
            )
            synced = ", ".join(f"{r} {base.get(r)!r}" for r in roles if base.get(r) is not None)
            lines.append(f"[bold]{key}[/]: {now}; last synced: {synced or '(first sight)'}")
        grid.add(str(row.id), row.mapping, record or "-", "\n".join(lines))
    grid.print(console)
    example = roles[0] if roles else "ROLE"
    console.print(
        f"Resolve with [bold]accord resolve ID --take {example}[/] or per field "
        f"[bold]--field KEY={example}[/]."
    )


def couplings_table(rows: Sequence[CouplingRow], total: int) -> None:
    if not rows:
        console.print("No coupled records match.")
        return
    roles = list(dict.fromkeys(role for row in rows for role in row.records))
    states = [_coupling_state(row) for row in rows]
    unusual = any(state != "-" for state in states)
    grid = Grid(
        "Coupled records",
        (
            "mapping",
            *(f"{r} id" for r in roles),
            *(f"{r} key" for r in roles),
            *(["state"] if unusual else []),
        ),
        wrap=frozenset({"mapping", *(f"{r} key" for r in roles), "state"}),
    )
    for row, state in zip(rows, states, strict=True):
        grid.add(
            row.mapping,
            *(short_id(row.records[r].id if r in row.records else None) for r in roles),
            *((row.records[r].natural_key if r in row.records else None) or "-" for r in roles),
            *([state] if unusual else []),
        )
    grid.print(console)
    if total > len(rows):
        console.print(f"{len(rows)} of {total} shown; narrow with --search or raise --limit.")


def _coupling_state(row: CouplingRow) -> str:
    """``-`` for a healthy pair; else what is unusual (another state, skipped, failing)."""
    notes = [row.state] if row.state != "coupled" else []
    if row.skipped:
        notes.append("skipped")
    if row.last_result == "failure":
        notes.append("[red]failing[/]")
    return " ".join(notes) or "-"
