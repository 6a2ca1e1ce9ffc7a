"""Team and response: people, rotas, escalation policies, playbook tasks, SLA clocks.

SLA clocks keep no table of their own: what fired is on the incident timeline.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the team tables."""
    _people_and_roles()
    _rotas_and_policies()
    _tasks()


def downgrade() -> None:
    """Drop the team tables."""
    for table in (
        "incident_tasks",
        "team_escalation_policies",
        "team_rota_overrides",
        "team_rotas",
        "team_roles",
        "team_people",
    ):
        op.drop_table(table)


def _people_and_roles() -> None:
    op.create_table(
        "team_people",
        sa.Column("handle", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("timezone", sa.Text),
        sa.Column("contacts", sa.Text, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "team_roles",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )


def _rotas_and_policies() -> None:
    op.create_table(
        "team_rotas",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("rotation", sa.Text, nullable=False),
        sa.Column("handoff", sa.Text, nullable=False),
        sa.Column("timezone", sa.Text, nullable=False),
        sa.Column("starts_on", sa.Text, nullable=False),
        sa.Column("members", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "team_rota_overrides",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("rota", sa.Text, sa.ForeignKey("team_rotas.name"), nullable=False),
        sa.Column("person", sa.Text, nullable=False),
        sa.Column("starts_ms", sa.BigInteger, nullable=False),
        sa.Column("ends_ms", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_team_rota_overrides_rota", "team_rota_overrides", ["rota", "ends_ms"])
    op.create_table(
        "team_escalation_policies",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("levels", sa.Text, nullable=False),
        sa.Column("repeat_count", sa.Integer, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("incident_types", sa.Text, nullable=False),
        sa.Column("severities", sa.Text, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )


def _tasks() -> None:
    op.create_table(
        "incident_tasks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("step_id", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("phase", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("due_rule", sa.Text, nullable=False),
        sa.Column("due_ms", sa.BigInteger),
        sa.Column("mandatory", sa.Boolean, nullable=False),
        sa.Column("action", sa.Text),
        sa.Column("action_params", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("done_by", sa.Text),
        sa.Column("done_ms", sa.BigInteger),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("playbook", sa.Text, nullable=False),
        sa.Column("playbook_version", sa.Integer, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("incident_id", "step_id", name="ux_incident_tasks_step"),
    )
    op.create_index("ix_incident_tasks_open", "incident_tasks", ["state", "due_ms"])
