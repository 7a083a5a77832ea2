"""``accord demo``: the whole story against the built-in sandboxes, printed as it happens."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from accord.cli import render
from accord.cli.common import EXIT_OK, EXIT_RECORDS, console, print_json, progress_bar
from accord.cli.demo_story import print_outcome, print_step, story_json
from accord.cli.jsonout import pass_json, run_json
from accord.cli.preview import print_preview
from accord.config.settings import Settings
from accord.services import operations, status
from accord.services.demo import BC, DV, DemoWorld, change_both_sides, demo_world, side_values
from accord.services.demo_story import LeadToCash


def run_demo(*, records: int, seed: int, json_out: bool = False) -> int:
    """The demo: master data, then the lead-to-cash story; its exit code (1: a step of the
    story failed). With ``json_out`` one JSON document on stdout, nothing else."""
    home = Settings().home / "demo"
    show = not json_out
    facts: dict[str, Any] = {"records": records, "seed": seed}
    if show:
        console.rule("[bold]Accord demo: Business Central ⇄ Dynamics 365 Sales")
        console.print(f"Starting sandboxes with {records} customers (seed {seed}) …")
    with demo_world(home, records=records, seed=seed) as world:
        facts["sandboxes"] = {
            name: {"api_root": world.sandboxes[name].base_url} for name in (BC, DV)
        }
        facts["state"] = world.hub.db.url
        if show:
            _sandboxes(world)
        _master_data(world, show, facts)
        if show:
            console.rule("7. Lead to cash: a quote in Sales becomes cash in Business Central")
        story = LeadToCash(world).run(print_step if show else lambda step: None)
        if show:
            print_outcome(story)
    code = EXIT_OK if story.ok else EXIT_RECORDS
    if json_out:
        print_json(
            {"exit_code": code, **facts, "story": story_json(story), "home": str(home.resolve())}
        )
        return code
    console.print(f"\nDemo state kept in {home} (its secret key beside it). Try:")
    console.print(
        f"ACCORD_DATABASE_URL=sqlite:///{(home / 'demo.db').resolve()} accord status",
        soft_wrap=True,  # one line, to copy whole
        highlight=False,
    )
    return code


def _sandboxes(world: DemoWorld) -> None:
    table = Table(title="Sandboxes (HTTPS on loopback)")
    for column in ("system", "API root", "token endpoint"):
        table.add_column(column)
    for name in (BC, DV):
        handle = world.sandboxes[name]
        table.add_row(name, handle.base_url, handle.token_url)
    console.print(table)
    console.print(f"State: {world.hub.db.url}\n")


def _master_data(world: DemoWorld, show: bool, facts: dict[str, Any]) -> None:
    """Steps 1 to 6: full sync, first-sight conflicts, changes on both sides, preview,
    incremental sync, held conflicts, where the watched records stand."""
    if show:
        console.rule("1. Full synchronization (dependency order; couple by match first)")
        console.print(
            "Both systems hold data: each mapping couples by match. Records with no match are "
            "reported, not created, unless asked (creating is how duplicates are made); the "
            "demo asks, as `accord sync --full --create-new` does."
        )
    with progress_bar(show) as advance:
        runs = operations.sync_full(world.hub, progress=advance, create_new=True)
    facts["full_sync"] = [run_json(r) for r in runs]
    if show:
        render.full_sync_table(runs)

    first_sight = operations.conflicts(world.hub)
    facts["first_sight_conflicts"] = len(first_sight)
    if first_sight and show:
        console.rule("1b. Pairs coupled by match that differ at first sight")
        console.print(
            "Nothing was overwritten: values that differ on both sides are held for a "
            "person. The demo decides as an ERP-first team would: Business Central wins."
        )
        render.conflicts_table(first_sight)
    for conflict in first_sight:
        operations.resolve(world.hub, conflict.id, "erp")

    facts["changes"] = change_both_sides(world)
    if show:
        console.rule("2. Users change records on both sides")
        for line in facts["changes"]:
            console.print(f" • {line}")
        console.rule("3. Preview of the incremental sync (dry run)")
        print_preview(operations.sync_incremental(world.hub, ["CUSTOMER"], dry_run=True))
        console.rule("4. Incremental synchronization")
    passes = operations.sync_incremental(world.hub)
    facts["incremental"] = [pass_json(p) for p in passes]
    if show:
        render.passes_table(passes)
        console.rule("5. Held conflicts")
    held = operations.conflicts(world.hub)
    facts["conflicts"] = len(held)
    if show:
        render.conflicts_table(held)
    for conflict in held:
        chosen = operations.resolve(world.hub, conflict.id, "erp")
        if show:
            console.print(
                f"Resolved conflict {conflict.id}: Business Central wins " + ", ".join(chosen)
            )
    facts["errors"] = len(status.recent_errors(world.hub, limit=10))
    if show:
        console.rule("6. Where the records stand now")
        _outcome(world)
        render.status_table(status.status(world.hub))
        errors = status.recent_errors(world.hub, limit=10)
        if errors:
            render.errors_table(errors)


def _outcome(world: DemoWorld) -> None:
    table = Table(title="Watched records")
    for column in ("change", "Business Central", "Sales"):
        table.add_column(column, overflow="fold")
    fields = {
        "erp-only": ("city", "address1_city"),
        "crm-only": ("phoneNumber", "telephone1"),
        "conflict": ("city", "address1_city"),
        "merge": ("email", "emailaddress1"),
        "deleted": ("displayName", "name"),
    }
    for label, (bc_field, dv_field) in fields.items():
        customer, account = side_values(world, label)
        extra = ""
        if label == "merge":
            extra = f" / website {(account or {}).get('websiteurl')!r}"
        table.add_row(
            label,
            repr((customer or {}).get(bc_field)),
            (repr(account.get(dv_field)) if account else "(deleted)") + extra,
        )
    console.print(table)
