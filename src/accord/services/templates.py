"""Template upgrades: show what a newer template changes, apply it, keep the history.

An upgrade rewrites the integration's stored spec and the state that depends on field and
mapping identities (mapping rows, baseline keys) in one transaction. It never couples,
uncouples or writes to a connected system: pairs already coupled stay coupled with the same
ids, and the next passes apply the new filters, directions and field mappings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.config.loader import builtin_templates, load_template, parse_template
from accord.config.spec import TableMappingSpec, TemplateSpec
from accord.config.template_diff import MappingDiff, TemplateDiff, diff_templates
from accord.errors import ConfigError
from accord.services.hub import Hub
from accord.services.setup import check_against_systems
from accord.state import leases
from accord.state import revisions as rev
from accord.state.models import Integration, Lease, TableMapping
from accord.state.store import load_integration
from accord.state.types import utcnow

RETIRED = "{name}@r{revision}"
"""The name a mapping row whose entity changed keeps (never a valid mapping name)."""


@dataclass
class UpgradePlan:
    """What an upgrade of one integration to one template does (``accord template diff``)."""

    integration: str
    revision: int
    """The integration's current template revision."""
    current_digest: str
    diff: TemplateDiff
    couplings: dict[str, int]
    """Per mapping name (the stored name), its couplings."""
    inactive: list[str] = field(default_factory=list)
    """Mapping rows kept from earlier upgrades, not in the current template."""

    @property
    def changed(self) -> bool:
        return self.diff.changed

    def to_json(self) -> dict[str, Any]:
        old, new = self.diff.old, self.diff.new
        return {
            "integration": self.integration,
            "from": {
                "revision": self.revision,
                "template": old.name,
                "version": old.version,
                "digest": self.current_digest,
            },
            "to": {
                "template": new.name,
                "version": new.version,
                "digest": rev.digest(new.model_dump(mode="json")),
            },
            "changed": self.changed,
            "template_changes": [asdict(c) for c in self.diff.template_changes],
            "mappings": [self._mapping_json(m) for m in self.diff.mappings],
            "inactive": self.inactive,
        }

    def _mapping_json(self, m: MappingDiff) -> dict[str, Any]:
        data = asdict(m)
        data["couplings"] = self.couplings.get(m.old_name or m.name, 0)
        return data


@dataclass
class UpgradeResult:
    """What an applied upgrade did."""

    plan: UpgradePlan
    revision: int
    links_rebaselined: int
    couplings_dropped: int
    kept_inactive: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            **self.plan.to_json(),
            "applied": True,
            "revision": self.revision,
            "links_rebaselined": self.links_rebaselined,
            "couplings_dropped": self.couplings_dropped,
            "kept_inactive": self.kept_inactive,
        }


