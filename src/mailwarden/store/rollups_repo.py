"""Per-minute rollup counters: upserted by adding, in one transaction per flush; read by range.

Counts arrive as vectors: a key's minute with a count per core counter, one row of
rollup_counts (store/metrics_tables.py). Rows of one metric each are folded into such
vectors when the metric is a core counter and kept as rows of rollups when it is not
(bounce and deferral reasons).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any, Final

from sqlalchemy import Connection, Engine
from sqlalchemy.dialects import postgresql

from mailwarden.store.driver import sqlite_transaction
from mailwarden.store.engine import is_sqlite
from mailwarden.store.metrics_tables import rollup_counts, rollups
from mailwarden.store.rollup_metrics import COUNTER_METRICS, counter_column
from mailwarden.store.rollup_sums import rollup_sums

# (minute, dimension, key, metric) -> count
RollupKey = tuple[int, str, str, str]
# (minute, dimension, key, metric, count)
RollupRow = tuple[int, str, str, str, int]
# (minute, dimension, key, the count of each metric in order)
RollupVector = tuple[int | str, ...]

_SLOT: Final = {metric: slot for slot, metric in enumerate(COUNTER_METRICS)}
_SQLITE_ROW_UPSERT: Final = (
    "INSERT INTO rollups (minute, dimension, key, metric, count) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (minute, dimension, key, metric) DO UPDATE SET count = count + excluded.count"
)


def _checked(metrics: Sequence[str]) -> tuple[str, ...]:
    """The metrics, refused unless each is a core counter (a column of rollup_counts)."""
    for metric in metrics:
        if metric not in _SLOT:
            raise ValueError(f"not a rollup counter: {metric!r}")
    return tuple(metrics)


@lru_cache(maxsize=8)
def _sqlite_vector_upsert(metrics: tuple[str, ...]) -> str:
    """The upsert of one vector (the columns are checked counter names, not input)."""
    columns = [counter_column(metric) for metric in metrics]
    marks = ", ".join("?" * (3 + len(columns)))
    added = ", ".join(f"{column} = {column} + excluded.{column}" for column in columns)
    return (
        f"INSERT INTO rollup_counts (minute, dimension, key, {', '.join(columns)}) "  # noqa: S608
        f"VALUES ({marks}) ON CONFLICT (minute, dimension, key) DO UPDATE SET {added}"
    )


def spread(metrics: Sequence[str], vectors: Iterable[RollupVector]) -> Iterator[RollupRow]:
    """The non-zero counts of vectors as (minute, dimension, key, metric, count) rows."""
    for minute, dimension, key, *counts in vectors:
        for metric, count in zip(metrics, counts, strict=True):
            if count:
                yield int(minute), str(dimension), str(key), metric, int(count)


def _split(rows: Iterable[RollupRow]) -> tuple[list[RollupVector], list[RollupRow]]:
    """Rows of core counters as vectors over every counter; the other rows as they are."""
    vectors: dict[tuple[int, str, str], list[int]] = {}
    others: list[RollupRow] = []
    for minute, dimension, key, metric, count in rows:
        slot = _SLOT.get(metric)
        if slot is None:
            others.append((minute, dimension, key, metric, count))
            continue
        vector = vectors.get((minute, dimension, key))
        if vector is None:
            vector = vectors[(minute, dimension, key)] = [0] * len(COUNTER_METRICS)
        vector[slot] += count
    return [(*at, *counts) for at, counts in vectors.items()], others


class RollupStore:
    """Adds counters to the rollup tables and reads them back."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sqlite = is_sqlite(engine)

    def add(self, counts: Mapping[RollupKey, int]) -> None:
        """Add every counter, in one transaction."""
        self.add_rows([(*key, count) for key, count in counts.items() if count])

    def add_rows(self, rows: Sequence[RollupRow]) -> None:
        """Add (minute, dimension, key, metric, count) rows, in one transaction."""
        self.add_vectors((), (), rows)

    def add_vectors(
        self,
        metrics: Sequence[str],
        vectors: Sequence[RollupVector],
        rows: Sequence[RollupRow] = (),
    ) -> None:
        """Add vectors (minute, dimension, key, a count per metric, the metrics core
        counters) and rows of any metric, in one transaction."""
        batches = [(_checked(metrics), vectors)]
        folded, others = _split(rows)
        batches.append((COUNTER_METRICS, folded))
        if self._sqlite:
            with sqlite_transaction(self._engine) as cursor:
                for names, batch in batches:
                    if batch:
                        cursor.executemany(_sqlite_vector_upsert(names), batch)
                if others:
                    cursor.executemany(_SQLITE_ROW_UPSERT, others)
            return
        with self._engine.begin() as conn:
            for names, batch in batches:
                if batch:
                    _postgres_vectors(conn, names, batch)
            if others:
                _postgres_rows(conn, others)

    def rows(
        self, since_minute: int, until_minute: int | None = None
    ) -> Iterator[tuple[int, str, str, str, int]]:
        """Yield (minute, dimension, key, metric, count) rows from since_minute on."""
        for minute, dimension, key, metric, count in rollup_sums(
            self._engine, since_minute, until_minute
        ):
            yield int(minute or 0), dimension, key, metric, count

    def hours(
        self, since_minute: int, until_minute: int
    ) -> Iterator[tuple[int, str, str, str, int]]:
        """Yield (hour, dimension, key, metric, count) sums of the minutes in the range."""
        for hour, dimension, key, metric, count in rollup_sums(
            self._engine, since_minute, until_minute, bucket=60
        ):
            yield int(hour or 0), dimension, key, metric, count

    def total(self, dimension: str, key: str, metric: str) -> int:
        """The sum of one counter over all minutes."""
        found = rollup_sums(
            self._engine, None, None, [metric], bucket=None, dimension=dimension, key=key
        )
        return sum(row[4] for row in found)


def _postgres_vectors(
    conn: Connection, metrics: Sequence[str], vectors: Sequence[RollupVector]
) -> None:
    columns = ["minute", "dimension", "key", *(counter_column(m) for m in metrics)]
    statement = postgresql.insert(rollup_counts)
    added: dict[str, Any] = {
        column: rollup_counts.c[column] + statement.excluded[column] for column in columns[3:]
    }
    statement = statement.on_conflict_do_update(
        index_elements=["minute", "dimension", "key"], set_=added
    )
    conn.execute(statement, [dict(zip(columns, vector, strict=True)) for vector in vectors])


def _postgres_rows(conn: Connection, rows: Sequence[RollupRow]) -> None:
    statement = postgresql.insert(rollups)
    statement = statement.on_conflict_do_update(
        index_elements=["minute", "dimension", "key", "metric"],
        set_={"count": rollups.c.count + statement.excluded.count},
    )
    names = ("minute", "dimension", "key", "metric", "count")
    conn.execute(statement, [dict(zip(names, row, strict=True)) for row in rows])
