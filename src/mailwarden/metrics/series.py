"""In-memory per-minute and per-hour counters per (dimension, key), with running window sums.

The book is evaluated "through" a minute E (the last closed minute). For every active key it
keeps the sums of the short trailing windows (5, 15, 60 minutes) ending at E up to date as E
advances, and adds late events (minutes <= E) straight into the sums of the windows that
contain them. Other windows are summed when a detector asks (`Windows`): 30 minutes from the
minutes, 4 hours and a day from the hours (hour-aligned, the current hour partial). Late
events older than the short windows mark their hour for a historic re-evaluation.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from operator import add, sub
from typing import Final

from mailwarden.metrics.counters import (
    BOUNCED,
    COMPLAINED,
    DEFERRED,
    DROPPED,
    SLOT_OF,
    WIDTH,
    Row,
    empty_row,
)
from mailwarden.metrics.counters import UNSUBSCRIBED as UNSUB
from mailwarden.metrics.rollup import RollupBatch, ScopeKey, by_key

WINDOWS: Final = (5, 15, 60)  # kept as running sums
LAZY_WINDOWS: Final = (30, 240, 1440)  # summed on demand
DAY_HOURS: Final = 24


class KeySeries:
    """The counters of one (dimension, key): by minute, by hour, and trailing window sums."""

    __slots__ = ("day", "first_minute", "hours", "last_minute", "minutes", "sums", "total")

    def __init__(self) -> None:
        self.minutes: dict[int, Row] = {}
        self.hours: dict[int, Row] = {}
        self.sums: dict[int, Row] = {w: empty_row() for w in WINDOWS}
        self.day: Row = empty_row()  # complete hours (H - 24, H - 1]
        self.total: Row = empty_row()  # since the key was first seen
        self.first_minute: int | None = None
        self.last_minute: int | None = None

    def trailing_day(self, current_hour: int) -> Row:
        """The sums of the last 24 hours: complete hours plus the current partial hour."""
        partial = self.hours.get(current_hour)
        if partial is None:
            return list(self.day)
        return [a + b for a, b in zip(self.day, partial, strict=True)]

    def lazy(self, minutes: int, through: int) -> Row:
        """The sums of a window that is not kept running (hour-aligned when whole hours)."""
        if minutes == DAY_HOURS * 60:
            return self.trailing_day(through // 60)
        total = empty_row()
        if minutes >= 120 and minutes % 60 == 0:
            hour = through // 60
            rows = (row for _h, row in self.hour_rows(hour - minutes // 60 + 1, hour))
        else:
            found = (self.minutes.get(m) for m in range(through - minutes + 1, through + 1))
            rows = (row for row in found if row is not None)
        for row in rows:
            total[:] = map(add, total, row)
        return total

    def hour_rows(self, first: int, last: int) -> Iterable[tuple[int, Row]]:
        """The hourly rows in [first, last] that hold data."""
        hours = self.hours
        if last - first + 1 > len(hours):
            return sorted((h, row) for h, row in hours.items() if first <= h <= last)
        return ((h, hours[h]) for h in range(first, last + 1) if h in hours)


class Windows(Mapping[int, Row]):
    """A key's window sums ending at a minute: running ones as kept, the others on demand."""

    __slots__ = ("_cache", "_series", "_through")

    def __init__(self, series: KeySeries, through: int) -> None:
        self._series = series
        self._through = through
        self._cache: dict[int, Row] = {}

    def __getitem__(self, minutes: int) -> Row:
        running = self._series.sums.get(minutes)
        if running is not None:
            return running
        if minutes not in LAZY_WINDOWS:
            raise KeyError(minutes)
        found = self._cache.get(minutes)
        if found is None:
            found = self._cache[minutes] = self._series.lazy(minutes, self._through)
        return found

    def __iter__(self) -> Iterator[int]:
        return iter((*WINDOWS, *LAZY_WINDOWS))

    def __len__(self) -> int:
        return len(WINDOWS) + len(LAZY_WINDOWS)


