"""The ``accord`` command: set up, synchronize, inspect and fix.

``app`` is the Typer object (global options in :mod:`accord.cli.root`); the commands live in
modules by group and are registered here, in the order ``accord --help`` lists them.
"""

from __future__ import annotations

from accord.cli import couple_commands as couple
from accord.cli import inspect, privacy
from accord.cli import setup_commands as setup
from accord.cli import sync_commands as sync
from accord.cli.documents_commands import documents_app, orders_app, quotes_app
from accord.cli.invoice_commands import invoices_app
from accord.cli.items import items_app
from accord.cli.root import app, main_options, sandbox_app
from accord.cli.runtime import register as register_runtime
from accord.cli.state_commands import state_app
from accord.cli.template_commands import template_app
from accord.cli.webhooks import webhooks_app

__all__ = ["app", "main", "main_options"]

for command in (setup.init, setup.connect):
    app.command()(command)
app.add_typer(sandbox_app, name="sandbox")
for command in (
    couple.couple,
    couple.uncouple,
    sync.sync,
    sync.preview,
    inspect.status,
    inspect.couplings,
    inspect.errors,
    sync.retry,
    inspect.conflicts,
    couple.resolve,
    sync.run,
    sync.demo,
):
    app.command()(command)
privacy.register(app)
app.add_typer(orders_app, name="orders")
app.add_typer(quotes_app, name="quotes")
app.add_typer(documents_app, name="documents")
app.add_typer(invoices_app, name="invoices")
app.add_typer(template_app, name="template")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(state_app, name="state")
app.add_typer(items_app, name="items")
register_runtime(app)  # worker, serve, tokens


def main() -> None:
    app()


if __name__ == "__main__":
    main()
