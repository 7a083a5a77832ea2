"""Tables that read at 80 columns: short ids, folded long cells, and one block per row
(``column: value`` lines) when even the narrowest table does not fit the terminal."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

GUID = re.compile(
    r"^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$"
)
SHORT = 8
"""Characters of a GUID shown in tables (``accord sync -r`` and ``uncouple`` take them)."""


def short_id(value: str | None) -> str:
    """The first 8 characters of a GUID; other ids as they are; ``-`` for none."""
    if not value:
        return "-"
    return value.strip("{}")[:SHORT] if GUID.match(value) else value


@dataclass
class Grid:
    """A table's title, columns and rows of text (Rich markup allowed)."""

    title: str
    columns: Sequence[str]
    rows: list[Sequence[str]] = field(default_factory=list)
    numeric: frozenset[str] = frozenset()
    """Columns justified right."""

    def add(self, *cells: str) -> None:
        self.rows.append(cells)

    def table(self) -> Table:
        table = Table(title=self.title)
        for name in self.columns:
            table.add_column(
                name,
                justify="right" if name in self.numeric else "left",
                overflow="fold",
                no_wrap=name in self.numeric,
            )
        for row in self.rows:
            table.add_row(*row)
        return table

    def print(self, console: Console) -> None:
        """As a table when its narrowest form fits the terminal, else one block per row."""
        table = self.table()
        narrowest = Measurement.get(console, console.options, table).minimum
        if narrowest <= console.width:
            console.print(table)
            return
        console.print(f"[bold]{self.title}[/]")
        label = max((len(c) for c in self.columns), default=0)
        for row in self.rows:
            console.print("─" * min(console.width, 40), style="dim")
            for name, cell in zip(self.columns, row, strict=False):
                console.print(f"{name:<{label}}  {cell}", highlight=False)
