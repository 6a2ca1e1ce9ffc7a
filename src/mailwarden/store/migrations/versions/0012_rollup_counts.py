"""The core rollup counters move to one row per (minute, dimension, key), a column each.

The detection engine writes every key's minute it counted: as one row per counter that was
five or so B-tree inserts of a text key, as one wide row it is one (about three times less
time on SQLite). Bounce and deferral reasons, open-ended and rare, stay rows of `rollups`.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Frozen here as they were when this migration was written (store/rollup_metrics.py).
_METRICS = (
    "queued",
    "delivered",
    "deferred",
    "deferred.first",
    "bounced",
    "bounced.hard",
    "bounced.soft",
    "bounced.block",
    "bounced.undetermined",
    "dropped",
    "complained",
    "unsubscribed",
    "opened",
    "opened.machine",
    "clicked",
)
_COLUMNS = {metric: metric.replace(".", "_") for metric in _METRICS}
_IN = "(" + ", ".join(f"'{metric}'" for metric in _METRICS) + ")"


def upgrade() -> None:
    """Create rollup_counts and move the core counters of rollups into it."""
    op.create_table(
        "rollup_counts",
        sa.Column("minute", sa.BigInteger, nullable=False),
        sa.Column("dimension", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        *(
            sa.Column(column, sa.BigInteger, nullable=False, server_default="0")
            for column in _COLUMNS.values()
        ),
        sa.PrimaryKeyConstraint("minute", "dimension", "key"),
        sqlite_with_rowid=False,
    )
    columns = ", ".join(_COLUMNS.values())
    pivot = ", ".join(
        f"SUM(CASE WHEN metric = '{metric}' THEN count ELSE 0 END)" for metric in _METRICS
    )
    # The statements are built from the constant names above, never from input.
    op.execute(
        f"INSERT INTO rollup_counts (minute, dimension, key, {columns}) "  # noqa: S608
        f"SELECT minute, dimension, key, {pivot} FROM rollups WHERE metric IN {_IN} "
        "GROUP BY minute, dimension, key"
    )
    op.execute(f"DELETE FROM rollups WHERE metric IN {_IN}")  # noqa: S608


def downgrade() -> None:
    """Move the core counters back into rollups, one row per non-zero counter."""
    for metric, column in _COLUMNS.items():
        op.execute(
            "INSERT INTO rollups (minute, dimension, key, metric, count) "  # noqa: S608
            f"SELECT minute, dimension, key, '{metric}', {column} FROM rollup_counts "
            f"WHERE {column} != 0"
        )
    op.drop_table("rollup_counts")
