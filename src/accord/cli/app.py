"""The ``accord`` command: set up, synchronize, inspect and fix."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from accord.cli import render
from accord.cli.common import State, console, fail, guarded, hub, named_values, progress_bar
from accord.connectors.assemble import assemble_settings
from accord.services import operations, setup
from accord.services import status as status_service
from accord.services.hub import Hub
from accord.sync.passes import PassResult

app = typer.Typer(
    help="Accord keeps ERP, CRM and commerce systems in agreement.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
sandbox_app = typer.Typer(help="Run the built-in protocol sandboxes.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")

MappingOpt = Annotated[
    list[str] | None, typer.Option("--mapping", "-m", help="Only these mappings (repeatable).")
]
DirectionOpt = Annotated[
    str | None,
    typer.Option("--direction", "-d", help="to_ROLE: the role written to, e.g. to_crm."),
]
IntegrationOpt = Annotated[str | None, typer.Option(help="Integration name (if several).")]


@app.callback()
def main_options(
    database_url: Annotated[
        str | None,
        typer.Option(
            envvar="ACCORD_DATABASE_URL", help="State database (default: SQLite in the home)."
        ),
    ] = None,
    home: Annotated[
        Path | None,
        typer.Option(envvar="ACCORD_HOME", help="Folder for state, keys and certificates."),
    ] = None,
    log_level: Annotated[
        str | None,
        typer.Option(
            envvar="ACCORD_LOG_LEVEL",
            help="Structured log lines on stderr from this level (default: WARNING).",
        ),
    ] = None,
) -> None:
    from accord.errors import ConfigError
    from accord.observability import configure_logging

    try:
        configure_logging(log_level)
    except ConfigError as exc:
        raise typer.BadParameter(exc.message, param_hint="--log-level") from None
    State.database_url = database_url
    State.home = home


@app.command()
@guarded
def init(
    connection: Annotated[
        list[str],
        typer.Option(
            "--connection", "-c", help="ROLE=CONNECTION for each role of the template, e.g. erp=bc."
        ),
    ],
    template: Annotated[str, typer.Option(help="Built-in template or YAML path.")] = "bc-sales",
    name: Annotated[str | None, typer.Option(help="Integration name.")] = None,
) -> None:
    """Create an integration from a template, naming the connection that plays each role."""
    chosen = named_values(connection, "--connection", "ROLE=CONNECTION")
    from accord.cli.common import warn

    created = setup.init_integration(hub(), template, chosen, name=name)
    for warning in created.warnings:
        warn(warning)
    console.print(f"Integration [bold]{created.name}[/] ready from template {template}.")


@app.command()
@guarded
def connect(
    name: Annotated[str, typer.Argument(help="Name for this connection.")],
    system: Annotated[str, typer.Option(help="A registered system (an unknown one lists them).")],
    auth: Annotated[
        str | None,
        typer.Option(help="Auth kind, e.g. client_credentials, device_code (system default)."),
    ] = None,
    set_values: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="KEY=VALUE for a setting of the system or its auth kind, or "
            "options.NAME=VALUE (repeatable; an unknown key lists the valid ones).",
        ),
    ] = None,
    base_url: Annotated[str | None, typer.Option(help="API root URL.")] = None,
    token_url: Annotated[str | None, typer.Option(help="OAuth 2.0 token endpoint.")] = None,
    client_id: Annotated[str | None, typer.Option()] = None,
    client_secret: Annotated[str | None, typer.Option(envvar="ACCORD_CLIENT_SECRET")] = None,
    scope: Annotated[str | None, typer.Option()] = None,
    ca_cert: Annotated[str | None, typer.Option(help="CA certificate file to trust.")] = None,
    company: Annotated[str | None, typer.Option(help="Business Central company.")] = None,
    environment: Annotated[str | None, typer.Option(help="Business Central environment.")] = None,
    sandbox_json: Annotated[
        Path | None,
        typer.Option(help="Start from the system's entry in `accord sandbox up --json` output."),
    ] = None,
    check: Annotated[bool, typer.Option(help="Authenticate and call the system first.")] = True,
    json_out: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Save a connection to any registered system (checked before it is saved)."""
    facts: dict[str, Any] | None = None
    if sandbox_json is not None:
        data = json.loads(sandbox_json.read_text().splitlines()[0])
        if system not in data:
            fail(f"{sandbox_json} has no entry for {system}; it has: {', '.join(data)}")
        facts = dict(data[system])
    values = {
        k: v
        for k, v in {
            "base_url": base_url,
            "token_url": token_url,
            "client_id": client_id,
            "client_secret": client_secret,
            "scope": scope,
            "ca_cert": ca_cert,
            "company": company,
            "environment": environment,
        }.items()
        if v is not None
    }
    for pair in set_values or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            fail(f"--set {pair!r} is not KEY=VALUE")
        values[key.strip()] = value
    settings = assemble_settings(name, system, values, auth_kind=auth, sandbox_facts=facts)
    setup.connect(hub(), settings, check=check)
    if json_out:
        print(json.dumps(setup.connection_summary(settings, checked=check)))
        return
    console.print(
        f"Connection [bold]{name}[/] ({system}, {settings.auth.kind}) saved"
        + (" and checked." if check else ".")
    )


