"""connection settings as one JSON document (auth variant, secrets sealed)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 12:00:00.000000

Each row's base_url, token_url, client_id, secret_encrypted, scope, ca_cert and options move
into ``settings``: ``{name, system, base_url, ca_cert, auth: {kind: client_credentials, ...},
options}``; the encrypted secret is kept as is, as ``{"$secret": <token>}``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SEALED = "$secret"
_OLD_COLUMNS = ("base_url", "token_url", "client_id", "secret_encrypted", "scope", "ca_cert")


def _table(*columns: str) -> sa.TableClause:
    json_columns = {"options", "settings"}
    return sa.table(
        "connections",
        sa.column("id", sa.Integer()),
        *(sa.column(c, sa.JSON() if c in json_columns else sa.Text()) for c in columns),
    )


def _document(row: Any) -> dict[str, Any]:
    return {
        "name": row.name,
        "system": row.system,
        "base_url": row.base_url,
        "ca_cert": row.ca_cert,
        "auth": {
            "kind": "client_credentials",
            "token_url": row.token_url,
            "client_id": row.client_id,
            "client_secret": {SEALED: row.secret_encrypted},
            "scope": row.scope,
        },
        "options": dict(row.options or {}),
    }


def upgrade() -> None:
    with op.batch_alter_table("connections") as batch_op:
        batch_op.add_column(sa.Column("settings", sa.JSON(), nullable=True))
    bind = op.get_bind()
    old = _table("name", "system", *_OLD_COLUMNS, "options")
    new = _table("settings")
    for row in bind.execute(sa.select(old)).all():
        bind.execute(new.update().where(new.c.id == row.id).values(settings=_document(row)))
    with op.batch_alter_table("connections") as batch_op:
        batch_op.alter_column("settings", existing_type=sa.JSON(), nullable=False)
        for column in (*_OLD_COLUMNS, "options"):
            batch_op.drop_column(column)


def downgrade() -> None:
    bind = op.get_bind()
    current = _table("name", "settings")
    rows = bind.execute(sa.select(current)).all()
    kinds = {r.name: (r.settings or {}).get("auth", {}).get("kind") for r in rows}
    other = [name for name, kind in kinds.items() if kind != "client_credentials"]
    if other:
        raise RuntimeError(
            "cannot downgrade below 0004: connection(s) "
            f"{', '.join(other)} use an auth kind other than client_credentials"
        )
    with op.batch_alter_table("connections") as batch_op:
        for column in _OLD_COLUMNS:
            batch_op.add_column(sa.Column(column, sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("options", sa.JSON(), nullable=True))
    old = _table(*_OLD_COLUMNS, "options")
    for row in rows:
        document = row.settings
        auth = document["auth"]
        bind.execute(
            old.update()
            .where(old.c.id == row.id)
            .values(
                base_url=document["base_url"],
                token_url=auth["token_url"],
                client_id=auth["client_id"],
                secret_encrypted=auth["client_secret"][SEALED],
                scope=auth.get("scope"),
                ca_cert=document.get("ca_cert"),
                options=document.get("options") or {},
            )
        )
    with op.batch_alter_table("connections") as batch_op:
        for column in ("base_url", "token_url", "secret_encrypted", "options"):
            batch_op.alter_column(column, nullable=False)
        batch_op.alter_column(
            "client_id", type_=sa.String(length=200), existing_nullable=True, nullable=False
        )
        batch_op.drop_column("settings")
