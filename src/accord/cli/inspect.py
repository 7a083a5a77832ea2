"""Looking at the state: ``accord status``, ``errors``, ``conflicts`` and ``couplings``."""

from __future__ import annotations

from typing import Annotated

import typer

from accord.cli import jsonout, render
from accord.cli.common import guarded, hub, print_json
from accord.cli.root import IntegrationOpt, JsonOpt, MappingOpt
from accord.services import operations
from accord.services import status as status_service

LimitOpt = Annotated[int, typer.Option(min=1, help="At most this many rows.")]


@guarded
def status(integration: IntegrationOpt = None, json_out: JsonOpt = False) -> None:
    """Per mapping: couplings, failures, conflicts, watermarks and the last pass."""
    rows = status_service.status(hub(), integration)
    if json_out:
        print_json(jsonout.status_json(rows))
    else:
        render.status_table(rows)


@guarded
def errors(
    mapping: Annotated[
        str | None, typer.Option("--mapping", "-m", help="Only this mapping.")
    ] = None,
    limit: LimitOpt = 50,
    integration: IntegrationOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Recent per-record errors, newest first."""
    rows = status_service.recent_errors(hub(), integration, mapping, limit)
    if json_out:
        print_json(jsonout.errors_json(rows))
    else:
        render.errors_table(rows)


@guarded
def conflicts(integration: IntegrationOpt = None, json_out: JsonOpt = False) -> None:
    """Held conflicts with both sides' values per field."""
    rows = operations.conflicts(hub(), integration)
    if json_out:
        print_json(jsonout.conflicts_json(rows))
    else:
        render.conflicts_table(rows)


@guarded
def couplings(
    mapping: MappingOpt = None,
    search: Annotated[
        str | None,
        typer.Option("--search", "-s", help="Text found in a record id or natural key (any case)."),
    ] = None,
    limit: LimitOpt = 50,
    integration: IntegrationOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Coupled records with each role's id and natural key (customer number, …)."""
    rows, total = status_service.coupled_records(hub(), integration, mapping, search, limit)
    if json_out:
        print_json(jsonout.couplings_json(rows, total))
    else:
        render.couplings_table(rows, total)
