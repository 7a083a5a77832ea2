"""``accord demo``: the whole story against the built-in sandboxes, printed as it happens."""

from __future__ import annotations

from rich.table import Table

from accord.cli import render
from accord.cli.common import console, progress_bar
from accord.cli.preview import print_preview
from accord.config.settings import Settings
from accord.services import operations, status
from accord.services.demo import BC, DV, change_both_sides, demo_world, side_values


def run_demo(*, records: int, seed: int) -> None:
    home = Settings().home / "demo"
    console.rule("[bold]Accord demo: Business Central ⇄ Dynamics 365 Sales")
    console.print(f"Starting sandboxes with {records} customers (seed {seed}) …")
    with demo_world(home, records=records, seed=seed) as world:
        table = Table(title="Sandboxes (HTTPS on loopback)")
        for column in ("system", "API root", "token endpoint"):
            table.add_column(column)
        for name in (BC, DV):
            handle = world.sandboxes[name]
            table.add_row(name, handle.base_url, handle.token_url)
        console.print(table)
        console.print(f"State: {world.hub.db.url}\n")

        console.rule("1. Full synchronization (dependency order; couple by match first)")
        console.print(
            "Both systems hold data: each mapping couples by match. Records with no match are "
            "reported, not created, unless asked (creating is how duplicates are made); the "
            "demo asks, as `accord sync --full --create-new` does."
        )
        with progress_bar() as advance:
            runs = operations.sync_full(world.hub, progress=advance, create_new=True)
        render.full_sync_table(runs)

        first_sight = operations.conflicts(world.hub)
        if first_sight:
            console.rule("1b. Pairs coupled by match that differ at first sight")
            console.print(
                "Nothing was overwritten: values that differ on both sides are held for a "
                "person. The demo decides as an ERP-first team would: Business Central wins."
            )
            render.conflicts_table(first_sight)
            for conflict in first_sight:
                operations.resolve(world.hub, conflict.id, "erp")

        console.rule("2. Users change records on both sides")
        for line in change_both_sides(world):
            console.print(f" • {line}")

        console.rule("3. Preview of the incremental sync (dry run)")
        print_preview(operations.sync_incremental(world.hub, ["CUSTOMER"], dry_run=True))

        console.rule("4. Incremental synchronization")
        render.passes_table(operations.sync_incremental(world.hub))

        console.rule("5. Held conflicts")
        held = operations.conflicts(world.hub)
        render.conflicts_table(held)
        for conflict in held:
            chosen = operations.resolve(world.hub, conflict.id, "erp")
            console.print(
                f"Resolved conflict {conflict.id}: Business Central wins " + ", ".join(chosen)
            )

        console.rule("6. Where the records stand now")
        _outcome(world)
        render.status_table(status.status(world.hub))
        errors = status.recent_errors(world.hub, limit=10)
        if errors:
            render.errors_table(errors)
    console.print(f"\nDemo state kept in {home} (its secret key beside it). Try:")
    console.print(
        f"ACCORD_DATABASE_URL=sqlite:///{(home / 'demo.db').resolve()} accord status",
        soft_wrap=True,  # one line, to copy whole
        highlight=False,
    )


def _outcome(world: object) -> None:
    from accord.services.demo import DemoWorld

    assert isinstance(world, DemoWorld)
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
