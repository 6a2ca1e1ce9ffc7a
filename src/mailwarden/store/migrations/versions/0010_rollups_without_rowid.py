"""On SQLite the rollups table is clustered on its primary key (WITHOUT ROWID).

An upsert into a rowid table with a text primary key writes two B-trees (the table and the
key's index); clustered on the key it writes one, and a range of minutes is one scan. The
detection engine upserts every rollup counter it keeps, so this halves the cost of a flush.
PostgreSQL is unchanged.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_COLUMNS = (
    "minute BIGINT NOT NULL, dimension TEXT NOT NULL, key TEXT NOT NULL, metric TEXT NOT NULL, "
    "count BIGINT NOT NULL, PRIMARY KEY (minute, dimension, key, metric)"
)


def _rebuild(options: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(f"CREATE TABLE rollups_rebuilt ({_COLUMNS}){options}")
    op.execute(
        "INSERT INTO rollups_rebuilt (minute, dimension, key, metric, count) "
        "SELECT minute, dimension, key, metric, count FROM rollups"
    )
    op.execute("DROP TABLE rollups")
    op.execute("ALTER TABLE rollups_rebuilt RENAME TO rollups")


def upgrade() -> None:
    """Rebuild the SQLite rollups table clustered on its primary key."""
    _rebuild(" WITHOUT ROWID")


def downgrade() -> None:
    """Rebuild the SQLite rollups table as an ordinary rowid table."""
    _rebuild("")
