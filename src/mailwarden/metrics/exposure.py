"""Exposure: deliveries weighed by when their complaints and unsubscribes are due.

Complaints come minutes to days after delivery (feedback loops report them later still),
unsubscribes minutes to hours. "Complaints in the last hour / delivered in the last hour"
therefore swings with the sending pattern: after a blast ends, its complaints keep coming
while deliveries stop, and the ratio soars though nothing is wrong. Instead, a window's
complaints are compared with its *exposure*: the deliveries convolved with the lag from
delivery to complaint, modelled as a mix of two exponentials (most within hours, a tail
over days). The exposure of a window is the number of deliveries whose complaints would
fall in it, so complaints / exposure estimates the complaint rate of recent deliveries
whatever the rhythm. Each component is a first-order filter: one multiply-add a minute.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Final

from mailwarden.metrics.counters import DELIVERED
from mailwarden.metrics.rollup import ScopeKey
from mailwarden.metrics.series import SeriesBook

# rate -> ((weight, mean lag in minutes), ...): the lag from delivery to the event.
KERNELS: Final = {
    "complaint": ((0.7, 240.0), (0.3, 1800.0)),
    "unsubscribe": ((0.7, 60.0), (0.3, 720.0)),
}
RATES: Final = tuple(KERNELS)
WINDOWS: Final = (60, 240, 1440)
FORGET_AFTER: Final = 3 * 1440  # minutes without deliveries before a key is dropped
_RING: Final = max(WINDOWS) + 1
_C_FAST, _C_SLOW = KERNELS["complaint"]
_U_FAST, _U_SLOW = KERNELS["unsubscribe"]
_DECAY: Final = tuple(math.exp(-1.0 / mean) for _w, mean in (_C_FAST, _C_SLOW, _U_FAST, _U_SLOW))


class KeyExposure:
    """One key's filter levels and the running total of its exposure, minute by minute.

    The exposure of a window is the difference of the running totals at its two ends; a
    ring keeps the totals of the last day of minutes.
    """

    __slots__ = ("levels", "minute", "ring", "total", "last_delivery")

    def __init__(self, minute: int) -> None:
        self.levels = [0.0, 0.0, 0.0, 0.0]
        self.total = (0.0, 0.0)
        self.ring: list[tuple[float, float]] = [(0.0, 0.0)] * _RING
        self.minute = minute  # the last minute stepped
        self.last_delivery = minute

    def step(self, minute: int, delivered: int) -> None:
        """Advance to `minute`, in which `delivered` messages were delivered."""
        a, b, c, d = _DECAY
        levels = self.levels
        cf = levels[0] * a + delivered * (1.0 - a)
        cs = levels[1] * b + delivered * (1.0 - b)
        uf = levels[2] * c + delivered * (1.0 - c)
        us = levels[3] * d + delivered * (1.0 - d)
        levels[:] = (cf, cs, uf, us)
        complaint, unsubscribe = self.total
        self.total = (
            complaint + _C_FAST[0] * cf + _C_SLOW[0] * cs,
            unsubscribe + _U_FAST[0] * uf + _U_SLOW[0] * us,
        )
        self.ring[minute % _RING] = self.total
        self.minute = minute

    def skip(self, minutes: int) -> None:
        """Let the levels decay over minutes the ring no longer needs."""
        self.levels[:] = [level * decay**minutes for level, decay in zip(self.levels, _DECAY)]

    def late(self, delivered: int, minutes_ago: int) -> None:
        """Add deliveries that arrived late, as their weight would be by now."""
        for index, decay in enumerate(_DECAY):
            self.levels[index] += delivered * (1.0 - decay) * decay**minutes_ago

    def window(self, rate: str, minutes: int) -> float:
        """The exposure of the trailing window: deliveries whose events are due in it."""
        index = 0 if rate == "complaint" else 1
        before = self.ring[(self.minute - minutes) % _RING][index]
        return max(0.0, self.total[index] - before)


class ExposureBook:
    """Exposure of every key that delivered in the last few days."""

    def __init__(self) -> None:
        self.keys: dict[ScopeKey, KeyExposure] = {}
        self.through: int | None = None

    def advance(self, book: SeriesBook, through: int, touched: Iterable[ScopeKey]) -> None:
        """Step every live key to `through`, taking deliveries from the series book."""
        old = self.through
        if old is not None and through <= old:
            return
        start = through - 1 if old is None else old
        for key in touched:
            if key not in self.keys:
                self.keys[key] = KeyExposure(start)
        for key, exposure in list(self.keys.items()):
            series = book.get(key)
            minutes = series.minutes if series is not None else {}
            first = max(exposure.minute + 1, through - _RING + 1)
            if first > exposure.minute + 1:
                exposure.skip(first - exposure.minute - 1)
            for minute in range(first, through + 1):
                row = minutes.get(minute)
                delivered = row[DELIVERED] if row is not None else 0
                if delivered:
                    exposure.last_delivery = minute
                exposure.step(minute, delivered)
            if through - exposure.last_delivery > FORGET_AFTER:
                del self.keys[key]
        self.through = through

    def late(self, key: ScopeKey, minute: int, delivered: int) -> None:
        """Account for deliveries in a minute the exposure already stepped past."""
        exposure = self.keys.get(key)
        if exposure is not None:
            exposure.late(delivered, exposure.minute - minute)

    def get(self, key: ScopeKey) -> KeyExposure | None:
        """The exposure of one key."""
        return self.keys.get(key)
