"""A partial index on the event types a response reads by type (bounces, complaints,
unsubscribes), so finding an incident's complainers is not a scan of every event.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# ORs rather than IN: SQLite evaluates the WHERE of a partial index on every insert, and an
# IN list costs a temporary lookup table each time.
_WHERE = "(type = 'bounced' OR type = 'complained' OR type = 'unsubscribed')"


def upgrade() -> None:
    """Index (type, occurred_ms) of bounced, complained and unsubscribed events."""
    op.create_index(
        "ix_events_rare_type",
        "events",
        ["type", "occurred_ms"],
        sqlite_where=sa.text(_WHERE),
        postgresql_where=sa.text(_WHERE),
    )


def downgrade() -> None:
    """Drop the partial index."""
    op.drop_index("ix_events_rare_type", table_name="events")
