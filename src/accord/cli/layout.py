"""Tables that read at 80 columns: short ids, folded long cells, and one block per row
(``column: value`` lines) when even the narrowest table does not fit the terminal."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table
from rich.text import Text

GUID = re.compile(
    r"^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$"
)
SHORT = 8
WRAP_WIDTH = 10
"""Narrowest a free-text column becomes before rows are printed as blocks instead."""
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
    wrap: frozenset[str] = frozenset()
    """Columns of free text, wrapped (and long words folded) to fit; the others (names,
    ids, codes) are never broken: when they do not fit, rows are printed as blocks."""

    def add(self, *cells: str) -> None:
        self.rows.append(cells)

    def widths(self) -> list[int]:
        """Per column the width it needs: the widest cell (and header) of a column that is
        never broken; for free text that much up to :data:`WRAP_WIDTH`."""
        widths = []
        for i, name in enumerate(self.columns):
            widest = max([cell_width(name), *(cell_width(row[i]) for row in self.rows)])
            widths.append(min(widest, WRAP_WIDTH) if name in self.wrap else widest)
        return widths

    def table(self) -> Table:
        table = Table(title=self.title)
        for name, width in zip(self.columns, self.widths(), strict=True):
            wraps = name in self.wrap
            table.add_column(
                name,
                justify="right" if name in self.numeric else "left",
                overflow="fold",
                no_wrap=not wraps,
                min_width=width,
            )
        for row in self.rows:
            table.add_row(*row)
        return table

    def fits(self, width: int) -> bool:
        """True when every column gets its width (2 padding and 1 border each, 1 more)."""
        return sum(self.widths()) + 3 * len(self.columns) + 1 <= width

    def print(self, console: Console) -> None:
        """As a table when it fits the terminal, else one block per row."""
        out = sized(console, terminal_width(console))
        if self.fits(out.width):
            out.print(self.table())
            return
        out.print(f"[bold]{self.title}[/]")
        label = max((len(c) for c in self.columns), default=0)
        for row in self.rows:
            out.print("─" * min(out.width, 40), style="dim")
            for name, cell in zip(self.columns, row, strict=False):
                out.print(f"{name:<{label}}  {cell}", highlight=False)


def cell_width(cell: str) -> int:
    """Terminal cells the widest line of ``cell`` takes (Rich markup not counted)."""
    return max((Text.from_markup(line).cell_len for line in cell.splitlines()), default=0)


def terminal_width(console: Console) -> int:
    """``COLUMNS`` when set (read at each call: a console made earlier keeps its first
    width), else the console's own."""
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else console.width


def sized(console: Console, width: int) -> Console:
    """``console``, or one like it writing to the same file at ``width`` (a console keeps
    the width it was made with, and rich never prints wider than that)."""
    if width == console.width:
        return console
    return Console(
        file=console.file,
        width=width,
        force_terminal=console.is_terminal,
        no_color=console.no_color or console.color_system is None,
    )
