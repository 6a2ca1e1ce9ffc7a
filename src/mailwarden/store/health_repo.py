"""Read-only sums of the per-minute rollups, for the console: by hour, and by minute bucket.

Every query is a range over the rollups' time-leading primary key, restricted to the
counters asked for; nothing here reads the events table.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

from sqlalchemy import Engine, Integer, func, literal_column, select

from mailwarden.store.metrics_tables import findings, rollups

# (bucket, dimension, key, metric, count)
BucketRow = tuple[int, str, str, str, int]
MINUTES_PER_HOUR: Final = 60


class RollupReader:
    """Sums rollup counters over time buckets."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def by_bucket(
        self,
        first_minute: int,
        end_minute: int,
        bucket_minutes: int,
        metrics: Collection[str],
        *,
        dimension: str | None = None,
        key: str | None = None,
    ) -> list[BucketRow]:
        """Counters summed per bucket of minutes in [first_minute, end_minute).

        The bucket is the bucket's first minute divided by bucket_minutes (an hour number
        when bucket_minutes is 60); dimension and key narrow the result when given.
        """
        # a literal divisor, so the grouped expression is the selected one on every database
        divisor = literal_column(str(int(bucket_minutes)), Integer)
        bucket = (rollups.c.minute // divisor).label("bucket")
        query = (
            select(bucket, rollups.c.dimension, rollups.c.key, rollups.c.metric)
            .add_columns(func.sum(rollups.c.count))
            .where(
                rollups.c.minute >= first_minute,
                rollups.c.minute < end_minute,
                rollups.c.metric.in_(sorted(metrics)),
            )
            .group_by(bucket, rollups.c.dimension, rollups.c.key, rollups.c.metric)
        )
        if dimension is not None:
            query = query.where(rollups.c.dimension == dimension)
        if key is not None:
            query = query.where(rollups.c.key == key)
        with self._engine.connect() as conn:
            return [
                (int(row[0]), str(row[1]), str(row[2]), str(row[3]), int(row[4]))
                for row in conn.execute(query)
            ]

    def totals(
        self, first_minute: int, end_minute: int, metrics: Collection[str]
    ) -> list[tuple[str, str, str, int]]:
        """Counters (dimension, key, metric, count) summed over [first_minute, end_minute)."""
        query = (
            select(rollups.c.dimension, rollups.c.key, rollups.c.metric)
            .add_columns(func.sum(rollups.c.count))
            .where(
                rollups.c.minute >= first_minute,
                rollups.c.minute < end_minute,
                rollups.c.metric.in_(sorted(metrics)),
            )
            .group_by(rollups.c.dimension, rollups.c.key, rollups.c.metric)
        )
        with self._engine.connect() as conn:
            return [(str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in conn.execute(query)]

    def last_minute(self) -> int | None:
        """The latest minute that has any counter (None for an empty table)."""
        with self._engine.connect() as conn:
            found = conn.execute(select(func.max(rollups.c.minute))).scalar_one()
        return int(found) if found is not None else None

    def first_minute_in(self, first_minute: int, end_minute: int) -> int | None:
        """The first minute in [first_minute, end_minute) with any counter (an index seek)."""
        query = select(func.min(rollups.c.minute)).where(
            rollups.c.minute >= first_minute, rollups.c.minute < end_minute
        )
        with self._engine.connect() as conn:
            found = conn.execute(query).scalar_one()
        return int(found) if found is not None else None

    def recent_finding_ids(
        self, limit: int, *, status: str | None = None, kind: str | None = None
    ) -> list[int]:
        """The ids of the findings first seen most recently (of a status, a kind), newest first."""
        query = (
            select(findings.c.id)
            .order_by(findings.c.first_seen_ms.desc(), findings.c.id.desc())
            .limit(limit)
        )
        if status:
            query = query.where(findings.c.status == status)
        if kind:
            query = query.where(findings.c.kind == kind)
        with self._engine.connect() as conn:
            return [int(row[0]) for row in conn.execute(query)]
