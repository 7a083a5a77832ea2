"""Printing a dry run: per record what a sync would change, field by field."""

from __future__ import annotations

from collections.abc import Sequence

from accord.cli.common import console
from accord.cli.layout import Grid, short_id
from accord.cli.render import passes_table
from accord.sync.passes import PassResult
from accord.sync.scope import PreviewRow

MAX_ROWS = 200


def changes_text(row: PreviewRow) -> str:
    """One line per changed field (``field: old → new``), per conflict and per error."""
    lines = [f"[red]fails:[/] {row.error}"] if row.error else []
    for change in row.changes:
        if row.action == "insert":
            if change.new not in (None, ""):
                lines.append(f"{change.field}: {change.new!r}")
            continue
        lines.append(f"{change.field}: {change.old!r} → {change.new!r}")
    dest_role = row.direction.removeprefix("to_")
    for key, info in row.conflicts.items():
        values = dict(info.get("values", {}))
        current = values.pop(dest_role, None)
        incoming = next(iter(values.values()), None)
        lines.append(f"[yellow]conflict[/] {key}: {current!r} here, {incoming!r} incoming")
    return "\n".join(lines) or "-"


def print_preview(results: Sequence[PassResult]) -> None:
    passes_table(results, "Preview (nothing was written)")
    grid = Grid(
        "Would change",
        ("mapping", "direction", "source", "target", "action", "changes"),
        wrap=frozenset({"changes"}),
    )
    rows = [row for result in results for row in result.preview]
    for row in rows[:MAX_ROWS]:
        target = short_id(row.destination_id) if row.destination_id else "(new)"
        action = "conflict" if row.conflicts and not row.changes else row.action
        grid.add(
            row.mapping, row.direction, short_id(row.source_id), target, action, changes_text(row)
        )
    if rows:
        grid.print(console)
        if len(rows) > MAX_ROWS:
            console.print(f"… and {len(rows) - MAX_ROWS} more record(s).")
    else:
        console.print("[green]Nothing would change.[/]")
