"""Read-only sums of the per-minute rollups, for the console: by hour, and by minute bucket.

Every query is a range over the rollups' time-leading primary key, restricted to the
counters asked for; nothing here reads the events table.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

from sqlalchemy import Engine, select

from mailwarden.store import rollup_sums as sums
from mailwarden.store.metrics_tables import findings

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
        found = sums.rollup_sums(
            self._engine,
            first_minute,
            end_minute,
            metrics,
            bucket=bucket_minutes,
            dimension=dimension,
            key=key,
        )
        return [
            (int(number or 0), dim, name, metric, count)
            for number, dim, name, metric, count in found
        ]

    def totals(
        self, first_minute: int, end_minute: int, metrics: Collection[str]
    ) -> list[tuple[str, str, str, int]]:
        """Counters (dimension, key, metric, count) summed over [first_minute, end_minute)."""
        found = sums.rollup_sums(self._engine, first_minute, end_minute, metrics, bucket=None)
        return [(dimension, key, metric, count) for _n, dimension, key, metric, count in found]

    def last_minute(self) -> int | None:
        """The latest minute that has any counter (None for an empty table)."""
        return sums.last_minute(self._engine)

    def first_minute_in(self, first_minute: int, end_minute: int) -> int | None:
        """The first minute in [first_minute, end_minute) with any counter (an index seek)."""
        return sums.first_minute(self._engine, first_minute, end_minute)

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
