"""``accord demo``'s lead-to-cash part: each step printed as it ends (which system, what
happened there), then where each system stands; its ``--json`` shape."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from rich.markup import escape
from rich.padding import Padding
from rich.text import Text

from accord.cli.common import console
from accord.cli.layout import Grid, sized, terminal_width
from accord.services.demo_story import ACCORD, ERP, SALES, Step, Story

STYLE = {SALES: "magenta", ACCORD: "cyan", ERP: "blue"}


def print_step(step: Step) -> None:
    """One step: its number, system, title and outcome on one line, what happened below."""
    out = sized(console, terminal_width(console))
    mark = "[green]ok[/]" if step.ok else "[bold red]FAILED[/]"
    system = f"[{STYLE.get(step.system, 'white')}]{step.system:<16}[/]"
    out.print(f"{step.number:>2}. {system} {escape(step.title)}  {mark}", highlight=False)
    for line in step.lines:  # wrapped lines keep the indent
        out.print(Padding(Text(line), (0, 0, 0, 6)), highlight=False)
    if step.error:
        out.print(Padding(Text(step.error, style="red"), (0, 0, 0, 6)), highlight=False)


def print_outcome(story: Story) -> None:
    """Where the quote, the order and the invoice stand in each system."""
    quote, order, invoice = (story.facts.get(k, {}) for k in ("quote", "order", "invoice"))
    grid = Grid(
        "Lead to cash: where each system stands",
        ("document", SALES, ERP),
        wrap=frozenset({SALES, ERP}),
    )
    revisions = len(quote.get("sales_revisions", []))
    grid.add(
        "quote",
        f"{quote.get('name', '-')}: {revisions} revisions, the last Won",
        f"{quote.get('bc_quote_number', '-')}: {quote.get('archived_versions', '-')} archived "
        "version(s); made into the order",
    )
    state = order.get("sales_state") or {}
    grid.add(
        "order",
        f"{order.get('sales_order_number', '-')}: state {state.get('statecode', '-')}/"
        f"{state.get('statuscode', '-')}, {len(order.get('posts', []))} timeline posts",
        f"{order.get('bc_order_number', '-')}: shipments "
        f"{', '.join(order.get('shipments', [])) or '-'}; invoiced (BC deleted the order)",
    )
    paid = invoice.get("sales_state") or {}
    grid.add(
        "invoice",
        f"{invoice.get('number', '-')}: total {invoice.get('sales_total', '-')}, "
        f"{'Paid' if invoice.get('paid') else 'not paid'} "
        f"({paid.get('statecode', '-')}/{paid.get('statuscode', '-')})",
        f"{invoice.get('number', '-')}: total {invoice.get('bc_total', '-')}, "
        f"{invoice.get('bc_status', '-')}, remaining {invoice.get('bc_remaining', '-')}",
    )
    grid.print(console)
    if story.ok:
        console.print("[green]Every step of the story went through.[/]")
    else:
        failed = next((s for s in story.steps if not s.ok), None)
        where = f"step {failed.number} ({failed.title})" if failed else "a step"
        console.print(f"[bold red]The story stopped at {escape(where)}.[/]", soft_wrap=True)


def story_json(story: Story) -> dict[str, Any]:
    return {
        "ok": story.ok,
        "steps": [{**asdict(s), "ok": s.ok} for s in story.steps],
        "planned_steps": story.planned,
        "facts": story.facts,
    }
