"""Raw payloads (with the dead-letter queue), canonical events and webhook replay tokens.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the first tables."""
    op.create_table(
        "raw_payloads",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("received_ms", sa.BigInteger, nullable=False),
        sa.Column("headers", sa.Text, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("verified", sa.Boolean, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("event_count", sa.Integer, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_raw_payloads_status", "raw_payloads", ["status", "id"])
    op.create_table(
        "events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("occurred_ms", sa.BigInteger, nullable=False),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("recipient", sa.Text),
        sa.Column("mailbox_provider", sa.Text, nullable=False),
        sa.Column("sending_domain", sa.Text),
        sa.Column("sending_ip", sa.Text),
        sa.Column("campaign", sa.Text),
        sa.Column("bounce_class", sa.Text),
        sa.Column("bounce_reason", sa.Text),
        sa.Column("raw_id", sa.Integer),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ux_events_occurred_id", "events", ["occurred_ms", "id"], unique=True)
    op.create_table(
        "webhook_tokens",
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("token", sa.Text, nullable=False),
        sa.Column("seen_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("provider", "token"),
    )
    op.create_index("ix_webhook_tokens_seen", "webhook_tokens", ["seen_ms"])


def downgrade() -> None:
    """Drop the first tables."""
    op.drop_table("webhook_tokens")
    op.drop_table("events")
    op.drop_table("raw_payloads")
