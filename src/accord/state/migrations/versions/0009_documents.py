"""Document engine tables

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 18:00:00.000000

``document_lines``: the target lines of a coupled document, planned before they are written
(found again by position after a crash). ``document_events``: each document's history, an
event once per ``once_key``. ``document_settings``: values of a document mapping's settings.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from accord.state.types import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document_lines",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "coupling_id",
            sa.Integer(),
            sa.ForeignKey("couplings.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("target_id", sa.String(length=100), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.UniqueConstraint("coupling_id", "position", name="uq_document_line_position"),
    )
    op.create_index("ix_document_lines_key", "document_lines", ["coupling_id", "source_key"])
    op.create_table(
        "document_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "mapping_id",
            sa.Integer(),
            sa.ForeignKey("table_mappings.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "coupling_id",
            sa.Integer(),
            sa.ForeignKey("couplings.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("once_key", sa.String(length=200), nullable=True),
        sa.Column("job_id", sa.String(length=36), nullable=True),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("mapping_id", "once_key", name="uq_document_event_once"),
    )
    op.create_index("ix_document_events_coupling", "document_events", ["coupling_id", "id"])
    op.create_table(
        "document_settings",
        sa.Column(
            "mapping_id",
            sa.Integer(),
            sa.ForeignKey("table_mappings.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("name", sa.String(length=60), primary_key=True),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("document_settings")
    op.drop_index("ix_document_events_coupling", table_name="document_events")
    op.drop_table("document_events")
    op.drop_index("ix_document_lines_key", table_name="document_lines")
    op.drop_table("document_lines")
