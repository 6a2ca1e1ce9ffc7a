"""Action tables: one row per action run (by idempotency key), its append-only steps, and
Mailwarden's own suppression list."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, Table, Text

from mailwarden.store.tables import metadata

# One row per idempotency key: the run's parameters, state and outcome. Updated in place
# as the run moves; its history is in action_steps.
action_runs = Table(
    "action_runs",
    metadata,
    Column("id", Text, primary_key=True),
    Column("key", Text, nullable=False, unique=True),
    Column("action", Text, nullable=False),
    Column("provider", Text, nullable=False),
    Column("risk", Text, nullable=False),
    Column("params", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("plan", Text, nullable=False),
    Column("requested_by", Text, nullable=False),
    Column("approved_by", Text),
    Column("executed_by", Text),
    Column("incident_id", Text),
    Column("attempts", Integer, nullable=False),
    Column("result", Text),
    Column("provider_response_id", Text),
    Column("error_kind", Text),
    Column("error_message", Text),
    Column("verified", Boolean),
    Column("undo_result", Text),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)
Index("ix_action_runs_incident", action_runs.c.incident_id)
Index("ix_action_runs_state", action_runs.c.state, action_runs.c.updated_ms)

# Append-only: one row per step (plan, execute, verify, undo) of a run; never updated.
action_steps = Table(
    "action_steps",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("provider", Text, nullable=False),
    Column("step", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("approved_by", Text),
    Column("incident_id", Text),
    Column("params", Text, nullable=False),
    Column("result", Text),
    Column("provider_response_id", Text),
    Column("error_kind", Text),
    Column("error_message", Text),
    Column("at_ms", BigInteger, nullable=False),
)
Index("ix_action_steps_key", action_steps.c.key, action_steps.c.seq)
Index("ix_action_steps_incident", action_steps.c.incident_id, action_steps.c.seq)

# Mailwarden's own suppression list: one row per (lower-cased) address.
suppressions = Table(
    "suppressions",
    metadata,
    Column("address", Text, primary_key=True),
    Column("reason", Text, nullable=False),
    Column("source_incident", Text),
    Column("created_by", Text, nullable=False),
    Column("run_key", Text),
    Column("created_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger),
)
Index("ix_suppressions_expires", suppressions.c.expires_ms)
