"""Durations, time zones and working days as a team writes them."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from mailwarden.team.calendar import (
    format_duration,
    next_working_day_at,
    parse_duration,
    parse_weekdays,
    zone,
)

WEEKDAYS = frozenset(range(5))


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("15m", 15), ("1h", 60), ("1h30m", 90), ("2d", 2880), ("1w", 10080), ("0m", 0)],
)
def test_durations_read_as_people_write_them(text: str, minutes: int) -> None:
    assert parse_duration(text) == timedelta(minutes=minutes)
    assert parse_duration(format_duration(timedelta(minutes=minutes))) == timedelta(minutes=minutes)


@pytest.mark.parametrize("text", ["", "15", "m", "1h 30x", "-5m", "1.5h"])
def test_a_duration_that_is_not_one_says_so(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_friday_afternoon_waits_for_monday_morning_in_the_team_zone() -> None:
    friday = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    due = next_working_day_at(friday, time(10, 0), zone("Europe/Berlin"), WEEKDAYS)
    assert due == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # 10:00 CET


def test_early_tuesday_is_due_on_wednesday_not_the_same_day() -> None:
    tuesday = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    due = next_working_day_at(tuesday, time(10, 0), zone("UTC"), WEEKDAYS)
    assert due == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def test_the_local_date_decides_not_the_utc_date() -> None:
    # 23:30 UTC on Thursday is already Friday in Tokyo: next working day is Monday there.
    late = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)
    due = next_working_day_at(late, time(10, 0), zone("Asia/Tokyo"), WEEKDAYS)
    assert due == datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


def test_unknown_zones_and_weekdays_are_named() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        zone("Mars/Olympus")
    with pytest.raises(ValueError, match="'funday' is not a weekday"):
        parse_weekdays(["mon", "funday"])
