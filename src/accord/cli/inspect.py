"""Looking at the state: ``accord status``, ``errors``, ``conflicts`` and ``couplings``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

import typer

from accord.cli import jsonout, render
from accord.cli.common import guarded, hub, print_json
from accord.cli.root import IntegrationOpt, JsonOpt, MappingOpt
from accord.services import operations
from accord.services import status as status_service

LimitOpt = Annotated[int, typer.Option(min=1, help="At most this many rows.")]
R = TypeVar("R")


def _show(
    rows: Sequence[R],
    json_out: bool,
    as_json: Callable[[Sequence[R]], Any],
    as_table: Callable[[Sequence[R]], None],
) -> None:
    """The rows as one JSON document with --json, else as a table."""
    if json_out:
        print_json(as_json(rows))
    else:
        as_table(rows)


@guarded
def status(integration: IntegrationOpt = None, json_out: JsonOpt = False) -> None:
    """Per mapping: couplings, failures, conflicts, watermarks and the last pass."""
    rows = status_service.status(hub(), integration)
    _show(rows, json_out, jsonout.status_json, render.status_table)


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
    _show(rows, json_out, jsonout.errors_json, render.errors_table)


@guarded
def conflicts(integration: IntegrationOpt = None, json_out: JsonOpt = False) -> None:
    """Held conflicts with both sides' values per field."""
    rows = operations.conflicts(hub(), integration)
    _show(rows, json_out, jsonout.conflicts_json, render.conflicts_table)


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
