"""``accord webhooks``: subscribe at the systems, renew, and drain the inbox by hand."""

from __future__ import annotations

from typing import Annotated

import typer

from accord.cli.common import guarded, hub, say
from accord.services import inbox

webhooks_app = typer.Typer(
    help="Change notifications: subscriptions at the systems and the inbox.",
    no_args_is_help=True,
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


@webhooks_app.command("subscribe")
@guarded
def subscribe(
    url: Annotated[
        str, typer.Option(help="Public base URL where `accord serve` receives webhooks.")
    ],
    integration: Annotated[str | None, typer.Option(help="Integration name (if several).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Subscribe to changes of every mapped entity where the system can notify."""
    made = inbox.subscribe(hub(), url, integration)
    say({"subscribed": made}, as_json, f"Subscribed: {', '.join(made) or 'nothing new'}.")


@webhooks_app.command("unsubscribe")
@guarded
def unsubscribe(
    integration: Annotated[str | None, typer.Option(help="Integration name (if several).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove every subscription at the systems (and stop receiving their notifications)."""
    count = inbox.unsubscribe(hub(), integration)
    say({"unsubscribed": count}, as_json, f"Removed {count} subscription(s).")


@webhooks_app.command("renew")
@guarded
def renew(as_json: JsonOpt = False) -> None:
    """Renew subscriptions that lapse within a day (the scheduler does this too)."""
    counts = inbox.renew_due(hub())
    say(dict(counts), as_json, f"Renewed {counts['renewed']}, failed {counts['failed']}.")
    if counts["failed"]:
        raise typer.Exit(1)


@webhooks_app.command("drain")
@guarded
def drain(as_json: JsonOpt = False) -> None:
    """Synchronize the records that notifications named, now."""
    done = inbox.drain(hub())
    failed = sum(p.counts["failed"] for p in done.passes)
    say(
        {"changes": done.changes, "passes": len(done.passes), "failed": failed},
        as_json,
        f"{done.changes} change(s) in {len(done.passes)} pass(es).",
    )
    if failed:
        raise typer.Exit(1)
