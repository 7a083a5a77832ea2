"""webhook subscriptions and the inbox of verified deliveries

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 15:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from accord.state.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("connection", sa.String(100), nullable=False),
        sa.Column("remote_id", sa.String(100), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("client_state_hash", sa.String(64), nullable=False),
        sa.Column("notification_url", sa.Text(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("connection", "remote_id"),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("delivery_key", sa.String(64), nullable=False, unique=True),
        sa.Column("connection", sa.String(100), nullable=False),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("record_id", sa.String(100), nullable=True),
        sa.Column("change", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("processed_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_webhook_deliveries_pending", "webhook_deliveries", ["status", "id"])


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_pending", "webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_subscriptions")
