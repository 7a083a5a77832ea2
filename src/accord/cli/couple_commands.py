"""Couplings by hand and held conflicts: ``accord couple``, ``uncouple`` and ``resolve``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from accord.cli import outcome, render
from accord.cli.common import EXIT_RECORDS, console, fail, guarded, hub, named_values
from accord.cli.root import IntegrationOpt
from accord.services import operations


@guarded
def couple(
    mapping: Annotated[str, typer.Argument(help="Mapping name, e.g. CUSTOMER.")],
    record: Annotated[
        list[str] | None,
        typer.Option("--record", "-r", help="ROLE=ID, one per role (e.g. erp=… crm=…)."),
    ] = None,
    match: Annotated[bool, typer.Option(help="Couple all uncoupled records by match.")] = False,
    create_new: Annotated[
        bool | None, typer.Option(help="Create the counterpart when no match is found.")
    ] = None,
    integration: IntegrationOpt = None,
) -> None:
    """Couple records by hand (one per role), or all uncoupled ones by their match fields."""
    h = hub()
    if match:
        result, passes = operations.couple_by_match(
            h, mapping, create_new=create_new, integration=integration
        )
        counts = result.counts
        console.print(
            f"Coupled {counts['coupled']}, created {counts['inserted']}, "
            f"unmatched {counts['unmatched']}"
            + ("" if create_new else " (reported, not created: see `accord errors`)")
            + "."
        )
        if passes:
            render.passes_table(passes, "Synchronized after coupling")
            outcome.report_passes(passes)
        code = outcome.passes_code(passes)
        raise typer.Exit(max(code, EXIT_RECORDS) if counts["failed"] else code)
    ids = named_values(record, "--record", "ROLE=ID")
    if not ids:
        fail("give --record ROLE=ID for each role, or --match")
    operations.couple_records(h, mapping, ids, integration=integration)
    console.print(f"Coupled {' ⇄ '.join(f'{r} {i}' for r, i in ids.items())} in {mapping}.")


@guarded
def uncouple(
    mapping: Annotated[str, typer.Argument(help="Mapping name, e.g. CUSTOMER.")],
    ids: Annotated[list[str] | None, typer.Argument(help="Record ids of any role.")] = None,
    everything: Annotated[
        bool, typer.Option("--all", help="Every coupling of the mapping.")
    ] = False,
    integration: IntegrationOpt = None,
) -> None:
    """Remove couplings (the records themselves stay)."""
    if not ids and not everything:
        fail("give record ids or --all")
    removed = operations.uncouple_records(
        hub(), mapping, ids or [], everything=everything, integration=integration
    )
    if ids and not everything and not removed:
        fail(f"no coupling of {mapping} has the record id {', '.join(map(repr, ids))}")
    console.print(f"Removed {removed} coupling(s).")


@guarded
def resolve(
    conflict_id: Annotated[int, typer.Argument(help="The conflict's id (accord conflicts).")],
    take: Annotated[str | None, typer.Option(help="The role whose values win every field.")] = None,
    field: Annotated[
        list[str] | None,
        typer.Option(help="KEY=ROLE: the role whose value wins this field (repeatable)."),
    ] = None,
    integration: IntegrationOpt = None,
) -> None:
    """Resolve a held conflict, for the whole record or per field."""
    if (take is None) == (not field):
        fail("give either --take ROLE or one --field KEY=ROLE per conflicting field")
    choice: Any = take
    if field:
        choice = {}
        for item in field:
            key, sep, value = item.rpartition("=")
            if not sep:
                fail(f"--field {item!r}: expected KEY=ROLE")
            choice[key] = value
    chosen = operations.resolve(hub(), conflict_id, choice, integration=integration)
    console.print(
        f"Conflict {conflict_id} resolved: " + ", ".join(f"{k} ← {v}" for k, v in chosen.items())
    )
