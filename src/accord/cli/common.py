"""What every command shares: the hub, error reporting, progress bars, output helpers."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from accord.config.settings import Settings
from accord.errors import AccordError
from accord.services.hub import Hub

console = Console()
err_console = Console(stderr=True)
T = TypeVar("T")


class State:
    """Global options, set by the app callback."""

    database_url: str | None = None
    home: Path | None = None


def hub() -> Hub:
    settings = Settings(home=State.home) if State.home else Settings()
    return Hub(settings, database_url=State.database_url)


def fail(message: str, code: int = 2) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code)


def warn(message: str) -> None:
    """One warning line on stderr (markup in the message is shown as written)."""
    err_console.print(f"[yellow]warning:[/] {escape(message)}", highlight=False)


def guarded(fn: Callable[..., T]) -> Callable[..., T]:
    """Turn Accord's errors into one clear line and a non-zero exit."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except AccordError as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            err_console.print("interrupted")
            sys.exit(130)

    return wrapper


@contextmanager
def progress_bar() -> Iterator[Callable[[str, int], None]]:
    """A Rich progress display fed by the engine's (what, count) callbacks."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
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
