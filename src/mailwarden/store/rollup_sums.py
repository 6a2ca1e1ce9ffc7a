"""Rollup counters read back as (bucket, dimension, key, metric, count) rows, summed by bucket.

The core counters are columns of rollup_counts and the reason counters rows of rollups
(store/metrics_tables.py); readers see one shape for both. Every query is a range over the
tables' time-leading primary keys.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
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


def first_minute(engine: Engine, first: int, end: int) -> int | None:
    """The first minute in [first, end) with any counter (an index seek on each table)."""
    return _edge(engine, func.min, _Scope(first, end, None, None), min)


def last_minute(engine: Engine) -> int | None:
    """The latest minute with any counter (None when nothing is stored)."""
    return _edge(engine, func.max, _Scope(None, None, None, None), max)


def _edge(
    engine: Engine, aggregate: Any, scope: _Scope, pick: Callable[[list[int]], int]
) -> int | None:
    found: list[int] = []
    with engine.connect() as conn:
        for table in (rollup_counts, rollups):
            edge = conn.execute(scope.apply(select(aggregate(table.c.minute)), table)).scalar()
            if edge is not None:
                found.append(int(edge))
    return pick(found) if found else None


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


def _summed(group: list[ColumnElement[Any]], values: list[Any], bucket: int | None) -> Select[Any]:
    """The group's columns and its values, summed per group unless a bucket is one minute
    (each table holds one row per minute and key already: nothing to sum)."""
    if bucket == 1:
        return select(*group, *values)
    return select(*group, *(func.sum(value) for value in values)).group_by(*group)


def _core_sums(
    conn: Connection, scope: _Scope, metrics: Collection[str], bucket: int | None
) -> Iterator[SumRow]:
    table = rollup_counts
    group = [*_bucket(table, bucket), table.c.dimension, table.c.key]
    columns = [table.c[counter_column(metric)] for metric in metrics]
    query = scope.apply(_summed(group, columns, bucket), table)
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
    query = scope.apply(_summed(group, [table.c.count], bucket), table)
    if metrics is not None:
        query = query.where(table.c.metric.in_(metrics))
    offset = 1 if bucket is not None else 0
    for row in conn.execution_options(yield_per=5000).execute(query):
        count = int(row[offset + 3])
        if count:
            number = int(row[0]) if bucket is not None else None
            yield number, str(row[offset]), str(row[offset + 1]), str(row[offset + 2]), count
