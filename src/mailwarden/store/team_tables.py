"""Team tables (people, custom roles, rotas, overrides, escalation policies) and incident tasks.
Migration 0006 creates the same shape."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    Table,
    Text,
    UniqueConstraint,
)

from mailwarden.store.tables import metadata

team_people = Table(
    "team_people",
    metadata,
    Column("handle", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("timezone", Text),
    Column("contacts", Text, nullable=False),  # JSON [{"channel": ..., "address": ...}]
    Column("updated_ms", BigInteger, nullable=False),
)

team_roles = Table(
    "team_roles",
    metadata,
    Column("name", Text, primary_key=True),
    Column("description", Text, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

team_rotas = Table(
    "team_rotas",
    metadata,
    Column("name", Text, primary_key=True),
    Column("rotation", Text, nullable=False),
    Column("handoff", Text, nullable=False),  # HH:MM local time
    Column("timezone", Text, nullable=False),
    Column("starts_on", Text, nullable=False),  # ISO date of turn 0
    Column("members", Text, nullable=False),  # JSON list of handles, in turn order
    Column("description", Text, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

team_rota_overrides = Table(
    "team_rota_overrides",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rota", Text, ForeignKey("team_rotas.name"), nullable=False),
    Column("person", Text, nullable=False),
    Column("starts_ms", BigInteger, nullable=False),
    Column("ends_ms", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)
Index("ix_team_rota_overrides_rota", team_rota_overrides.c.rota, team_rota_overrides.c.ends_ms)

team_escalation_policies = Table(
    "team_escalation_policies",
    metadata,
    Column("name", Text, primary_key=True),
    Column("levels", Text, nullable=False),  # JSON [{"targets": ["rota:x"], "after_minutes": n}]
    Column("repeat_count", Integer, nullable=False),
    Column("description", Text, nullable=False),
    Column("incident_types", Text, nullable=False),  # JSON list; empty: all
    Column("severities", Text, nullable=False),  # JSON list; empty: all
    Column("updated_ms", BigInteger, nullable=False),
)

incident_tasks = Table(
    "incident_tasks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("step_id", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("phase", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("due_rule", Text, nullable=False),
    Column("due_ms", BigInteger),
    Column("mandatory", Boolean, nullable=False),
    Column("action", Text),
    Column("action_params", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("done_by", Text),
    Column("done_ms", BigInteger),
    Column("note", Text, nullable=False),
    Column("playbook", Text, nullable=False),
    Column("playbook_version", Integer, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    UniqueConstraint("incident_id", "step_id", name="ux_incident_tasks_step"),
)
Index("ix_incident_tasks_open", incident_tasks.c.state, incident_tasks.c.due_ms)
