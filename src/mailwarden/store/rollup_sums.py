"""Rollup counters read back as (bucket, dimension, key, metric, count) rows, summed by bucket.

The core counters are columns of rollup_counts and the reason counters rows of rollups
(store/metrics_tables.py); readers see one shape for both. Every query is a range over the
tables' time-leading primary keys.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any, Final

from sqlalchemy import Connection, Engine, Integer, Select, func, literal_column, select
from sqlalchemy.sql.elements import ColumnElement

from mailwarden.store.metrics_tables import rollup_counts, rollups
from mailwarden.store.rollup_metrics import COUNTER_METRICS, counter_column

# (bucket, dimension, key, metric, count); bucket is None for sums over the whole range
SumRow = tuple[int | None, str, str, str, int]
_COUNTERS: Final = frozenset(COUNTER_METRICS)


def rollup_sums(
    engine: Engine,
    first_minute: int | None,
    end_minute: int | None,
    metrics: Collection[str] | None = None,
    *,
    bucket: int | None = 1,
    dimension: str | None = None,
    key: str | None = None,
) -> Iterator[SumRow]:
    """Non-zero counters in [first_minute, end_minute) summed per bucket of minutes (bucket
    number = minute // bucket; None: the whole range), of the metrics (None: all)."""
    core = COUNTER_METRICS if metrics is None else [m for m in COUNTER_METRICS if m in metrics]
    scope = _Scope(first_minute, end_minute, dimension, key)
    with engine.connect() as conn:
        if core:
            yield from _core_sums(conn, scope, core, bucket)
        others = None if metrics is None else sorted(set(metrics) - _COUNTERS)
        if others is None or others:
            yield from _other_sums(conn, scope, others, bucket)


def minute_bounds(
    engine: Engine, first_minute: int | None = None, end_minute: int | None = None
) -> tuple[int | None, int | None]:
    """The first and the last minute in [first_minute, end_minute) with any counter."""
    scope = _Scope(first_minute, end_minute, None, None)
    lows: list[int] = []
    highs: list[int] = []
    with engine.connect() as conn:
        for table in (rollup_counts, rollups):
            query = scope.apply(select(func.min(table.c.minute), func.max(table.c.minute)), table)
            low, high = conn.execute(query).one()
            if low is not None:
                lows.append(int(low))
                highs.append(int(high))
    return (min(lows) if lows else None), (max(highs) if highs else None)


class _Scope:
    """The range and key filters of a query, applied to either table."""

    __slots__ = ("dimension", "end", "first", "key")

    def __init__(
        self, first: int | None, end: int | None, dimension: str | None, key: str | None
    ) -> None:
        self.first, self.end, self.dimension, self.key = first, end, dimension, key

    def apply(self, query: Select[Any], table: Any) -> Select[Any]:
        if self.first is not None:
            query = query.where(table.c.minute >= self.first)
        if self.end is not None:
            query = query.where(table.c.minute < self.end)
        if self.dimension is not None:
            query = query.where(table.c.dimension == self.dimension)
        if self.key is not None:
            query = query.where(table.c.key == self.key)
        return query


def _bucket(table: Any, bucket: int | None) -> list[ColumnElement[Any]]:
    if bucket is None:
        return []
    if bucket == 1:
        return [table.c.minute]
    # a literal divisor, so the grouped expression is the selected one on every database
    return [(table.c.minute // literal_column(str(int(bucket)), Integer)).label("bucket")]


def _core_sums(
    conn: Connection, scope: _Scope, metrics: Collection[str], bucket: int | None
) -> Iterator[SumRow]:
    table = rollup_counts
    group = [*_bucket(table, bucket), table.c.dimension, table.c.key]
    columns = [table.c[counter_column(metric)] for metric in metrics]
    if bucket == 1:  # one row per minute and key already: nothing to sum
        query = select(*group, *columns)
    else:
        query = select(*group, *(func.sum(column) for column in columns)).group_by(*group)
    query = scope.apply(query, table)
    offset = 1 if bucket is not None else 0
    for row in conn.execution_options(yield_per=5000).execute(query):
        number = int(row[0]) if bucket is not None else None
        dimension, name = str(row[offset]), str(row[offset + 1])
        for metric, count in zip(metrics, row[offset + 2 :], strict=True):
            if count:
                yield number, dimension, name, metric, int(count)


def _other_sums(
    conn: Connection, scope: _Scope, metrics: list[str] | None, bucket: int | None
) -> Iterator[SumRow]:
    table = rollups
    group = [*_bucket(table, bucket), table.c.dimension, table.c.key, table.c.metric]
    if bucket == 1:
        query = select(*group, table.c.count)
    else:
        query = select(*group, func.sum(table.c.count)).group_by(*group)
    if metrics is not None:
        query = query.where(table.c.metric.in_(metrics))
    query = scope.apply(query, table)
    offset = 1 if bucket is not None else 0
    for row in conn.execution_options(yield_per=5000).execute(query):
        count = int(row[offset + 3])
        if count:
            number = int(row[0]) if bucket is not None else None
            yield number, str(row[offset]), str(row[offset + 1]), str(row[offset + 2]), count
