"""Exposure: deliveries weighed by when their complaints and unsubscribes are due.

Complaints come minutes to days after delivery (feedback loops report them later still),
unsubscribes minutes to hours. "Complaints in the last hour / delivered in the last hour"
therefore swings with the sending pattern: after a blast ends, its complaints keep coming
while deliveries stop, and the ratio soars though nothing is wrong. Instead, a window's
complaints are compared with its *exposure*: the deliveries convolved with the lag from
delivery to complaint, modelled as a mix of two exponentials (most within hours, a tail
over days). The exposure of a window is the number of deliveries whose complaints would
fall in it, so complaints / exposure estimates the complaint rate of recent deliveries
whatever the rhythm. Each component is a first-order filter; a key is touched only in the
minutes it delivers (checkpoints), and any minute in between follows in closed form.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from typing import Final, Protocol

from mailwarden.metrics.counters import DELIVERED, Row
from mailwarden.metrics.rollup import ScopeKey

# rate -> ((weight, mean lag in minutes), ...): the lag from delivery to the event.
KERNELS: Final = {
    "complaint": ((0.7, 240.0), (0.3, 1800.0)),
    "unsubscribe": ((0.5, 60.0), (0.5, 360.0)),
}
RATES: Final = tuple(KERNELS)
WINDOWS: Final = (60, 240, 1440)
FORGET_AFTER: Final = 3 * 1440  # minutes without deliveries before a key is dropped
_KEEP: Final = max(WINDOWS) + 1
# One filter per (rate, component): (rate index, weight, decay per minute).
_FILTERS: Final = tuple(
    (index, weight, math.exp(-1.0 / mean))
    for index, rate in enumerate(RATES)
    for weight, mean in KERNELS[rate]
)
_GAIN: Final = tuple(decay / (1.0 - decay) for _i, _w, decay in _FILTERS)
# Per filter, for a delivery: (rate index, weight, decay, the share of a minute's deliveries
# that enters the level, weight * gain: what a level adds to the total as it decays away).
_STEPS: Final = tuple(
    (index, weight, decay, 1.0 - decay, weight * gain)
    for (index, weight, decay), gain in zip(_FILTERS, _GAIN, strict=True)
)
_NO_TOTALS: Final = (0.0,) * len(RATES)
_NO_LEVELS: Final = (0.0,) * len(_FILTERS)

# A checkpoint: (minute, per-rate running totals, per-filter levels), taken at the end of a
# minute with deliveries. Between checkpoints nothing is delivered, so the levels decay
# geometrically and the totals grow by a geometric sum: any minute's total is closed-form.
Checkpoint = tuple[int, tuple[float, ...], tuple[float, ...]]


class Exposure(Protocol):
    """Anything that tells the exposure of a trailing window."""

    def window(self, rate: str, minutes: int) -> float:
        """The exposure of the trailing window of `minutes`."""
        ...


def _at(mark: Checkpoint, minute: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Totals and levels at the end of `minute`, no deliveries since the checkpoint."""
    since = minute - mark[0]
    if since <= 0:
        return mark[1], mark[2]
    totals = list(mark[1])
    levels = []
    for (index, weight, decay), gain, level in zip(_FILTERS, _GAIN, mark[2], strict=True):
        fade = decay**since
        totals[index] += weight * level * gain * (1.0 - fade)
        levels.append(level * fade)
    return tuple(totals), tuple(levels)


