"""Volume baselines: how many sends a key usually makes around this hour, and when it bursts.

The same hour and its neighbours (an hour either side) on earlier days (or, with two weeks
of history, earlier weeks) give the median and the low (second smallest). The high (second
largest) looks three hours either side, since scheduled blasts move by hours from day to
day. A key's *busy hours* are the hours of the day within two hours of any hour that ever
burst (five times its median hour) and, for a key with a daily rhythm (some hours of the
day usually at most half its median hour), every hour that is not one of those night
hours: a blast at six in the evening from a sender that blasts at ten is its working day,
a blast at three in the morning is not. Outside busy hours a burst is unusual in itself,
inside them only a burst beyond the biggest hours seen (the peak) is. Second largest and
smallest throughout, so one past incident in the history does not move them.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Final

from mailwarden.metrics.counters import Row, sends
from mailwarden.metrics.series import KeySeries

WEEK_HOURS: Final = 24 * 7
WIDE_HOURS: Final = 3
BUSY_SPREAD: Final = 2
BURST_FACTOR: Final = 5.0
NIGHT_SHARE: Final = 0.5  # an hour of the day usually at most this share of the median hour


@dataclass(frozen=True, slots=True)
class VolumeBaseline:
    """Sends per hour usually seen around this hour, and whether blasts happen around now."""

    median: float
    high: float
    low: float
    peak: float
    busy: bool
    bursty: bool  # ever burst (scheduled blasts): a missing blast is no drop
    source: str
    samples: int
    days: int


def sends_in(series: KeySeries, hour: int) -> int:
    """Sends of one key in one hour."""
    row: Row | None = series.hours.get(hour)
    return sends(row) if row is not None else 0


def volume_baseline(series: KeySeries, hour: int, min_samples: int = 3) -> VolumeBaseline | None:
    """The key's usual volume at this hour, from earlier days or weeks; None without history."""
    if series.first_minute is None:
        return None
    age_days = (hour - series.first_minute // 60) // 24
    if age_days >= 14:
        period, count, source = WEEK_HOURS, min(age_days // 7, 4), "hour of week"
    else:
        period, count, source = 24, min(age_days, 7), "hour of day"
    slot = sorted(
        float(sends_in(series, hour - period * k + shift))
        for k in range(1, count + 1)
        for shift in (-1, 0, 1)
    )
    if len(slot) < min_samples:
        return None
    wide = sorted(
        float(sends_in(series, hour - period * k + shift))
        for k in range(1, count + 1)
        for shift in range(-WIDE_HOURS, WIDE_HOURS + 1)
    )
    span = min(age_days, 7) * 24
    history = {h: sends_in(series, h) for h in range(hour - span, hour)}
    ordered = sorted(history.values())
    typical = statistics.median(ordered) if ordered else 0.0
    bursts = {h % 24 for h, v in history.items() if v > BURST_FACTOR * max(typical, 1.0)}
    busy = any((hour + d) % 24 in bursts for d in range(-BUSY_SPREAD, BUSY_SPREAD + 1))
    median = statistics.median(slot)
    if not busy and median > NIGHT_SHARE * typical:
        busy = _has_nights(history, typical)  # its working day, not its night
    return VolumeBaseline(
        median=median,
        high=wide[-2] if len(wide) >= 4 else wide[-1],
        low=slot[1] if len(slot) >= 4 else slot[0],
        peak=float(ordered[-2]) if len(ordered) >= 2 else 0.0,
        busy=busy,
        bursty=bool(bursts),
        source=source,
        samples=len(slot),
        days=age_days,
    )


def _has_nights(history: dict[int, int], typical: float) -> bool:
    """True when some hour of the day is usually at most NIGHT_SHARE of the median hour."""
    by_hour: dict[int, list[int]] = {}
    for when, count in history.items():
        by_hour.setdefault(when % 24, []).append(count)
    if len(by_hour) < 24 or typical <= 0:
        return False
    return min(statistics.median(counts) for counts in by_hour.values()) <= NIGHT_SHARE * typical
