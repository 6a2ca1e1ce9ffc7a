"""Containment and recovery tables: approvals, the gate's rules, delisting requests, reminders."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, PrimaryKeyConstraint, Table, Text

from mailwarden.store.tables import metadata

# One approval per action run (by idempotency key); decided once, never deleted.
action_approvals = Table(
    "action_approvals",
    metadata,
    Column("id", Text, primary_key=True),
    Column("key", Text, nullable=False, unique=True),
    Column("action", Text, nullable=False),
    Column("risk", Text, nullable=False),
    Column("params", Text, nullable=False),
    Column("plan", Text, nullable=False),
    Column("incident_id", Text),
    Column("step_id", Text),
    Column("requested_by", Text, nullable=False),
    Column("requested_ms", BigInteger, nullable=False),
    Column("state", Text, nullable=False),
    Column("rule", Text),
    Column("decided_by", Text),
    Column("decided_ms", BigInteger),
    Column("reason", Text, nullable=False),
)
Index("ix_action_approvals_state", action_approvals.c.state, action_approvals.c.requested_ms)
Index("ix_action_approvals_incident", action_approvals.c.incident_id)

# Paused scopes at the sending gate, one row per pausing run; resumed rows stay.
sending_pauses = Table(
    "sending_pauses",
    metadata,
    Column("run_key", Text, primary_key=True),
    Column("scope", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("incident_id", Text),
    Column("expires_ms", BigInteger),
    Column("resumed_ms", BigInteger),
    Column("resumed_by", Text),
    Column("updated_ms", BigInteger, nullable=False),
)
Index("ix_sending_pauses_open", sending_pauses.c.resumed_ms, sending_pauses.c.scope)

# Quarantined list segments and import batches, one row per quarantining run.
quarantines = Table(
    "quarantines",
    metadata,
    Column("run_key", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("incident_id", Text),
    Column("expires_ms", BigInteger),
    Column("released_ms", BigInteger),
    Column("released_by", Text),
    Column("updated_ms", BigInteger, nullable=False),
)
Index("ix_quarantines_open", quarantines.c.released_ms, quarantines.c.kind)

# Warm-up plans: normal volume per provider and the day-by-day ramp (JSON).
warmup_plans = Table(
    "warmup_plans",
    metadata,
    Column("id", Text, primary_key=True),
    Column("scope", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("started_ms", BigInteger, nullable=False),
    Column("normal", Text, nullable=False),
    Column("schedules", Text, nullable=False),
    Column("basis", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("incident_id", Text),
    Column("source_run", Text),
    Column("cancelled_ms", BigInteger),
    Column("cancelled_by", Text),
    Column("updated_ms", BigInteger, nullable=False),
)
Index("ix_warmup_plans_started", warmup_plans.c.started_ms)

# Delisting requests for blocklistings.
delisting_requests = Table(
    "delisting_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("blocklist", Text, nullable=False),
    Column("listed_item", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("incident_id", Text),
    Column("reference", Text, nullable=False),
    Column("note", Text, nullable=False),
    Column("requested_by", Text, nullable=False),
    Column("requested_ms", BigInteger, nullable=False),
    Column("delisted_ms", BigInteger),
    Column("updated_by", Text),
    Column("updated_ms", BigInteger),
)
Index(
    "ix_delisting_requests_status", delisting_requests.c.status, delisting_requests.c.requested_ms
)

# Reminders that went out, so each (subject, kind) goes out once.
gate_reminders = Table(
    "gate_reminders",
    metadata,
    Column("subject", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("incident_id", Text),
    Column("text", Text, nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("subject", "kind"),
)
Index("ix_gate_reminders_at", gate_reminders.c.at_ms)
