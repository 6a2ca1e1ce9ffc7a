"""Incident tables: incidents, their append-only timeline, findings, roles, attachments,
silences and the notification outbox. Migration 0003 creates the same shape."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    Table,
    Text,
)

from mailwarden.store.tables import metadata

_ID = BigInteger().with_variant(Integer, "sqlite")

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("type", Text, nullable=False),
    Column("severity", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("origin", Text, nullable=False),
    Column("scope_dimension", Text, nullable=False),
    Column("scope_key", Text, nullable=False),
    Column("lineage", Text, nullable=False),
    Column("started_ms", BigInteger, nullable=False),
    Column("detected_ms", BigInteger, nullable=False),
    Column("acknowledged_ms", BigInteger),
    Column("contained_ms", BigInteger),
    Column("eradicated_ms", BigInteger),
    Column("recovered_ms", BigInteger),
    Column("closed_ms", BigInteger),
    Column("reopened_ms", BigInteger),
    Column("reopen_count", Integer, nullable=False),
    Column("merged_into", Integer, ForeignKey("incidents.id")),
    Column("affected_messages", BigInteger),
    Column("affected_recipients", BigInteger),
    Column("affected_campaigns", Integer),
    Column("affected_basis", Text, nullable=False),
    Column("last_signal_ms", BigInteger),
    Column("hold_since_ms", BigInteger),
    Column("updated_ms", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
)
Index("ix_incidents_state", incidents.c.state, incidents.c.id)

# Append-only: the repository only inserts, and database triggers refuse UPDATE and DELETE.
incident_timeline = Table(
    "incident_timeline",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("kind", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("actor_kind", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("note", Text, nullable=False),
    Column("data", Text, nullable=False),
)
Index("ix_incident_timeline_incident", incident_timeline.c.incident_id, incident_timeline.c.id)

incident_findings = Table(
    "incident_findings",
    metadata,
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False),
    Column("kind", Text, nullable=False),
    Column("dimension", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("relation", Text, nullable=False),
    Column("finding_id", Integer),
    Column("finding_count", Integer, nullable=False),
    Column("finding_severity", Text, nullable=False),
    Column("severity", Text, nullable=False),
    Column("observed", Float, nullable=False),
    Column("expected", Float, nullable=False),
    Column("window_start_ms", BigInteger, nullable=False),
    Column("first_seen_ms", BigInteger, nullable=False),
    Column("last_seen_ms", BigInteger, nullable=False),
    Column("cleared_ms", BigInteger),
    Column("attached_ms", BigInteger, nullable=False),
    Column("evidence", Text, nullable=False),
    Column("roots", Text, nullable=False),
    PrimaryKeyConstraint("incident_id", "kind", "dimension", "key"),
)
Index("ix_incident_findings_finding", incident_findings.c.finding_id)

incident_roles = Table(
    "incident_roles",
    metadata,
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False),
    Column("role", Text, nullable=False),
    Column("person", Text, nullable=False),
    Column("assigned_ms", BigInteger, nullable=False),
    Column("assigned_by", Text, nullable=False),
    PrimaryKeyConstraint("incident_id", "role"),
)

incident_attachments = Table(
    "incident_attachments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False),
    Column("filename", Text, nullable=False),
    Column("content_type", Text, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("uploaded_ms", BigInteger, nullable=False),
    Column("uploaded_by", Text, nullable=False),
)
Index("ix_incident_attachments_incident", incident_attachments.c.incident_id)

silences = Table(
    "silences",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("owner", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("kind_pattern", Text, nullable=False),
    Column("dimension_pattern", Text, nullable=False),
    Column("key_pattern", Text, nullable=False),
    Column("type_pattern", Text, nullable=False),
    Column("starts_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("remind_before_s", Integer, nullable=False),
    Column("channel", Text, nullable=False),
    Column("reminded_ms", BigInteger),
    Column("expiry_notified_ms", BigInteger),
    Column("expired_by", Text),
    Column("matched_count", Integer, nullable=False),
    Column("last_matched_ms", BigInteger),
)
Index("ix_silences_expires", silences.c.expires_ms)

notification_outbox = Table(
    "notification_outbox",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("channel", Text, nullable=False),
    Column("recipient", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("topic", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("sent_ms", BigInteger),
)
Index("ix_notification_outbox_unsent", notification_outbox.c.sent_ms, notification_outbox.c.id)
