"""Incidents: incidents, append-only timeline, findings, roles, attachments, silences, outbox.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")
_SQLITE_GUARDS = (
    "CREATE TRIGGER incident_timeline_no_update BEFORE UPDATE ON incident_timeline "
    "BEGIN SELECT RAISE(ABORT, 'incident_timeline is append-only'); END",
    "CREATE TRIGGER incident_timeline_no_delete BEFORE DELETE ON incident_timeline "
    "BEGIN SELECT RAISE(ABORT, 'incident_timeline is append-only'); END",
)
_POSTGRES_GUARDS = (
    "CREATE FUNCTION incident_timeline_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'incident_timeline is append-only'; END; $$ LANGUAGE plpgsql",
    "CREATE TRIGGER incident_timeline_append_only BEFORE UPDATE OR DELETE ON incident_timeline "
    "FOR EACH ROW EXECUTE FUNCTION incident_timeline_append_only()",
)


def upgrade() -> None:
    """Create the incident tables and make the timeline append-only."""
    _incidents()
    _timeline()
    _links()
    _silences_and_outbox()
    guards = _POSTGRES_GUARDS if op.get_bind().dialect.name == "postgresql" else _SQLITE_GUARDS
    for statement in guards:
        op.execute(statement)


def downgrade() -> None:
    """Drop the incident tables."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS incident_timeline_append_only ON incident_timeline")
        op.execute("DROP FUNCTION IF EXISTS incident_timeline_append_only()")
    for table in (
        "notification_outbox",
        "silences",
        "incident_attachments",
        "incident_roles",
        "incident_findings",
        "incident_timeline",
        "incidents",
    ):
        op.drop_table(table)


def _incidents() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("scope_dimension", sa.Text, nullable=False),
        sa.Column("scope_key", sa.Text, nullable=False),
        sa.Column("lineage", sa.Text, nullable=False),
        sa.Column("started_ms", sa.BigInteger, nullable=False),
        sa.Column("detected_ms", sa.BigInteger, nullable=False),
        sa.Column("acknowledged_ms", sa.BigInteger),
        sa.Column("contained_ms", sa.BigInteger),
        sa.Column("eradicated_ms", sa.BigInteger),
        sa.Column("recovered_ms", sa.BigInteger),
        sa.Column("closed_ms", sa.BigInteger),
        sa.Column("reopened_ms", sa.BigInteger),
        sa.Column("reopen_count", sa.Integer, nullable=False),
        sa.Column("merged_into", sa.Integer, sa.ForeignKey("incidents.id")),
        sa.Column("affected_messages", sa.BigInteger),
        sa.Column("affected_recipients", sa.BigInteger),
        sa.Column("affected_campaigns", sa.Integer),
        sa.Column("affected_basis", sa.Text, nullable=False),
        sa.Column("last_signal_ms", sa.BigInteger),
        sa.Column("hold_since_ms", sa.BigInteger),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_incidents_state", "incidents", ["state", "id"])


def _timeline() -> None:
    op.create_table(
        "incident_timeline",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("at_ms", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("actor_kind", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_index("ix_incident_timeline_incident", "incident_timeline", ["incident_id", "id"])


def _links() -> None:
    op.create_table(
        "incident_findings",
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("dimension", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("relation", sa.Text, nullable=False),
        sa.Column("finding_id", sa.Integer),
        sa.Column("finding_count", sa.Integer, nullable=False),
        sa.Column("finding_severity", sa.Text, nullable=False),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("observed", sa.Float, nullable=False),
        sa.Column("expected", sa.Float, nullable=False),
        sa.Column("window_start_ms", sa.BigInteger, nullable=False),
        sa.Column("first_seen_ms", sa.BigInteger, nullable=False),
        sa.Column("last_seen_ms", sa.BigInteger, nullable=False),
        sa.Column("cleared_ms", sa.BigInteger),
        sa.Column("attached_ms", sa.BigInteger, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("roots", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("incident_id", "kind", "dimension", "key"),
    )
    op.create_index("ix_incident_findings_finding", "incident_findings", ["finding_id"])
    op.create_table(
        "incident_roles",
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("person", sa.Text, nullable=False),
        sa.Column("assigned_ms", sa.BigInteger, nullable=False),
        sa.Column("assigned_by", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("incident_id", "role"),
    )
    op.create_table(
        "incident_attachments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("content_type", sa.Text, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("uploaded_ms", sa.BigInteger, nullable=False),
        sa.Column("uploaded_by", sa.Text, nullable=False),
    )
    op.create_index("ix_incident_attachments_incident", "incident_attachments", ["incident_id"])


def _silences_and_outbox() -> None:
    op.create_table(
        "silences",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("kind_pattern", sa.Text, nullable=False),
        sa.Column("dimension_pattern", sa.Text, nullable=False),
        sa.Column("key_pattern", sa.Text, nullable=False),
        sa.Column("type_pattern", sa.Text, nullable=False),
        sa.Column("starts_ms", sa.BigInteger, nullable=False),
        sa.Column("expires_ms", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("remind_before_s", sa.Integer, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("reminded_ms", sa.BigInteger),
        sa.Column("expiry_notified_ms", sa.BigInteger),
        sa.Column("expired_by", sa.Text),
        sa.Column("matched_count", sa.Integer, nullable=False),
        sa.Column("last_matched_ms", sa.BigInteger),
    )
    op.create_index("ix_silences_expires", "silences", ["expires_ms"])
    op.create_table(
        "notification_outbox",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("recipient", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("sent_ms", sa.BigInteger),
    )
    op.create_index("ix_notification_outbox_unsent", "notification_outbox", ["sent_ms", "id"])
