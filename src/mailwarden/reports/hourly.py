"""Hourly sums of the rollups' core counters for every (dimension, key), cached per process.

An hour is read from the minute rollups once it has ended (plus a settle delay) and read
again once more when it is `final_after` old, to take in the webhook stragglers that
arrive late; after that it is final. Hours still open are read live on every request.
So the console's trailing-day and trailing-week figures cost a few small range scans,
not a scan of a week of minutes, and nothing here ever reads events.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from mailwarden.metrics.counters import SLOT_OF, SLOTS, Row, add_into, empty_row
from mailwarden.store.health_repo import RollupReader

ScopeKey = tuple[str, str]
HourRows = dict[ScopeKey, Row]
HOUR: Final = 60
RECENT_MINUTES: Final = 2 * HOUR
REREAD_MINUTES: Final = 5


@dataclass(slots=True)
class _Cached:
    rows: HourRows
    final: bool


class HourlyRollups:
    """Per-hour core counters of every key, from the minute rollups, cached once settled."""

    def __init__(
        self,
        reader: RollupReader,
        *,
        settle_minutes: int = 10,
        final_after_minutes: int = 6 * 60,
        keep_hours: int = 8 * 24,
    ) -> None:
        self._reader = reader
        self._settle = settle_minutes
        self._final_after = final_after_minutes
        self._keep = keep_hours
        self._hours: dict[int, _Cached] = {}
        self._minutes: dict[int, HourRows] = {}
        self._through: int | None = None  # the last minute read into self._minutes
        self._lock = threading.Lock()

    def hours(self, first: int, last: int, now_minute: int) -> dict[int, HourRows]:
        """The rows of every hour in [first, last] (hours with no data map to {})."""
        wanted = range(first, last + 1)
        with self._lock:
            self._read_recent(now_minute)
            fresh = {h: self._from_minutes(h) for h in wanted if not self._settled(h, now_minute)}
            refill = self._filled_since(wanted)
            stale = (
                h
                for h in wanted
                if h not in fresh and (h in refill or not self._usable(h, now_minute))
            )
            for start, end in _runs(stale):
                fresh.update(self._load(start, end, now_minute))
            found = {h: fresh[h] if h in fresh else self._hours[h].rows for h in wanted}
            self._prune(now_minute // HOUR)
        return found

    def minutes(
        self, first_minute: int, end_minute: int, bucket: int, scope: ScopeKey
    ) -> dict[int, Row]:
        """One key's counters summed per bucket of minutes (live from the rollups)."""
        rows: dict[int, Row] = {}
        found = self._reader.by_bucket(
            first_minute, end_minute, bucket, SLOTS, dimension=scope[0], key=scope[1]
        )
        for number, _dimension, _key, metric, count in found:
            rows.setdefault(number, empty_row())[SLOT_OF[metric]] += count
        return rows

    def trailing(self, minutes: int, now_minute: int) -> HourRows:
        """Every key's counters summed over the last `minutes` minutes up to now_minute."""
        if minutes > RECENT_MINUTES:
            raise ValueError(f"at most {RECENT_MINUTES} trailing minutes are kept")
        with self._lock:
            self._read_recent(now_minute)
            return _total(
                self._minutes.get(m, {}) for m in range(now_minute - minutes + 1, now_minute + 1)
            )

    def _read_recent(self, now_minute: int) -> None:
        """Keep the last RECENT_MINUTES minutes; re-read only the newest few (late stragglers)."""
        first = now_minute - RECENT_MINUTES + 1
        through = self._through
        if through == now_minute:  # read already in this minute: at most a minute behind
            return
        if through is None or through > now_minute or through < first:
            start = first
            self._minutes.clear()
        else:
            start = max(first, through - REREAD_MINUTES + 1)
        fresh: dict[int, HourRows] = {minute: {} for minute in range(start, now_minute + 1)}
        for minute, dimension, key, metric, count in self._reader.by_bucket(
            start, now_minute + 1, 1, SLOTS
        ):
            fresh[minute].setdefault((dimension, key), empty_row())[SLOT_OF[metric]] += count
        self._minutes.update(fresh)
        for minute in [m for m in self._minutes if m < first]:
            del self._minutes[minute]
        self._through = now_minute

    def _from_minutes(self, hour: int) -> HourRows:
        return _total(self._minutes.get(m, {}) for m in range(hour * HOUR, (hour + 1) * HOUR))

    @property
    def reader(self) -> RollupReader:
        """The rollup queries this cache reads through."""
        return self._reader

    def is_empty(self) -> bool:
        """True when no rollup has ever been written (a fresh install)."""
        return self._reader.last_minute() is None

    def clear(self) -> None:
        """Forget everything (e.g. after a bulk load into past hours)."""
        with self._lock:
            self._hours.clear()
            self._minutes.clear()
            self._through = None

    def _usable(self, hour: int, now_minute: int) -> bool:
        cached = self._hours.get(hour)
        if cached is None:
            return False
        return cached.final or now_minute < (hour + 1) * HOUR + self._final_after

    def _filled_since(self, hours: range) -> set[int]:
        """Cached-empty hours that have data now (a bulk load, a replay): one seek per run."""
        empty = [h for h in hours if h in self._hours and not self._hours[h].rows]
        filled: set[int] = set()
        for start, end in _runs(empty):
            first = self._reader.first_minute_in(start * HOUR, (end + 1) * HOUR)
            if first is not None:
                filled.update(h for h in range(first // HOUR, end + 1) if h in self._hours)
        return filled

    def _settled(self, hour: int, now_minute: int) -> bool:
        return now_minute >= (hour + 1) * HOUR + self._settle

    def _load(self, first: int, last: int, now_minute: int) -> dict[int, HourRows]:
        loaded: dict[int, HourRows] = {hour: {} for hour in range(first, last + 1)}
        found = self._reader.by_bucket(first * HOUR, (last + 1) * HOUR, HOUR, SLOTS)
        for hour, dimension, key, metric, count in found:
            row = loaded[hour].setdefault((dimension, key), empty_row())
            row[SLOT_OF[metric]] += count
        for hour, rows in loaded.items():
            if self._settled(hour, now_minute):  # open hours are summed from recent minutes
                final = now_minute >= (hour + 1) * HOUR + self._final_after
                self._hours[hour] = _Cached(rows, final)
        return loaded

    def _prune(self, current_hour: int) -> None:
        oldest = current_hour - self._keep
        for hour in [h for h in self._hours if h < oldest]:
            del self._hours[hour]


def _total(parts: Iterable[HourRows]) -> HourRows:
    """Sum rows key by key."""
    total: HourRows = {}
    for part in parts:
        for scope, row in part.items():
            found = total.get(scope)
            if found is None:
                total[scope] = list(row)
            else:
                add_into(found, row)
    return total


def _runs(hours: Iterable[int]) -> Iterator[tuple[int, int]]:
    """Contiguous runs of sorted hours as (first, last) pairs."""
    start: int | None = None
    previous = 0
    for hour in sorted(hours):
        if start is None:
            start = previous = hour
        elif hour == previous + 1:
            previous = hour
        else:
            yield start, previous
            start = previous = hour
    if start is not None:
        yield start, previous
