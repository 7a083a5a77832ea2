"""template revisions: every template an integration ran with

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 15:00:00.000000

``accord template upgrade`` keeps the template it replaces as a revision row (the whole
stored spec, its name, version label and digest), so the history can be listed and an older
revision applied again. Existing integrations get their revision 1 when first upgraded.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from accord.state.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "template_revisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "integration_id",
            sa.Integer(),
            sa.ForeignKey("integrations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("template", sa.String(100), nullable=False),
        sa.Column("version", sa.String(100), nullable=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("applied_at", UTCDateTime(), nullable=False),
        sa.Column("replaced_at", UTCDateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
    )
    op.create_index(
        "ix_template_revisions", "template_revisions", ["integration_id", "revision"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ix_template_revisions", table_name="template_revisions")
    op.drop_table("template_revisions")
