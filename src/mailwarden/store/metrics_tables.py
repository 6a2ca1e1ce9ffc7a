"""Detection tables: per-minute rollups by dimension and the findings detectors raise."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, PrimaryKeyConstraint, Table, Text

from mailwarden.store.rollup_metrics import COUNTER_METRICS, counter_column
from mailwarden.store.tables import metadata

# One row per (minute, dimension, key) with every counter, upserted by adding (migration
# 0012): a key's minute is one row, written in one B-tree insert. A time-leading key keeps
# inserts nearly sequential and makes "the last N days" a range scan; on SQLite the table
# is clustered on that key (WITHOUT ROWID).
rollup_counts = Table(
    "rollup_counts",
    metadata,
    Column("minute", BigInteger, nullable=False),
    Column("dimension", Text, nullable=False),
    Column("key", Text, nullable=False),
    *(
        Column(counter_column(metric), BigInteger, nullable=False, server_default="0")
        for metric in COUNTER_METRICS
    ),
    PrimaryKeyConstraint("minute", "dimension", "key"),
    sqlite_with_rowid=False,
)

# Every other counter (bounce and deferral reasons: open-ended names, rare) as one row per
# (minute, dimension, key, metric), clustered the same way (migration 0010).
rollups = Table(
    "rollups",
    metadata,
    Column("minute", BigInteger, nullable=False),
    Column("dimension", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("metric", Text, nullable=False),
    Column("count", BigInteger, nullable=False),
    PrimaryKeyConstraint("minute", "dimension", "key", "metric"),
    sqlite_with_rowid=False,
)

findings = Table(
    "findings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", Text, nullable=False),
    Column("dimension", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("severity", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("observed", Float, nullable=False),
    Column("expected", Float, nullable=False),
    Column("evidence", Text, nullable=False),
    Column("window_start_ms", BigInteger, nullable=False),
    Column("window_end_ms", BigInteger, nullable=False),
    Column("first_seen_ms", BigInteger, nullable=False),
    Column("last_seen_ms", BigInteger, nullable=False),
    Column("closed_ms", BigInteger),
    Column("sample_event_ids", Text, nullable=False),
)
Index("ix_findings_status", findings.c.status, findings.c.kind)
Index("ix_findings_first_seen", findings.c.first_seen_ms)
