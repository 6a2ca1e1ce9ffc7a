"""Actions: action runs, suppressions, quarantines, sending gate rules, warm-up plans.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the actions tables."""
    op.create_table(
        "action_runs",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, nullable=False, unique=True),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("risk", sa.Text, nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("plan", sa.Text, nullable=False),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("approved_by", sa.Text),
        sa.Column("executed_by", sa.Text),
        sa.Column("incident_id", sa.Text),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("result", sa.Text),
        sa.Column("provider_response_id", sa.Text),
        sa.Column("error_kind", sa.Text),
        sa.Column("error_message", sa.Text),
        sa.Column("verified", sa.Boolean),
        sa.Column("undo_result", sa.Text),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_action_runs_incident", "action_runs", ["incident_id"])
    op.create_index("ix_action_runs_state", "action_runs", ["state", "updated_ms"])
    op.create_table(
        "action_steps",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("step", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("approved_by", sa.Text),
        sa.Column("incident_id", sa.Text),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("result", sa.Text),
        sa.Column("provider_response_id", sa.Text),
        sa.Column("error_kind", sa.Text),
        sa.Column("error_message", sa.Text),
        sa.Column("at_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_action_steps_key", "action_steps", ["key", "seq"])
    op.create_index("ix_action_steps_incident", "action_steps", ["incident_id", "seq"])
    op.create_table(
        "suppressions",
        sa.Column("address", sa.Text, primary_key=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("source_incident", sa.Text),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("run_key", sa.Text),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("expires_ms", sa.BigInteger),
    )
    op.create_index("ix_suppressions_expires", "suppressions", ["expires_ms"])


def downgrade() -> None:
    """Drop the actions tables."""
    op.drop_table("suppressions")
    op.drop_table("action_steps")
    op.drop_table("action_runs")