@sandbox_app.command("up")
@guarded
def sandbox_up(
    records: Annotated[int, typer.Option(help="Customers to seed (other tables scale).")] = 200,
    seed: Annotated[int, typer.Option(help="Random seed for the sample data.")] = 7,
    json_out: Annotated[bool, typer.Option("--json", help="First line: one JSON object.")] = False,
    systems: Annotated[
        list[str] | None,
        typer.Option("--system", "--only", help="Only these registered sandboxes (repeatable)."),
    ] = None,
) -> None:
    """Serve the registered sandboxes over HTTPS on 127.0.0.1 until interrupted."""
    from accord.sandboxes import SANDBOXES, serve_forever

    registered = list(SANDBOXES)
    unknown = [s for s in systems or [] if s not in registered]
    if unknown:
        fail(f"no sandbox for {', '.join(unknown)}; registered: {', '.join(registered)}")
    serve_forever(
        systems or registered,
        records=records,
        seed=seed,
        json_out=json_out,
        print_fn=lambda line: print(line, flush=True),
    )


@app.command()
@guarded
def couple(
    mapping: Annotated[str, typer.Argument(help="Mapping name, e.g. CUSTOMER.")],
    record: Annotated[
        list[str] | None,
        typer.Option("--record", "-r", help="ROLE=ID, one per role (e.g. erp=… crm=…)."),
    ] = None,
    match: Annotated[bool, typer.Option(help="Couple all uncoupled records by match.")] = False,
    create_new: Annotated[
        bool | None, typer.Option(help="Create the counterpart when no match is found.")
    ] = None,
    integration: IntegrationOpt = None,
) -> None:
    """Couple records by hand (one per role), or all uncoupled ones by their match fields."""
    h = hub()
    if match:
        result, passes = operations.couple_by_match(
            h, mapping, create_new=create_new, integration=integration
        )
        console.print(
            f"Coupled {result.counts['coupled']}, created {result.counts['inserted']}, "
            f"unmatched {result.counts['failed']}."
        )
        if passes:
            render.passes_table(passes, "Synchronized after coupling")
        return
    ids = named_values(record, "--record", "ROLE=ID")
    if not ids:
        fail("give --record ROLE=ID for each role, or --match")
    operations.couple_records(h, mapping, ids, integration=integration)
    console.print(f"Coupled {' ⇄ '.join(f'{r} {i}' for r, i in ids.items())} in {mapping}.")


@app.command()
@guarded
def uncouple(
    mapping: Annotated[str, typer.Argument()],
    ids: Annotated[list[str] | None, typer.Argument(help="Record ids of any role.")] = None,
    everything: Annotated[
        bool, typer.Option("--all", help="Every coupling of the mapping.")
    ] = False,
    integration: IntegrationOpt = None,
) -> None:
    """Remove couplings (the records themselves stay)."""
    if not ids and not everything:
        fail("give record ids or --all")
    removed = operations.uncouple_records(
        hub(), mapping, ids or [], everything=everything, integration=integration
    )
    console.print(f"Removed {removed} coupling(s).")


@app.command()
@guarded
def sync(
    full: Annotated[bool, typer.Option(help="Full synchronization in dependency order.")] = False,
    mapping: MappingOpt = None,
    records: Annotated[
        list[str] | None,
        typer.Option("--record", "-r", help="Synchronize these source ids now (repeatable)."),
    ] = None,
    direction: DirectionOpt = None,
    integration: IntegrationOpt = None,
) -> None:
    """Synchronize: incremental by default, --full, or chosen records in a chosen direction."""
    h = hub()
    if records:
        result = _records_now(h, mapping, records, direction, integration, dry_run=False)
        render.passes_table([result], "Synchronized now")
        return
    with progress_bar() as advance:
        if full:
            render.full_sync_table(
                operations.sync_full(h, mapping, integration=integration, progress=advance)
            )
        else:
            render.passes_table(
                operations.sync_incremental(h, mapping, integration=integration, progress=advance)
            )


