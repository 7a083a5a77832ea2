"""The ``accord`` Typer app, its global options and the options commands share."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated

import typer

from accord.cli.common import State

EXIT_CODES = (
    "Exit codes: 0 all good; 1 some records failed or new conflicts were held in this run; "
    "2 a pass or the command failed (a system down, bad input). --json prints one JSON "
    "document on stdout and nothing else; messages go to stderr."
)

app = typer.Typer(
    help="Accord keeps ERP, CRM and commerce systems in agreement.\n\n" + EXIT_CODES,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
sandbox_app = typer.Typer(help="Run the built-in protocol sandboxes.", no_args_is_help=True)

MappingOpt = Annotated[
    list[str] | None, typer.Option("--mapping", "-m", help="Only these mappings (repeatable).")
]
DirectionOpt = Annotated[
    str | None,
    typer.Option("--direction", "-d", help="to_ROLE: the role written to, e.g. to_crm."),
]
IntegrationOpt = Annotated[
    str | None, typer.Option(help="Integration name (needed only when there are several).")
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print one JSON document on stdout (see docs/guide.md).")
]


def accord_version() -> str:
    try:
        return version("accord")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"accord {accord_version()}")
        raise typer.Exit()


@app.callback()
def main_options(
    database_url: Annotated[
        str | None,
        typer.Option(
            envvar="ACCORD_DATABASE_URL",
            help="State database URL (default: SQLite accord.db in the home folder).",
        ),
    ] = None,
    home: Annotated[
        Path | None,
        typer.Option(envvar="ACCORD_HOME", help="Folder for state, keys and token caches."),
    ] = None,
    log_level: Annotated[
        str | None,
        typer.Option(
            envvar="ACCORD_LOG_LEVEL",
            help="Structured log lines on stderr from this level (default: WARNING).",
        ),
    ] = None,
    debug: Annotated[
        bool,
        typer.Option("--debug", envvar="ACCORD_DEBUG", help="Show the traceback of an error."),
    ] = False,
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_show_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    from accord.errors import ConfigError
    from accord.observability import configure_logging

    try:
        configure_logging(log_level)
    except ConfigError as exc:
        raise typer.BadParameter(exc.message, param_hint="--log-level") from None
    State.database_url = database_url
    State.home = home
    State.debug = debug