class KeyExposure:
    """One key's exposure: checkpoints at the minutes it delivered, closed form between."""

    __slots__ = ("marks", "minutes", "now", "pruned")

    def __init__(self, now: int = 0) -> None:
        self.marks: list[Checkpoint] = []
        self.minutes: list[int] = []
        self.now = now  # the minute windows end at
        self.pruned = False

    def deliver(self, minute: int, delivered: int) -> None:
        """Record deliveries in `minute`."""
        marks = self.marks
        if not marks:
            totals, levels, since = _NO_TOTALS, _NO_LEVELS, 0
        else:
            last, totals, levels = marks[-1]
            if minute <= last:
                if minute == last:
                    marks[-1] = _merge(marks[-1], delivered)
                else:
                    self.late(minute, delivered)
                return
            since = minute - 1 - last  # quiet minutes since the checkpoint: decay first
        new_totals = list(totals)
        new_levels = []
        # levels has one entry per step by construction; this runs per key and minute
        for (index, weight, decay, entering, carry), level in zip(_STEPS, levels):  # noqa: B905
            if since:
                faded = level * decay**since
                new_totals[index] += carry * (level - faded)
                level = faded
            level = level * decay + delivered * entering
            new_totals[index] += weight * level
            new_levels.append(level)
        marks.append((minute, tuple(new_totals), tuple(new_levels)))
        self.minutes.append(minute)

    def late(self, minute: int, delivered: int) -> None:
        """Deliveries for a minute before the last checkpoint: add their weight from now on."""
        last = self.marks[-1]
        since = last[0] - minute
        totals = list(last[1])
        levels = list(last[2])
        for position, (index, weight, decay) in enumerate(_FILTERS):
            added = delivered * (1.0 - decay) * decay**since
            levels[position] += added
            totals[index] += weight * added
        self.marks[-1] = (last[0], tuple(totals), tuple(levels))

    def total(self, minute: int) -> tuple[float, ...]:
        """The running totals at the end of `minute`."""
        position = bisect_right(self.minutes, minute) - 1
        if position < 0:
            return (0.0,) * len(RATES)
        return _at(self.marks[position], minute)[0]

    def window(self, rate: str, minutes: int) -> float:
        """The exposure of the trailing window: deliveries whose events are due in it."""
        return self.span(rate, self.now - minutes + 1, self.now) or 0.0

    def span(self, rate: str, first: int, last: int) -> float | None:
        """The exposure of minutes [first, last] (None before what is kept)."""
        if self.pruned and first - 1 < self.minutes[0]:
            return None
        index = RATES.index(rate)
        return max(0.0, self.total(last)[index] - self.total(first - 1)[index])

    def prune(self, oldest: int) -> None:
        """Forget checkpoints no window needs (keeping the last one before `oldest`)."""
        cut = bisect_right(self.minutes, oldest) - 1
        if cut > 0:
            del self.marks[:cut]
            del self.minutes[:cut]
            self.pruned = True


def _merge(mark: Checkpoint, delivered: int) -> Checkpoint:
    """Add more deliveries to the checkpoint's own minute."""
    totals = list(mark[1])
    levels = list(mark[2])
    for position, (index, weight, decay) in enumerate(_FILTERS):
        added = delivered * (1.0 - decay)
        levels[position] += added
        totals[index] += weight * added
    return (mark[0], tuple(totals), tuple(levels))


class PastExposure:
    """A key's exposure as it was for windows ending at a past minute (late re-evaluation)."""

    def __init__(self, exposure: KeyExposure, last: int) -> None:
        self._exposure = exposure
        self._last = last

    def window(self, rate: str, minutes: int) -> float:
        """The exposure of the window of `minutes` ending at the past minute (0 if gone)."""
        found = self._exposure.span(rate, self._last - minutes + 1, self._last)
        return found if found is not None else 0.0


class ExposureBook:
    """Exposure of every key that delivered in the last few days."""

    def __init__(self) -> None:
        self.keys: dict[ScopeKey, KeyExposure] = {}
        self.through: int | None = None

    def add(self, rows: Mapping[tuple[ScopeKey, int], Row]) -> None:
        """Take the deliveries of a batch's rows (per key and minute)."""
        for (key, minute), row in rows.items():
            delivered = row[DELIVERED]
            if delivered:
                exposure = self.keys.get(key)
                if exposure is None:
                    exposure = self.keys[key] = KeyExposure(self.through or 0)
                exposure.deliver(minute, delivered)

    def load(self, rows: Iterable[tuple[int, str, str, str, int]]) -> None:
        """Take the deliveries of stored rollup rows (minute, dimension, key, metric, count)."""
        delivered = sorted((row for row in rows if row[3] == "delivered"), key=lambda r: r[0])
        for minute, dimension, name, _metric, count in delivered:
            exposure = self.keys.get((dimension, name))
            if exposure is None:
                exposure = self.keys[(dimension, name)] = KeyExposure(minute)
            exposure.deliver(minute, count)

    def advance(self, through: int) -> None:
        """Let every key's windows end at `through`; forget keys long without deliveries."""
        if self.through is not None and through <= self.through:
            return
        prune = self.through is None or through // 60 != self.through // 60
        self.through = through
        for key, exposure in list(self.keys.items()):
            exposure.now = through
            if prune:
                if exposure.minutes and through - exposure.minutes[-1] > FORGET_AFTER:
                    del self.keys[key]
                else:
                    exposure.prune(through - _KEEP)

    def get(self, key: ScopeKey) -> KeyExposure | None:
        """The exposure of one key."""
        return self.keys.get(key)