def _records_now(
    h: Hub,
    mapping: list[str] | None,
    records: list[str],
    direction: str | None,
    integration: str | None,
    *,
    dry_run: bool,
) -> PassResult:
    """Synchronize (or preview) chosen records of one mapping in one direction."""
    if not mapping or len(mapping) != 1 or direction is None:
        fail("chosen records need exactly one --mapping and a --direction")
    return operations.sync_now(
        h, mapping[0], records, direction, integration=integration, dry_run=dry_run
    )


@app.command()
@guarded
def preview(
    mapping: MappingOpt = None,
    records: Annotated[list[str] | None, typer.Option("--record", "-r")] = None,
    direction: DirectionOpt = None,
    integration: IntegrationOpt = None,
) -> None:
    """Dry run: list per record and field what a sync would change, writing nothing."""
    h = hub()
    if records:
        results = [_records_now(h, mapping, records, direction, integration, dry_run=True)]
    else:
        results = operations.sync_incremental(h, mapping, integration=integration, dry_run=True)
    from accord.cli.preview import print_preview

    print_preview(results)


@app.command()
@guarded
def status(integration: IntegrationOpt = None) -> None:
    """Per mapping: couplings, failures, conflicts, watermarks and the last pass."""
    render.status_table(status_service.status(hub(), integration))


@app.command()
@guarded
def errors(
    mapping: Annotated[str | None, typer.Option("--mapping", "-m")] = None,
    limit: Annotated[int, typer.Option()] = 50,
    integration: IntegrationOpt = None,
) -> None:
    """Recent per-record errors, newest first."""
    render.errors_table(status_service.recent_errors(hub(), integration, mapping, limit))


@app.command()
@guarded
def retry(
    mapping: Annotated[str | None, typer.Option("--mapping", "-m")] = None,
    ids: Annotated[list[str] | None, typer.Argument(help="Only these record ids.")] = None,
    now: Annotated[bool, typer.Option(help="Run an incremental sync right away.")] = False,
    integration: IntegrationOpt = None,
) -> None:
    """Clear 'skipped' on failed records so the next pass retries them first."""
    h = hub()
    count = operations.retry(h, mapping, ids or [], integration=integration)
    console.print(f"{count} skipped record(s) will be retried.")
    if now:
        render.passes_table(
            operations.sync_incremental(h, [mapping] if mapping else None, integration=integration)
        )


@app.command()
@guarded
def conflicts(integration: IntegrationOpt = None) -> None:
    """Held conflicts with both sides' values per field."""
    render.conflicts_table(operations.conflicts(hub(), integration))


@app.command()
@guarded
def resolve(
    conflict_id: Annotated[int, typer.Argument()],
    take: Annotated[str | None, typer.Option(help="The role whose values win every field.")] = None,
    field: Annotated[list[str] | None, typer.Option(help="KEY=ROLE (repeatable).")] = None,
    integration: IntegrationOpt = None,
) -> None:
    """Resolve a held conflict, for the whole record or per field."""
    if (take is None) == (not field):
        fail("give either --take ROLE or one --field KEY=ROLE per conflicting field")
    choice: Any = take
    if field:
        choice = {}
        for item in field:
            key, sep, value = item.rpartition("=")
            if not sep:
                fail(f"--field {item!r}: expected KEY=ROLE")
            choice[key] = value
    chosen = operations.resolve(hub(), conflict_id, choice, integration=integration)
    console.print(
        f"Conflict {conflict_id} resolved: " + ", ".join(f"{k} ← {v}" for k, v in chosen.items())
    )


@app.command()
@guarded
def run(
    cycles: Annotated[int | None, typer.Option(help="Stop after this many rounds.")] = None,
    integration: IntegrationOpt = None,
) -> None:
    """The scheduler: each mapping's incremental pass on its interval, until stopped."""
    from accord.runtime.scheduler import Scheduler

    stop = threading.Event()
    with hub().context(integration) as ctx:
        scheduler = Scheduler(
            ctx,
            on_result=lambda r: console.print(
                f"{r.mapping} {r.direction}: {r.status} "
                + " ".join(f"{k}={v}" for k, v in r.counts.items() if v)
            ),
            on_notice=lambda text: console.print(f"[yellow]{text}[/]"),
        )
        console.print("Scheduler running; Ctrl+C stops it.")
        try:
            scheduler.run(stop, max_cycles=cycles)
        except KeyboardInterrupt:
            stop.set()
            console.print("Stopped.")


@app.command()
@guarded
def demo(
    records: Annotated[int, typer.Option(help="Customers in the sample data.")] = 200,
    seed: Annotated[int, typer.Option()] = 7,
) -> None:
    """Start the sandboxes, set up, full sync, change both sides, incremental sync, report."""
    from accord.cli.demo import run_demo

    run_demo(records=records, seed=seed)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
