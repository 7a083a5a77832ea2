"""Setting up: ``accord connect``, ``accord init`` and ``accord sandbox up``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from accord.cli.common import (
    console,
    err_console,
    fail,
    guarded,
    hub,
    named_values,
    print_json,
    warn,
)
from accord.cli.root import JsonOpt, sandbox_app
from accord.connectors.assemble import assemble_settings
from accord.services import setup


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
    created = setup.init_integration(hub(), template, chosen, name=name)
    for warning in created.warnings:
        warn(warning)
    console.print(f"Integration [bold]{created.name}[/] ready from template {template}.")


def sandbox_facts(path: Path, system: str) -> dict[str, Any]:
    """``system``'s entry of a ``sandbox up --json`` file; a missing or malformed file or
    entry is an error naming the file."""
    try:
        text = path.read_text()
    except OSError as exc:
        fail(f"--sandbox-json {path}: cannot be read ({exc.strerror or exc})")
    data: Any = None
    for candidate in (text, text.split("\n", 1)[0]):
        try:
            data = json.loads(candidate)
            break
        except ValueError:
            continue
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        fail(f"--sandbox-json {path}: not the JSON object `accord sandbox up --json` prints")
    if system not in data:
        fail(f"{path} has no entry for {system}; it has: {', '.join(data) or '(none)'}")
    return dict(data[system])


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
    client_id: Annotated[
        str | None, typer.Option(help="OAuth 2.0 client (application) id.")
    ] = None,
    client_secret: Annotated[
        str | None,
        typer.Option(
            envvar="ACCORD_CLIENT_SECRET", help="OAuth 2.0 client secret (stored encrypted)."
        ),
    ] = None,
    scope: Annotated[
        str | None, typer.Option(help="OAuth 2.0 scope, e.g. <resource>/.default.")
    ] = None,
    ca_cert: Annotated[str | None, typer.Option(help="CA certificate file (PEM) to trust.")] = None,
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
    facts = sandbox_facts(sandbox_json, system) if sandbox_json is not None else None
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
    trusted = getattr(settings, "ca_cert", None)
    if trusted and not Path(trusted).is_file():
        origin = f" (from {sandbox_json})" if ca_cert is None and sandbox_json else ""
        fail(f"--ca-cert {trusted}{origin}: no such file")
    setup.connect(hub(create=True), settings, check=check)
    if json_out:
        print_json(setup.connection_summary(settings, checked=check))
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
    json_out: JsonOpt = False,
    json_file: Annotated[
        Path | None,
        typer.Option(
            help="Also write the JSON facts (with secrets) to this file, atomically and "
            "mode 0600, once every sandbox serves; removed again when the sandboxes stop."
        ),
    ] = None,
    systems: Annotated[
        list[str] | None,
        typer.Option("--system", "--only", help="Only these registered sandboxes (repeatable)."),
    ] = None,
    custom_api: Annotated[
        bool,
        typer.Option(
            help="Serve Business Central's custom API group accord/integration/v1.0 "
            "(--no-custom-api: a tenant without Accord's extension)."
        ),
    ] = True,
    limits: Annotated[
        float | None,
        typer.Option(
            "--limits",
            help="Switch the services' limits on, windows SCALE times shorter (1: as documented).",
            metavar="SCALE",
        ),
    ] = None,
) -> None:
    """Serve the registered sandboxes over HTTPS on 127.0.0.1 until interrupted (Ctrl+C or
    SIGTERM), then remove their keys and data."""
    from accord.sandboxes import SANDBOXES, serve_forever

    registered = list(SANDBOXES)
    unknown = [s for s in systems or [] if s not in registered]
    if unknown:
        fail(f"no sandbox for {', '.join(unknown)}; registered: {', '.join(registered)}")
    if limits is not None and limits <= 0:
        fail(f"--limits must be a scale > 0, got {limits:g}")
    serve_forever(
        systems or registered,
        records=records,
        seed=seed,
        json_out=json_out,
        json_file=json_file,
        print_fn=lambda line: print(line, flush=True),
        notice_fn=lambda line: err_console.print(line, highlight=False, soft_wrap=True),
        custom_api=custom_api,
        limits=None if limits is None else {"*": {"scale": limits}},
    )
