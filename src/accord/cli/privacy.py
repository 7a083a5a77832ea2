"""``accord forget`` and ``accord prune``: personal data kept by the state."""

from __future__ import annotations

from typing import Annotated

import typer

from accord.cli.common import guarded, hub, say
from accord.services import privacy


def register(app: typer.Typer) -> None:
    """Add the commands to ``app``."""
    app.command()(forget)
    app.command()(prune)


@guarded
def forget(
    mapping: Annotated[str, typer.Argument(help="Mapping name, e.g. CONTACT.")],
    records: Annotated[list[str], typer.Argument(help="Record ids (of any role) or natural keys.")],
    keys: Annotated[
        bool, typer.Option("--keys", help="Also erase the stored natural keys (e-mail, name).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
    integration: Annotated[str | None, typer.Option(help="Integration name (if several).")] = None,
) -> None:
    """Erase what Accord stores of records: last-synced values, errors, conflicts.

    The records stay coupled and are re-baselined on their next pass."""
    counts = privacy.forget(hub(), mapping, records, keys=keys, integration=integration)
    say(
        dict(sorted(counts.items())),
        as_json,
        f"Forgot {counts['couplings']} coupled record(s) in {mapping}: "
        f"{counts['errors']} error row(s) and {counts['conflicts']} conflict(s) erased.",
    )


@guarded
def prune(
    days: Annotated[
        int | None,
        typer.Option(help="Keep this many days (default: ACCORD_RETENTION_DAYS, 90; 0 keeps all)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Delete job logs, error rows and resolved conflicts older than the retention period."""
    counts = privacy.prune(hub(), days)
    say(
        dict(sorted(counts.items())),
        as_json,
        f"Pruned {counts['jobs']} job(s), {counts['errors']} error row(s) and "
        f"{counts['conflicts']} resolved conflict(s).",
    )