@dataclass(frozen=True)
class RevisionInfo:
    """One row of ``accord template history``."""

    revision: int
    template: str
    version: str | None
    digest: str
    applied_at: datetime
    replaced_at: datetime | None
    note: str | None
    current: bool

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("applied_at", "replaced_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


def resolve_template(stored_name: str, template: str | None) -> TemplateSpec:
    """The template to upgrade to: ``template`` (a built-in name or a YAML path), else the
    built-in template the integration was set up from."""
    if template is not None:
        return load_template(template)
    if stored_name not in builtin_templates():
        raise ConfigError(
            f"the integration's template {stored_name!r} is not a built-in one; "
            "name the template to upgrade to (a built-in name or a YAML path)"
        )
    return load_template(stored_name)


def plan_upgrade(
    hub: Hub, template: str | TemplateSpec | None = None, integration: str | None = None
) -> UpgradePlan:
    """Compare the integration's stored template with ``template`` (nothing is changed)."""
    with hub.db.session() as session:
        return _plan(session, template, integration)


def upgrade(
    hub: Hub,
    template: str | TemplateSpec | None = None,
    integration: str | None = None,
    *,
    drop_removed: bool = False,
    expect_digest: str | None = None,
    note: str = "upgrade",
) -> UpgradeResult:
    """Apply ``template`` to an existing integration in one transaction.

    ``expect_digest`` (the ``from.digest`` of the plan a person approved) makes the upgrade
    refuse when the stored template changed since that plan was shown.
    """
    with hub.db.session() as session:
        config = load_integration(session, integration)
        row = _row(session, config.name)
        new = (
            template
            if isinstance(template, TemplateSpec)
            else resolve_template(row.template, template)
        )
    # checked against the tenants as `accord init` checks: a mapping whose API group a
    # tenant lacks stays disabled, anything that does not exist fails before anything changes
    new = check_against_systems(hub, new, config.connections, new.name).template
    with hub.db.session() as session:
        plan = _plan(session, new, integration)
        if expect_digest is not None and expect_digest != plan.current_digest:
            raise ConfigError(
                "the integration's template changed since the difference was shown; "
                "run the upgrade again to see the new difference"
            )
        return _apply(session, plan, drop_removed=drop_removed, note=note)


def rollback(
    hub: Hub,
    revision: int,
    integration: str | None = None,
    *,
    drop_removed: bool = False,
    plan_only: bool = False,
) -> UpgradePlan | UpgradeResult:
    """Apply an earlier revision's template again (an upgrade to it, recorded as such)."""
    with hub.db.session() as session:
        config = load_integration(session, integration)
        row = _row(session, config.name)
        found = [r for r in rev.revisions(session, row) if r.revision == revision]
        if not found:
            raise ConfigError(
                f"integration {config.name!r} has no template revision {revision}; "
                "see 'accord template history'"
            )
        spec = parse_template(found[0].spec, f"revision {revision} of {config.name!r}")
        plan = _plan(session, spec, config.name)
        if plan_only:
            return plan
        return _apply(session, plan, drop_removed=drop_removed, note=f"rollback to {revision}")


def history(hub: Hub, integration: str | None = None) -> list[RevisionInfo]:
    """The integration's template revisions, oldest first."""
    with hub.db.session() as session:
        config = load_integration(session, integration)
        rows = rev.revisions(session, _row(session, config.name))
        return [
            RevisionInfo(
                r.revision,
                r.template,
                r.version,
                r.digest,
                r.applied_at,
                r.replaced_at,
                r.note,
                r is rows[-1],
            )
            for r in rows
        ]


def _row(session: Session, name: str) -> Integration:
    row = session.scalar(select(Integration).where(Integration.name == name))
    if row is None:  # load_integration found it in this transaction
        raise ConfigError(f"no integration named {name!r}")
    return row


def _plan(
    session: Session, template: str | TemplateSpec | None, integration: str | None
) -> UpgradePlan:
    config = load_integration(session, integration)
    row = _row(session, config.name)
    if isinstance(template, TemplateSpec):
        new = template
    else:
        new = resolve_template(row.template, template)
    rows = _mapping_rows(session, row.id)
    known = {m.name for m in config.template.mappings}
    stored = rev.revisions(session, row)
    inactive = _last_specs(stored, {n for n in rows if n not in known})
    diff = diff_templates(config.template, new, inactive)
    counts = rev.coupling_counts(session, [r.id for r in rows.values()])
    return UpgradePlan(
        config.name,
        stored[-1].revision,
        rev.digest(row.spec or {}),
        diff,
        {name: counts.get(r.id, 0) for name, r in rows.items()},
        sorted(name for name in rows if name not in known),
    )


def _last_specs(stored: list[rev.TemplateRevision], names: set[str]) -> dict[str, TableMappingSpec]:
    """The spec each of ``names`` last had in a revision (their kept couplings follow it)."""
    found: dict[str, TableMappingSpec] = {}
    for revision in reversed(stored):
        wanted = names - set(found)
        if not wanted:
            break
        for mapping in revision.spec.get("mappings", []):
            if mapping.get("name") in wanted and mapping["name"] not in found:
                try:
                    spec = parse_template(revision.spec, f"revision {revision.revision}")
                except ConfigError:
                    break  # a revision this version cannot read: look further back
                found[mapping["name"]] = spec.mapping(mapping["name"])
    return found


def _mapping_rows(session: Session, integration_id: int) -> dict[str, TableMapping]:
    return {
        m.name: m
        for m in session.scalars(
            select(TableMapping).where(TableMapping.integration_id == integration_id)
        )
    }


def _refuse_running_passes(session: Session, rows: dict[str, TableMapping]) -> None:
    """A pass running now would go on with the old template (and book its results under
    it): refuse while one holds its lease."""
    names = {f"pass:{m.id}:": name for name, m in rows.items()}
    me = leases.this_holder()
    now = utcnow()
    for lease in session.scalars(select(Lease).where(Lease.key.like("pass:%"))):
        prefix = lease.key.rsplit(":", 1)[0] + ":"
        if prefix not in names or lease.expires_at <= now or leases.holder_is_dead(lease, me):
            continue
        raise ConfigError(
            f"a pass of mapping {names[prefix]} is running (on {lease.host}, process "
            f"{lease.pid}); stop 'accord run' and the workers, upgrade, then start them again"
        )


def _apply(session: Session, plan: UpgradePlan, *, drop_removed: bool, note: str) -> UpgradeResult:
    row = _row(session, plan.integration)
    if not plan.changed:
        return UpgradeResult(plan, plan.revision, 0, 0, [])
    _refuse_running_passes(session, _mapping_rows(session, row.id))
    rev.revisions(session, row, record=True)  # the spec it replaces is kept first
    rows = _mapping_rows(session, row.id)
    diff = plan.diff
    next_revision = plan.revision + 1
    dropped = 0
    kept: list[str] = []
    for m in diff.of("renamed"):
        if m.name in rows:
            raise ConfigError(
                f"mapping {m.old_name} is renamed {m.name}, but couplings of an earlier "
                f"mapping {m.name} are kept; delete them first (upgrade with --drop-removed "
                "to a template without it)"
            )
        rows[m.name] = rows.pop(m.old_name or m.name)
        rows[m.name].name = m.name
    for m in [*diff.of("retired"), *diff.of("removed")]:
        old = rows.pop(m.old_name or m.name)
        if drop_removed:
            dropped += plan.couplings.get(old.name, 0)
            session.delete(old)
        elif m.status == "retired":
            old.name = RETIRED.format(name=old.name, revision=next_revision)
            kept.append(old.name)
        else:
            rows[old.name] = old
            kept.append(old.name)
    session.flush()
    for position, mapping in enumerate(diff.new.mappings):
        found = rows.get(mapping.name)
        if found is None:
            found = TableMapping(integration_id=row.id, name=mapping.name)
            session.add(found)
            rows[mapping.name] = found
        found.position = position
    active = {m.name for m in diff.new.mappings}
    for extra, name in enumerate(sorted(n for n in rows if n not in active)):
        rows[name].position = len(active) + extra
    session.flush()
    rebaselined = 0
    for m in diff.mappings:
        if m.status in ("changed", "renamed", "restored"):
            rebaselined += rev.rekey_baselines(session, rows[m.name].id, m.rekeys, m.drops)
            if m.changes_reads:
                rev.forget_change_tokens(session, rows[m.name].id)
    spec = diff.new.model_dump(mode="json")
    row.spec = spec
    row.template = diff.new.name
    added = rev.add_revision(session, row, spec, note)
    return UpgradeResult(plan, added.revision, rebaselined, dropped, kept)
