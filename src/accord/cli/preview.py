"""Printing a dry run: per record and field what a sync would change."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from accord.cli.common import console
from accord.cli.render import passes_table
from accord.sync.passes import PassResult

MAX_ROWS = 200


def print_preview(results: Sequence[PassResult]) -> None:
    passes_table(results, "Preview (nothing was written)")
    table = Table(title="Would change")
    for column in (
        "mapping",
        "direction",
        "source",
        "destination",
        "action",
        "field",
        "now",
        "would be",
    ):
        table.add_column(column, overflow="fold")
    shown = 0
    for result in results:
        for row in result.preview:
            if shown >= MAX_ROWS:
                break
            dest = row.destination_id or "(new)"
            if row.error:
                table.add_row(
                    row.mapping,
                    row.direction,
                    row.source_id,
                    dest,
                    "[red]fail[/]",
                    "",
                    "",
                    row.error,
                )
            for change in row.changes:
                if row.action == "insert" and change.new in (None, ""):
                    continue
                table.add_row(
                    row.mapping,
                    row.direction,
                    row.source_id,
                    dest,
                    row.action,
                    change.field,
                    repr(change.old),
                    repr(change.new),
                )
            dest_role = row.direction.removeprefix("to_")
            for key, info in row.conflicts.items():
                values = dict(info.get("values", {}))
                current = values.pop(dest_role, None)
                incoming = next(iter(values.values()), None)
                table.add_row(
                    row.mapping,
                    row.direction,
                    row.source_id,
                    dest,
                    "[yellow]conflict[/]",
                    key,
                    repr(current),
                    repr(incoming),
                )
            shown += 1
    total = sum(len(r.preview) for r in results)
    if total:
        console.print(table)
        if total > shown:
            console.print(f"… and {total - shown} more record(s).")
    else:
        console.print("[green]Nothing would change.[/]")
