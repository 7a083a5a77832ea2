"""``accord state``: move Accord's state to another database."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from accord.cli.common import State, console, guarded
from accord.config.settings import Settings
from accord.services.state_copy import copy_state

state_app = typer.Typer(help="Move Accord's state between databases.", no_args_is_help=True)


@state_app.command("copy")
@guarded
def copy(
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="Target database URL (e.g. postgresql://user@host/accord); it must be empty.",
        ),
    ],
    json_out: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Copy every table of the current state (--database-url, else the SQLite file in the
    home) into an empty database, in one transaction. The secret key is not copied: keep it
    (the key file or ACCORD_SECRET_KEY) for the new database."""
    settings = Settings(home=State.home) if State.home else Settings()
    source = State.database_url or settings.resolved_database_url()
    result = copy_state(source, to)
    if json_out:
        print(json.dumps(result.to_json()))
        return
    for table, rows in result.rows.items():
        console.print(f"{table:<24} {rows:>10}", highlight=False)
    console.print(
        f"Copied {sum(result.rows.values())} rows from {result.source} to {result.target}. "
        "Point ACCORD_DATABASE_URL at the new database and keep the secret key.",
        highlight=False,
    )
