"""Who is on call: turns of a rota across handoffs and DST, with overrides on top."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
from typing import Final

from mailwarden.team.calendar import local_instant, zone
from mailwarden.team.model import Override, Rota, Shift

MAX_SPAN: Final = timedelta(days=366)


def turn_at(rota: Rota, at: datetime) -> tuple[int, datetime, datetime]:
    """The rota's turn number at `at` (overrides aside) with the turn's start and end."""
    tz = zone(rota.timezone)
    period = timedelta(days=rota.period_days)
    number = (at.astimezone(tz).date() - rota.starts_on).days // rota.period_days
    day = rota.starts_on + number * period
    while local_instant(day, rota.handoff, tz) > at:
        number, day = number - 1, day - period
    while local_instant(day + period, rota.handoff, tz) <= at:
        number, day = number + 1, day + period
    return (
        number,
        local_instant(day, rota.handoff, tz),
        local_instant(day + period, rota.handoff, tz),
    )


def override_at(rota: Rota, at: datetime) -> Override | None:
    """The override in force at `at` (the one added last wins), if any."""
    found = [item for item in rota.overrides if item.covers(at)]
    return found[-1] if found else None


def who_is_on_call(rota: Rota, at: datetime) -> str | None:
    """The handle of the person on call for the rota at `at`; None for a rota with nobody."""
    override = override_at(rota, at)
    if override is not None:
        return override.person
    if not rota.members:
        return None
    number, _start, _end = turn_at(rota, at)
    return rota.members[number % len(rota.members)]


def shifts(rota: Rota, start: datetime, end: datetime) -> list[Shift]:
    """Who is on call from start to end, as contiguous shifts (overrides split them)."""
    if end <= start or (not rota.members and not rota.overrides):
        return []
    end = min(end, start + MAX_SPAN)
    cuts = {start, end}
    cursor = start
    while rota.members and cursor < end:
        cursor = turn_at(rota, cursor)[2]
        cuts.add(min(cursor, end))
    for item in rota.overrides:
        cuts.update(t for t in (item.starts_at, item.ends_at) if start < t < end)
    ordered = sorted(cuts)
    found: list[Shift] = []
    for left, right in pairwise(ordered):
        person = who_is_on_call(rota, left)
        if person is None:
            continue
        covered = override_at(rota, left) is not None
        last = found[-1] if found else None
        if last and last.person == person and last.override == covered and last.end == left:
            found[-1] = Shift(rota.name, person, last.start, right, covered)
        else:
            found.append(Shift(rota.name, person, left, right, covered))
    return found


def current_shift(rota: Rota, at: datetime) -> Shift | None:
    """The shift in force at `at`, with its true start and end (within a period either side)."""
    window = timedelta(days=rota.period_days + 1)
    for shift in shifts(rota, at - window, at + window):
        if shift.start <= at < shift.end:
            return shift
    return None
