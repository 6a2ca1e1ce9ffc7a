"""In-memory per-minute and per-hour counters per (dimension, key), with running window sums.

The book is evaluated "through" a minute E (the last closed minute). Each key keeps the sums
of the short trailing windows (5, 15, 60 minutes) ending at the minute it was last read
through, and brings them up to E when a detector reads it (`Windows`): sliding minute by
minute, or summing afresh after a long gap. A tick therefore costs nothing for the keys no
detector looks at. Late events (minutes up to a key's sums) go straight into the sums of the
windows that contain them. Other windows are summed on demand: 30 minutes from the minutes,
4 hours and a day from the hours (hour-aligned, the current hour partial). Late events older
than the short windows mark their hour for a historic re-evaluation.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from operator import add
from typing import Final

from mailwarden.metrics.counters import (
    BOUNCED,
    COMPLAINED,
    DEFERRED,
    SLOT_OF,
    WIDTH,
    Row,
    empty_row,
    rising_mask,
)
from mailwarden.metrics.counters import UNSUBSCRIBED as UNSUB
from mailwarden.metrics.rollup import RollupBatch, ScopeKey, by_key

WINDOWS: Final = (5, 15, 60)  # kept as running sums
LAZY_WINDOWS: Final = (30, 240, 1440)  # summed on demand
DAY_HOURS: Final = 24
_ZERO: Final = (0,) * WIDTH


class KeySeries:
    """The counters of one (dimension, key): by minute, by hour, and trailing window sums."""

    __slots__ = (
        "day",
        "day_hour",
        "first_minute",
        "hours",
        "last_minute",
        "minutes",
        "sums",
        "sums_through",
        "total",
    )

    def __init__(self) -> None:
        self.minutes: dict[int, Row] = {}
        self.hours: dict[int, Row] = {}
        self.sums: dict[int, Row] = {w: empty_row() for w in WINDOWS}
        self.sums_through: int | None = None  # the minute the running sums end at
        self.day: Row = empty_row()  # complete hours (day_hour - 24, day_hour - 1]
        self.day_hour: int | None = None
        self.total: Row = empty_row()  # since the key was first seen
        self.first_minute: int | None = None
        self.last_minute: int | None = None

    def sync(self, through: int) -> dict[int, Row]:
        """The running window sums, brought forward to end at `through` (never backward)."""
        old = self.sums_through
        if old is None or through - old > WINDOWS[-1]:
            self._resum(through)
        elif through > old:
            _slide(self, old, through)
        else:
            return self.sums
        self.sums_through = through
        return self.sums

    def _resum(self, through: int) -> None:
        last = self.last_minute
        if last is None or last <= through - WINDOWS[-1]:
            if self.sums_through is not None:  # nothing in any window: all zero
                for sums in self.sums.values():
                    sums[:] = _ZERO
            return
        _recompute(self, through)

    def trailing_day(self, current_hour: int) -> Row:
        """The sums of the last 24 hours: complete hours plus the current partial hour."""
        if self.day_hour != current_hour:
            _recompute_day(self, current_hour)
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

    __slots__ = ("_cache", "_running", "_series", "_through")

    def __init__(self, series: KeySeries, through: int) -> None:
        self._series = series
        self._through = through
        self._running = series.sync(through)
        self._cache: dict[int, Row] = {}

    def __getitem__(self, minutes: int) -> Row:
        found = self.get(minutes)
        if found is None:
            raise KeyError(minutes)
        return found

    def get(self, minutes: int, default: Row | None = None) -> Row | None:  # type: ignore[override]
        """The window's sums, or default when it is not a window of ours (no abc detour)."""
        running = self._running.get(minutes)
        if running is not None:
            return running
        if minutes not in LAZY_WINDOWS:
            return default
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
        # keys that got events that can raise a rate (bounces, ...): the rising_mask of them
        self.alarmed: dict[ScopeKey, int] = {}
        self.late_hours: set[tuple[ScopeKey, int]] = set()
        self.parents: dict[str, str] = {}  # campaign -> its sending domain
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
            # every RISING_SLOTS counter is one of these four or part of one: a cheap first look
            if row[BOUNCED] or row[DEFERRED] or row[COMPLAINED] or row[UNSUB]:
                mask = rising_mask(row)
                if mask:
                    self.alarmed[key] = self.alarmed.get(key, 0) | mask
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
        row = series.minutes.get(minute)
        if row is None:
            row = series.minutes[minute] = empty_row()
        hour_row = series.hours.get(minute // 60)
        if hour_row is None:
            hour_row = series.hours[minute // 60] = empty_row()
        total = series.total
        for slot, count in enumerate(delta):
            if count:
                row[slot] += count
                hour_row[slot] += count
                total[slot] += count
        if series.first_minute is None or minute < series.first_minute:
            series.first_minute = minute
        if series.last_minute is None or minute > series.last_minute:
            series.last_minute = minute
        self.touched.add(key)
        summed = series.sums_through
        if summed is not None and minute <= summed:
            _add_to_sums(series, minute, delta, summed)
        day_hour = series.day_hour
        if day_hour is not None and day_hour - DAY_HOURS < minute // 60 < day_hour:
            series.day[:] = map(add, series.day, delta)
        through = self.evaluated_through
        if through is not None and minute <= through - WINDOWS[-1]:
            self.late_hours.add((key, minute // 60))

    def advance(self, through: int) -> None:
        """Move the evaluated-through minute forward (each key's sums follow when read)."""
        old = self.evaluated_through
        if old is not None and through <= old:
            return
        self.evaluated_through = through
        if old is None or through // 60 != old // 60:
            self._prune(through)

    def take_touched(self) -> tuple[set[ScopeKey], dict[ScopeKey, int]]:
        """Return and forget the keys that got data, and those that got events that can raise
        a rate (with the rising_mask of them), since."""
        touched, self.touched = self.touched, set()
        alarmed, self.alarmed = self.alarmed, {}
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


def _add_to_sums(series: KeySeries, minute: int, delta: Row, summed: int) -> None:
    """A late row, into the running sums (ending at `summed`) of the windows holding it."""
    for window, sums in series.sums.items():
        if minute > summed - window:
            sums[:] = map(add, sums, delta)


def _slide(series: KeySeries, old: int, through: int) -> None:
    # Rows are sparse (a few of the counters move in a minute): slot by slot, skipping zeros,
    # is about twice as fast as adding whole rows.
    minutes = series.minutes
    sums = series.sums
    for minute in range(old + 1, through + 1):
        entering = minutes.get(minute)
        if entering is not None:
            moved = [(slot, count) for slot, count in enumerate(entering) if count]
            for total in sums.values():
                for slot, count in moved:
                    total[slot] += count
        for window, total in sums.items():
            leaving = minutes.get(minute - window)
            if leaving is not None:
                for slot, count in enumerate(leaving):
                    if count:
                        total[slot] -= count


def _recompute(series: KeySeries, through: int) -> None:
    # The windows nest (5 in 15 in 60): one backward pass adds each minute once, and each
    # window's sums are a copy of the running total when the pass reaches its start.
    minutes = series.minutes
    total = empty_row()
    end = through + 1
    for window in WINDOWS:
        start = through - window + 1
        for minute in range(start, end):
            row = minutes.get(minute)
            if row is not None:
                total[:] = map(add, total, row)
        series.sums[window] = list(total)
        end = start


def _recompute_day(series: KeySeries, current_hour: int) -> None:
    day = empty_row()
    for _hour, row in series.hour_rows(current_hour - DAY_HOURS + 1, current_hour - 1):
        for slot in range(WIDTH):
            day[slot] += row[slot]
    series.day = day
    series.day_hour = current_hour
