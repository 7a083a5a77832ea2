"""Moving the state from SQLite to PostgreSQL: every row, exact values, usable afterwards."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, select

from accord.config.settings import Settings
from accord.connectors.registry import ConnectionSettings, settings_from_document
from accord.errors import ConfigError
from accord.services import setup, templates
from accord.services.hub import Hub
from accord.services.state_copy import copy_state
from accord.state import couplings
from accord.state.db import Database
from accord.state.models import Conflict, Coupling, Job, Watermark
from accord.state.store import load_integration
from accord.state.types import utcnow


def _connection(name: str, system: str, base_url: str) -> ConnectionSettings:
    return settings_from_document(
        {
            "name": name,
            "system": system,
            "base_url": base_url,
            "auth": {
                "kind": "client_credentials",
                "token_url": "https://login.microsoftonline.com/t/oauth2/v2.0/token",
                "client_id": "11111111-2222-3333-4444-555555555555",
                "client_secret": f"secret of {name}",
            },
        }
    )


def _source(home: Path) -> Hub:
    """A SQLite state with connections, an integration upgraded once, couplings with
    decimal baselines, a job, a conflict and a watermark."""
    hub = Hub(Settings(home=home), database_url=f"sqlite:///{home / 'accord.db'}")
    setup.connect(
        hub,
        _connection(
            "bc",
            "business-central",
            "https://api.businesscentral.dynamics.com/v2.0/t/prod/api/v2.0",
        ),
        check=False,
    )
    setup.connect(
        hub,
        _connection("crm", "dataverse", "https://org.crm.dynamics.com/api/data/v9.2"),
        check=False,
    )
    setup.init_integration(hub, "bc-sales", {"erp": "bc", "crm": "crm"})
    with hub.db.session() as session:
        spec = load_integration(session).template
    older = spec.model_copy(update={"mappings": spec.mappings[:-1]})
    templates.upgrade(hub, templates.plan_upgrade(hub, older).diff.new)
    with hub.db.session() as session:
        config = load_integration(session)
        mid = config.mapping_ids["CUSTOMER"]
        for n in range(5):
            row = couplings.new_coupling(mid, erp=f"erp-{n}", crm=f"crm-{n}")
            for role in ("erp", "crm"):
                couplings.link_of(row, role).synced = {
                    "crm=creditlimit:erp=creditLimit": Decimal(f"1000.{n}5")
                }
            session.add(row)
        session.flush()
        job = Job(mapping_id=mid, direction="to_crm", kind="incremental", status="success")
        session.add(job)
        session.add(
            Conflict(
                mapping_id=mid,
                coupling_id=row.id,
                fields={"crm=name:erp=displayName": {"values": {"erp": "A", "crm": "B"}}},
            )
        )
        session.add(Watermark(mapping_id=mid, role="erp", since=utcnow(), token="delta-link"))
    return hub


def _rows(db: Database) -> dict[str, list[dict[str, Any]]]:
    meta = MetaData()
    meta.reflect(db.engine)
    out: dict[str, list[dict[str, Any]]] = {}
    with db.engine.connect() as conn:
        for table in meta.sorted_tables:
            if table.name == "alembic_version":
                continue
            query = select(table).order_by(*table.primary_key.columns)
            out[table.name] = [dict(r) for r in conn.execute(query).mappings()]
    return out


def test_sqlite_state_moves_to_postgresql_whole_and_usable(
    tmp_path: Path, postgres_url: str
) -> None:
    home = tmp_path / "home"
    source = _source(home)
    before = _rows(source.db)
    source.close()

    result = copy_state(f"sqlite:///{home / 'accord.db'}", postgres_url)
    assert result.rows["coupling_links"] == 10 and result.rows["template_revisions"] == 2
    order = list(result.rows)  # parents before children
    assert order.index("integrations") < order.index("table_mappings") < order.index("couplings")
    assert order.index("couplings") < min(order.index("coupling_links"), order.index("conflicts"))

    moved = Hub(Settings(home=home), database_url=postgres_url)  # same home: same secret key
    try:
        after = _rows(moved.db)
        assert set(after) == set(before)
        for table, rows in before.items():
            assert after[table] == rows, table
        assert moved.connection("bc").auth.client_secret.get_secret_value() == "secret of bc"  # type: ignore[union-attr]
        assert [r.revision for r in templates.history(moved)] == [1, 2]
        with moved.db.session() as session:  # new rows get ids past the copied ones
            mid = load_integration(session).mapping_ids["CUSTOMER"]
            fresh = couplings.new_coupling(mid, erp="erp-new", crm="crm-new")
            session.add(fresh)
            session.flush()
            assert fresh.id > max(r["id"] for r in before["couplings"])
            rows = session.scalars(select(Coupling)).all()
            limits = {
                row.links["erp"].synced["crm=creditlimit:erp=creditLimit"]
                for row in rows
                if row.links["erp"].synced
            }
            assert limits == {Decimal(f"1000.{n}5") for n in range(5)}
            assert all(isinstance(value, Decimal) for value in limits)
    finally:
        moved.close()

    with pytest.raises(ConfigError, match=r"already holds Accord data \(tables .*couplings"):
        copy_state(f"sqlite:///{home / 'accord.db'}", postgres_url)


def test_copy_refuses_the_source_itself(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'accord.db'}"
    with pytest.raises(ConfigError, match="is the source database"):
        copy_state(url, url)


def test_a_failed_copy_leaves_the_target_empty(tmp_path: Path, postgres_url: str) -> None:
    """A row the target refuses (a value too long for its column, which SQLite accepted)
    rolls the whole copy back: the target stays empty and can be used again."""
    home = tmp_path / "home"
    source = _source(home)
    with source.db.session() as session:
        session.add(Job(direction="x" * 300, kind="incremental"))
    source.close()
    with pytest.raises(
        ConfigError, match=r"table jobs: the target refused .*nothing was committed"
    ):
        copy_state(f"sqlite:///{home / 'accord.db'}", postgres_url)
    assert all(not rows for rows in _rows(Database(postgres_url)).values())
