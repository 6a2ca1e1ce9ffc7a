"""Detection: per-minute rollups by dimension and findings.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the detection tables."""
    op.create_table(
        "rollups",
        sa.Column("minute", sa.BigInteger, nullable=False),
        sa.Column("dimension", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("metric", sa.Text, nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("minute", "dimension", "key", "metric"),
    )
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("dimension", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("observed", sa.Float, nullable=False),
        sa.Column("expected", sa.Float, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("window_start_ms", sa.BigInteger, nullable=False),
        sa.Column("window_end_ms", sa.BigInteger, nullable=False),
        sa.Column("first_seen_ms", sa.BigInteger, nullable=False),
        sa.Column("last_seen_ms", sa.BigInteger, nullable=False),
        sa.Column("closed_ms", sa.BigInteger),
        sa.Column("sample_event_ids", sa.Text, nullable=False),
    )
    op.create_index("ix_findings_status", "findings", ["status", "kind"])
    op.create_index("ix_findings_first_seen", "findings", ["first_seen_ms"])


def downgrade() -> None:
    """Drop the detection tables."""
    op.drop_table("findings")
    op.drop_table("rollups")
