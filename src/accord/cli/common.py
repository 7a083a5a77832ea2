"""What every command shares: the hub, error reporting, progress bars, output helpers."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from accord import jsonwire
from accord.cli.failures import describe
from accord.config.settings import Settings
from accord.services.hub import Hub

console = Console()
err_console = Console(stderr=True)
T = TypeVar("T")

EXIT_OK, EXIT_RECORDS, EXIT_FAILED = 0, 1, 2
"""The exit codes (ADR 0009): all good; records failed or conflicts were held; a pass or the
command failed."""


class State:
    """Global options, set by the app callback."""

    database_url: str | None = None
    home: Path | None = None
    debug: bool = False


def hub(*, create: bool = False) -> Hub:
    """The hub of the chosen state; only setting-up commands (``create``) may make one."""
    settings = Settings(home=State.home) if State.home else Settings()
    return Hub(settings, database_url=State.database_url, create=create)


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """One line on stderr and exit ``code`` (markup in the message is shown as written)."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def warn(message: str) -> None:
    """One warning line on stderr (markup in the message is shown as written)."""
    err_console.print(f"[yellow]warning:[/] {escape(message)}", highlight=False, soft_wrap=True)


def guarded(fn: Callable[..., T]) -> Callable[..., T]:
    """The one handler: any error becomes one line on stderr and exit 2 (``--debug`` or
    ``ACCORD_DEBUG=1`` lets the traceback through)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except KeyboardInterrupt:
            err_console.print("interrupted")
            sys.exit(130)
        except Exception as exc:
            if State.debug:
                raise
            fail(describe(exc))

    return wrapper


def print_json(value: Any) -> None:
    """``value`` as one JSON document on stdout (nothing else goes to stdout with --json)."""
    sys.stdout.write(jsonwire.dumps(value, default=_plain).decode() + "\n")
    sys.stdout.flush()


def say(value: Any, as_json: bool, text: str) -> None:
    """A command's result: ``value`` as JSON with --json, else ``text`` for a person."""
    if as_json:
        print_json(value)
    else:
        console.print(text)


def _plain(value: Any) -> Any:
    from datetime import date

    return value.isoformat() if isinstance(value, date) else str(value)


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[Callable[[str, int], None] | None]:
    """A Rich progress display on stderr fed by the engine's (what, count) callbacks."""
    if not enabled:
        yield None
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        tasks: dict[str, Any] = {}

        def advance(what: str, count: int) -> None:
            if what not in tasks:
                tasks[what] = progress.add_task(what, total=None)
            progress.advance(tasks[what], count)

        yield advance


def when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else "-"


def named_values(items: list[str] | None, option: str, what: str) -> dict[str, str]:
    """``["erp=bc", "crm=sales"]`` as a dict; a malformed or repeated item fails naming it."""
    found: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            fail(f"{option} {item!r}: expected {what}")
        if name in found:
            fail(f"{option}: {name} is given twice")
        found[name] = value
    return found
