"""``accord template``: compare an integration's template with a newer one, upgrade, roll back."""

from __future__ import annotations

import json
import sys
import textwrap
from typing import Annotated, Any

import typer
from rich.markup import escape

from accord.cli.common import console, fail, guarded, hub, when
from accord.cli.layout import terminal_width
from accord.config.template_diff import FieldDiff, MappingDiff
from accord.services import templates
from accord.services.hub import Hub
from accord.services.templates import UpgradePlan, UpgradeResult

template_app = typer.Typer(
    help="Show and apply a newer template to an existing integration (never re-couples).",
    no_args_is_help=True,
)

TemplateArg = Annotated[
    str | None,
    typer.Argument(
        help="Built-in template name or YAML path (default: the built-in template the "
        "integration was set up from)."
    ),
]
IntegrationOpt = Annotated[str | None, typer.Option(help="Integration name (if several).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")]
DropOpt = Annotated[
    bool,
    typer.Option(
        "--drop-removed",
        help="Delete the couplings of removed mappings (and of mappings whose entity "
        "changed) instead of keeping them inactive.",
    ),
]
_MARK = {
    "added": "+",
    "removed": "-",
    "changed": "~",
    "renamed": "~",
    "retired": "!",
    "restored": "+",
}


@template_app.command()
@guarded
def diff(
    template: TemplateArg = None, integration: IntegrationOpt = None, json_out: JsonOpt = False
) -> None:
    """Show what upgrading to TEMPLATE would change, per mapping and field (changes nothing)."""
    plan = templates.plan_upgrade(hub(), template, integration)
    if json_out:
        _print_json(plan.to_json())
        return
    _show(plan)


@template_app.command()
@guarded
def upgrade(
    template: TemplateArg = None,
    integration: IntegrationOpt = None,
    yes: YesOpt = False,
    drop_removed: DropOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Apply TEMPLATE to the integration in one transaction, after showing the difference.

    Couplings keep their ids; nothing is written to the connected systems: the next
    passes apply the new filters, directions and field mappings.
    """
    the_hub = hub()
    plan = templates.plan_upgrade(the_hub, template, integration)
    _apply(
        plan,
        yes=yes,
        json_out=json_out,
        run=lambda: _upgrade_to(the_hub, plan, drop_removed, "upgrade"),
    )


@template_app.command()
@guarded
def history(integration: IntegrationOpt = None, json_out: JsonOpt = False) -> None:
    """List the templates the integration has run with (newest last)."""
    rows = templates.history(hub(), integration)
    if json_out:
        _print_json({"revisions": [r.to_json() for r in rows]})
        return
    for r in rows:
        label = f"{r.template} {r.version}" if r.version else r.template
        current = "  (current)" if r.current else ""
        console.print(
            f"{r.revision:>3}  {when(r.applied_at)}  {escape(label)}  "
            f"{r.digest[:12]}  {escape(r.note or '')}{current}",
            highlight=False,
        )


@template_app.command()
@guarded
def rollback(
    revision: Annotated[int, typer.Argument(help="The revision to apply again (see history).")],
    integration: IntegrationOpt = None,
    yes: YesOpt = False,
    drop_removed: DropOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Apply an earlier revision's template again (recorded as a new revision)."""
    the_hub = hub()
    plan = templates.rollback(the_hub, revision, integration, plan_only=True)
    assert isinstance(plan, UpgradePlan)
    _apply(
        plan,
        yes=yes,
        json_out=json_out,
        run=lambda: _upgrade_to(the_hub, plan, drop_removed, f"rollback to {revision}"),
    )


def _upgrade_to(the_hub: Hub, plan: UpgradePlan, drop_removed: bool, note: str) -> Any:
    """Apply the plan a person saw: refused if the stored template changed since."""
    return templates.upgrade(
        the_hub,
        plan.diff.new,
        plan.integration,
        drop_removed=drop_removed,
        expect_digest=plan.current_digest,
        note=note,
    )


def _apply(plan: UpgradePlan, *, yes: bool, json_out: bool, run: Any) -> None:
    if json_out and not yes:
        fail("--json needs --yes (see the difference first with 'accord template diff --json')")
    if not plan.changed:
        if json_out:
            _print_json({**plan.to_json(), "applied": False})
        else:
            console.print(f"Integration {escape(plan.integration)} already runs this template.")
        return
    if not json_out:
        _show(plan)
    if not yes:
        if not sys.stdin.isatty():
            fail("not applied: confirm with --yes when not at a terminal")
        if not typer.confirm("Apply this template?", default=False):
            fail("not applied", code=1)
    result: UpgradeResult = run()
    if json_out:
        _print_json(result.to_json())
        return
    console.print(
        f"Revision {result.revision} applied: {result.links_rebaselined} links re-baselined, "
        f"{result.couplings_dropped} couplings dropped"
        + (f", kept inactive: {', '.join(result.kept_inactive)}" if result.kept_inactive else "")
        + ". Nothing was written to the systems; the next sync applies the template "
        "(restart 'accord run' and workers: they keep the template they started with).",
        highlight=False,
    )


def _print_json(data: dict[str, Any]) -> None:
    print(json.dumps(data, default=str, ensure_ascii=False))


def _show(plan: UpgradePlan) -> None:
    width = max(terminal_width(console), 40)
    for line in describe(plan):
        body = line.lstrip(" ")
        indent = " " * (len(line) - len(body))
        follow = indent + ("   " if body.startswith("=> ") else "  ")
        for part in textwrap.wrap(
            body, width, initial_indent=indent, subsequent_indent=follow, break_on_hyphens=False
        ) or [line]:
            console.print(escape(part), highlight=False, soft_wrap=True)


def describe(plan: UpgradePlan) -> list[str]:
    """The plan as text lines, mapping by mapping."""
    old, new = plan.diff.old, plan.diff.new
    lines = [
        f"Integration {plan.integration}: revision {plan.revision} "
        f"({_label(old.name, old.version)}) -> {_label(new.name, new.version)}"
    ]
    if not plan.changed:
        return [*lines, "No difference."]
    lines += [
        f"  template {c.attribute}: {_short(c.old)} -> {_short(c.new)}"
        for c in (plan.diff.template_changes)
    ]
    for m in plan.diff.mappings:
        lines += _mapping_lines(m, plan.couplings.get(m.old_name or m.name, 0))
    if plan.inactive:
        lines.append(f"Kept inactive from earlier templates: {', '.join(plan.inactive)}")
    return lines


def _mapping_lines(m: MappingDiff, couplings: int) -> list[str]:
    title = f"{_MARK[m.status]} {m.name}: {m.status}"
    if m.status == "renamed":
        title += f" (was {m.old_name})"
    lines = [f"{title}, {couplings} couplings"]
    lines += [f"    {c.attribute}: {_short(c.old)} -> {_short(c.new)}" for c in m.changes]
    lines += [f"    => {effect}" for effect in m.effects]
    for f in m.fields:
        lines += _field_lines(f)
    return lines


def _field_lines(f: FieldDiff) -> list[str]:
    names = " / ".join(f"{role} {name}" for role, name in sorted(f.fields.items()))
    lines = [f"    {_MARK[f.status]} field {names} [{f.id}]"]
    lines += [f"        {c.attribute}: {_short(c.old)} -> {_short(c.new)}" for c in f.changes]
    if f.effect:
        lines.append(f"        => {f.effect}")
    return lines


def _label(name: str, version: str | None) -> str:
    return f"{name} {version}" if version else name


def _short(value: Any, limit: int = 120) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False) if value is not None else "-"
    return text if len(text) <= limit else text[: limit - 3] + "..."
