"""Recovery: quarantined segments, sending gate rules, warm-up plans, delisting requests.

Also approvals of action runs and the log of reminders that went out.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_TABLES = (
    "gate_reminders",
    "delisting_requests",
    "warmup_plans",
    "quarantines",
    "sending_pauses",
    "action_approvals",
)


def upgrade() -> None:
    """Create the recovery tables."""
    _approvals()
    _gate_rules()
    _warmups()
    _delistings_and_reminders()


def downgrade() -> None:
    """Drop the recovery tables."""
    for table in _TABLES:
        op.drop_table(table)


def _approvals() -> None:
    op.create_table(
        "action_approvals",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, nullable=False, unique=True),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("risk", sa.Text, nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("plan", sa.Text, nullable=False),
        sa.Column("incident_id", sa.Text),
        sa.Column("step_id", sa.Text),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("requested_ms", sa.BigInteger, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("rule", sa.Text),
        sa.Column("decided_by", sa.Text),
        sa.Column("decided_ms", sa.BigInteger),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_index("ix_action_approvals_state", "action_approvals", ["state", "requested_ms"])
    op.create_index("ix_action_approvals_incident", "action_approvals", ["incident_id"])


def _gate_rules() -> None:
    op.create_table(
        "sending_pauses",
        sa.Column("run_key", sa.Text, primary_key=True),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("incident_id", sa.Text),
        sa.Column("expires_ms", sa.BigInteger),
        sa.Column("resumed_ms", sa.BigInteger),
        sa.Column("resumed_by", sa.Text),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_sending_pauses_open", "sending_pauses", ["resumed_ms", "scope"])
    op.create_table(
        "quarantines",
        sa.Column("run_key", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("incident_id", sa.Text),
        sa.Column("expires_ms", sa.BigInteger),
        sa.Column("released_ms", sa.BigInteger),
        sa.Column("released_by", sa.Text),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_quarantines_open", "quarantines", ["released_ms", "kind"])


def _warmups() -> None:
    op.create_table(
        "warmup_plans",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("started_ms", sa.BigInteger, nullable=False),
        sa.Column("normal", sa.Text, nullable=False),
        sa.Column("schedules", sa.Text, nullable=False),
        sa.Column("basis", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("incident_id", sa.Text),
        sa.Column("source_run", sa.Text),
        sa.Column("cancelled_ms", sa.BigInteger),
        sa.Column("cancelled_by", sa.Text),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_warmup_plans_started", "warmup_plans", ["started_ms"])


def _delistings_and_reminders() -> None:
    op.create_table(
        "delisting_requests",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("blocklist", sa.Text, nullable=False),
        sa.Column("listed_item", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("incident_id", sa.Text),
        sa.Column("reference", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("requested_ms", sa.BigInteger, nullable=False),
        sa.Column("delisted_ms", sa.BigInteger),
        sa.Column("updated_by", sa.Text),
        sa.Column("updated_ms", sa.BigInteger),
    )
    op.create_index(
        "ix_delisting_requests_status", "delisting_requests", ["status", "requested_ms"]
    )
    op.create_table(
        "gate_reminders",
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("incident_id", sa.Text),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("at_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("subject", "kind"),
    )
    op.create_index("ix_gate_reminders_at", "gate_reminders", ["at_ms"])