class SeriesBook:
    """Every key's series, the evaluated-through minute, and what changed since the last look."""

    def __init__(self, minute_horizon: int = 26 * 60, hour_horizon: int = 24 * 7 * 5) -> None:
        self.series: dict[ScopeKey, KeySeries] = {}
        self.evaluated_through: int | None = None
        self.touched: set[ScopeKey] = set()
        self.alarmed: set[ScopeKey] = set()  # keys that got "bad" events (bounces, ...)
        self.late_hours: set[tuple[ScopeKey, int]] = set()
        self.parents: dict[str, str] = {}  # campaign -> its sending domain
        self._active: set[ScopeKey] = set()
        self._minute_horizon = max(minute_horizon, max(WINDOWS) + 1)
        self._hour_horizon = max(hour_horizon, DAY_HOURS + 2)

    def get(self, key: ScopeKey) -> KeySeries | None:
        """The series of one key, if it has ever had data."""
        return self.series.get(key)

    def add(self, batch: RollupBatch, rows: dict[tuple[ScopeKey, int], Row] | None = None) -> None:
        """Add a batch (or its rows already summed per key and minute) to every key."""
        for _minute, domain, campaign, _provider, _ip in batch.cells:
            if campaign and domain:
                self.parents[campaign] = domain
        for (key, minute), row in (rows if rows is not None else by_key(batch)).items():
            if row[BOUNCED] or row[DEFERRED] or row[DROPPED] or row[COMPLAINED] or row[UNSUB]:
                self.alarmed.add(key)
            self._add_row(key, minute, row)

    def load(self, rows: Iterable[tuple[int, str, str, str, int]]) -> int:
        """Add stored rollup rows (minute, dimension, key, metric, count); return how many."""
        loaded = 0
        for minute, dimension, name, metric, count in rows:
            slot = SLOT_OF.get(metric)
            if slot is not None:
                self._add_one((dimension, name), minute, (slot,), count)
                loaded += 1
        return loaded

    def load_hours(self, rows: Iterable[tuple[int, str, str, str, int]]) -> int:
        """Add stored hourly sums (hour, dimension, key, metric, count) to history only."""
        loaded = 0
        for hour, dimension, name, metric, count in rows:
            slot = SLOT_OF.get(metric)
            if slot is None:
                continue
            series = self.series.get((dimension, name))
            if series is None:
                series = self.series[(dimension, name)] = KeySeries()
            series.hours.setdefault(hour, empty_row())[slot] += count
            series.total[slot] += count
            first = hour * 60
            if series.first_minute is None or first < series.first_minute:
                series.first_minute = first
            loaded += 1
        return loaded

    def _add_one(self, key: ScopeKey, minute: int, slots: tuple[int, ...], count: int) -> None:
        delta = empty_row()
        for slot in slots:
            delta[slot] += count
        self._add_row(key, minute, delta)

    def _add_row(self, key: ScopeKey, minute: int, delta: Row) -> None:
        series = self.series.get(key)
        if series is None:
            series = self.series[key] = KeySeries()
        counts = [(slot, count) for slot, count in enumerate(delta) if count]
        row = series.minutes.get(minute)
        if row is None:
            series.minutes[minute] = list(delta)
        else:
            for slot, count in counts:
                row[slot] += count
        hour = minute // 60
        hour_row = series.hours.get(hour)
        if hour_row is None:
            series.hours[hour] = list(delta)
        else:
            for slot, count in counts:
                hour_row[slot] += count
        total = series.total
        for slot, count in counts:
            total[slot] += count
        if series.first_minute is None or minute < series.first_minute:
            series.first_minute = minute
        if series.last_minute is None or minute > series.last_minute:
            series.last_minute = minute
        self.touched.add(key)
        self._active.add(key)
        through = self.evaluated_through
        if through is not None and minute <= through:
            self._add_late(key, series, minute, delta, through)

    def _add_late(
        self, key: ScopeKey, series: KeySeries, minute: int, delta: Row, through: int
    ) -> None:
        for window, sums in series.sums.items():
            if minute > through - window:
                sums[:] = map(add, sums, delta)
        hour = minute // 60
        current = through // 60
        if current - DAY_HOURS < hour < current:
            series.day[:] = map(add, series.day, delta)
        if minute <= through - WINDOWS[-1]:
            self.late_hours.add((key, hour))

    def advance(self, through: int) -> None:
        """Move the evaluated-through minute forward, updating every active key's sums."""
        old = self.evaluated_through
        if old is not None and through <= old:
            return
        self.evaluated_through = through
        for key in list(self._active):
            series = self.series[key]
            if old is None or through - old > WINDOWS[-1]:
                _recompute(series, through)
            else:
                _slide(series, old, through)
            if old is None or through // 60 != old // 60:
                _recompute_day(series, through // 60)
            if series.last_minute is None or series.last_minute <= through - WINDOWS[-1]:
                self._active.discard(key)
        if old is None or through // 60 != old // 60:
            self._prune(through)

    def take_touched(self) -> tuple[set[ScopeKey], set[ScopeKey]]:
        """Return and forget the keys that got data, and those that got bad events, since."""
        touched, self.touched = self.touched, set()
        alarmed, self.alarmed = self.alarmed, set()
        return touched, alarmed

    def take_late_hours(self) -> set[tuple[ScopeKey, int]]:
        """Return and forget the (key, hour) pairs that got late data outside the short windows."""
        late, self.late_hours = self.late_hours, set()
        return late

    def _prune(self, through: int) -> None:
        oldest_minute = through - self._minute_horizon
        oldest_hour = through // 60 - self._hour_horizon
        for series in self.series.values():
            stale = [m for m in series.minutes if m < oldest_minute]
            for minute in stale:
                del series.minutes[minute]
            if series.hours and min(series.hours) < oldest_hour:
                for hour in [h for h in series.hours if h < oldest_hour]:
                    del series.hours[hour]


def _slide(series: KeySeries, old: int, through: int) -> None:
    minutes = series.minutes
    sums = series.sums
    for minute in range(old + 1, through + 1):
        entering = minutes.get(minute)
        for window, total in sums.items():
            leaving = minutes.get(minute - window)
            if entering is not None:
                total[:] = map(add, total, entering)
            if leaving is not None:
                total[:] = map(sub, total, leaving)


def _recompute(series: KeySeries, through: int) -> None:
    minutes = series.minutes
    for window in WINDOWS:
        sums = empty_row()
        for minute in range(through - window + 1, through + 1):
            row = minutes.get(minute)
            if row is not None:
                for slot in range(WIDTH):
                    sums[slot] += row[slot]
        series.sums[window] = sums


def _recompute_day(series: KeySeries, current_hour: int) -> None:
    day = empty_row()
    for _hour, row in series.hour_rows(current_hour - DAY_HOURS + 1, current_hour - 1):
        for slot in range(WIDTH):
            day[slot] += row[slot]
    series.day = day
