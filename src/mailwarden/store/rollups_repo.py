"""Per-minute rollup counters: upsert-add in one executemany per batch, read back by range."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Final

from sqlalchemy import Engine, func, select
from sqlalchemy.dialects import postgresql

from mailwarden.store.driver import sqlite_executemany
from mailwarden.store.engine import is_sqlite
from mailwarden.store.metrics_tables import rollups

# (minute, dimension, key, metric) -> count
RollupKey = tuple[int, str, str, str]

_SQLITE_UPSERT: Final = (
    "INSERT INTO rollups (minute, dimension, key, metric, count) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (minute, dimension, key, metric) DO UPDATE SET count = count + excluded.count"
)


class RollupStore:
    """Adds counters to the rollups table and reads them back."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sqlite = is_sqlite(engine)

    def add(self, counts: Mapping[RollupKey, int]) -> None:
        """Add every counter in one statement (an upsert that adds to what is there)."""
        self.add_rows([(*key, count) for key, count in counts.items() if count])

    def add_rows(self, rows: Sequence[tuple[int, str, str, str, int]]) -> None:
        """Add (minute, dimension, key, metric, count) rows in one statement."""
        if not rows:
            return
        if self._sqlite:
            sqlite_executemany(self._engine, _SQLITE_UPSERT, rows)
            return
        with self._engine.begin() as conn:
            statement = postgresql.insert(rollups)
            statement = statement.on_conflict_do_update(
                index_elements=["minute", "dimension", "key", "metric"],
                set_={"count": rollups.c.count + statement.excluded.count},
            )
            names = ("minute", "dimension", "key", "metric", "count")
            conn.execute(statement, [dict(zip(names, row, strict=True)) for row in rows])

    def rows(
        self, since_minute: int, until_minute: int | None = None
    ) -> Iterator[tuple[int, str, str, str, int]]:
        """Yield (minute, dimension, key, metric, count) rows from since_minute on."""
        query = select(
            rollups.c.minute, rollups.c.dimension, rollups.c.key, rollups.c.metric, rollups.c.count
        ).where(rollups.c.minute >= since_minute)
        if until_minute is not None:
            query = query.where(rollups.c.minute < until_minute)
        with self._engine.connect() as conn:
            for row in conn.execution_options(yield_per=5000).execute(query):
                yield int(row[0]), str(row[1]), str(row[2]), str(row[3]), int(row[4])

    def hours(
        self, since_minute: int, until_minute: int
    ) -> Iterator[tuple[int, str, str, str, int]]:
        """Yield (hour, dimension, key, metric, count) sums of the minutes in the range."""
        hour = (rollups.c.minute // 60).label("hour")
        query = (
            select(
                hour,
                rollups.c.dimension,
                rollups.c.key,
                rollups.c.metric,
                func.sum(rollups.c.count),
            )
            .where(rollups.c.minute >= since_minute, rollups.c.minute < until_minute)
            .group_by(hour, rollups.c.dimension, rollups.c.key, rollups.c.metric)
        )
        with self._engine.connect() as conn:
            for row in conn.execution_options(yield_per=5000).execute(query):
                yield int(row[0]), str(row[1]), str(row[2]), str(row[3]), int(row[4])

    def total(self, dimension: str, key: str, metric: str) -> int:
        """The sum of one counter over all minutes."""
        query = select(func.coalesce(func.sum(rollups.c.count), 0)).where(
            rollups.c.dimension == dimension, rollups.c.key == key, rollups.c.metric == metric
        )
        with self._engine.connect() as conn:
            return int(conn.execute(query).scalar_one())
