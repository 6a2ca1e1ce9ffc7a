"""Team time: durations like 15m or 1h30m, time zones, and working days."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_PART: Final = re.compile(r"(\d+)([smhdw])")
_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_duration(text: str) -> timedelta:
    """'15m', '1h30m', '2d', '0m' → timedelta; ValueError when it is not a duration."""
    compact = text.strip().lower().replace(" ", "")
    parts = _PART.findall(compact)
    if not compact or "".join(value + unit for value, unit in parts) != compact:
        raise ValueError(f"{text!r} is not a duration (expected e.g. 15m, 2h, 1h30m, 3d)")
    return timedelta(seconds=sum(int(value) * _UNITS[unit] for value, unit in parts))


def format_duration(delta: timedelta) -> str:
    """timedelta → the shortest '1h30m' form ('0m' for nothing)."""
    seconds = int(delta.total_seconds())
    out = []
    for unit in ("d", "h", "m", "s"):
        count, seconds = divmod(seconds, _UNITS[unit])
        if count:
            out.append(f"{count}{unit}")
    return "".join(out) or "0m"


def zone(name: str) -> ZoneInfo:
    """The IANA time zone called name; ValueError when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (expected e.g. Europe/Berlin)") from None


def parse_clock_time(text: str) -> time:
    """'09:00' → time(9, 0); ValueError otherwise."""
    try:
        return time.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a time of day (expected HH:MM)") from None


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time on a local date (a time skipped by DST moves on)."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def next_working_day_at(
    after: datetime, at: time, tz: ZoneInfo, working_days: Collection[int]
) -> datetime:
    """The first working day strictly after `after`'s local date, at the given local time."""
    if not working_days:
        raise ValueError("no working days")
    day = after.astimezone(tz).date() + timedelta(days=1)
    while day.weekday() not in working_days:
        day += timedelta(days=1)
    return local_instant(day, at, tz)


def parse_weekdays(names: Collection[str]) -> frozenset[int]:
    """['mon', 'tue'] → {0, 1}; ValueError names the bad day."""
    days = set()
    for name in names:
        key = name.strip().lower()[:3]
        if key not in WEEKDAYS:
            raise ValueError(f"{name!r} is not a weekday (expected one of {', '.join(WEEKDAYS)})")
        days.add(WEEKDAYS.index(key))
    return frozenset(days)
