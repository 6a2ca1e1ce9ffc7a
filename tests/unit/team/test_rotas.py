"""Who is on call: daily and weekly turns across DST and handoff times, and overrides."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from mailwarden.team.model import Override, Rota
from mailwarden.team.oncall import current_shift, shifts, who_is_on_call


def rota(
    rotation: str = "daily",
    handoff: time = time(9, 0),
    timezone: str = "Europe/Berlin",
    starts_on: date = date(2026, 10, 20),
    members: tuple[str, ...] = ("ana", "ben", "cy"),
    overrides: tuple[Override, ...] = (),
) -> Rota:
    return Rota("primary", rotation, handoff, timezone, starts_on, members, overrides=overrides)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_daily_turns_hand_off_at_local_nine_on_both_sides_of_the_dst_change() -> None:
    daily = rota()
    # Summer time: 09:00 in Berlin is 07:00 UTC.
    assert who_is_on_call(daily, utc(2026, 10, 24, 6, 59)) == "ana"
    assert who_is_on_call(daily, utc(2026, 10, 24, 7, 0)) == "ben"
    # 25 October: clocks go back; 09:00 is now 08:00 UTC.
    assert who_is_on_call(daily, utc(2026, 10, 25, 7, 30)) == "ben"
    assert who_is_on_call(daily, utc(2026, 10, 25, 8, 0)) == "cy"
    shift = current_shift(daily, utc(2026, 10, 24, 12, 0))
    assert shift is not None
    assert (shift.start, shift.end) == (utc(2026, 10, 24, 7, 0), utc(2026, 10, 25, 8, 0))
    assert shift.end - shift.start == timedelta(hours=25)


def test_weekly_turns_hand_off_on_the_start_weekday_across_the_us_dst_change() -> None:
    weekly = rota(
        "weekly",
        time(10, 0),
        "America/New_York",
        date(2026, 10, 19),  # a Monday
        ("ana", "ben"),
    )
    assert who_is_on_call(weekly, utc(2026, 10, 26, 13, 59)) == "ana"  # 09:59 EDT
    assert who_is_on_call(weekly, utc(2026, 10, 26, 14, 0)) == "ben"  # 10:00 EDT
    assert who_is_on_call(weekly, utc(2026, 11, 2, 14, 30)) == "ben"  # 09:30 EST
    assert who_is_on_call(weekly, utc(2026, 11, 2, 15, 0)) == "ana"  # 10:00 EST


def test_a_handoff_time_skipped_by_spring_forward_still_hands_off_once() -> None:
    daily = rota(handoff=time(2, 30), starts_on=date(2026, 3, 27))
    found = shifts(daily, utc(2026, 3, 27, 12, 0), utc(2026, 3, 31, 12, 0))
    assert [s.person for s in found] == ["ana", "ben", "cy", "ana", "ben"]
    spring = found[2]
    assert spring.end - spring.start == timedelta(hours=23)


def test_turns_before_the_start_date_run_backwards_in_order() -> None:
    daily = rota()
    assert who_is_on_call(daily, utc(2026, 10, 19, 12, 0)) == "cy"
    assert who_is_on_call(daily, utc(2026, 10, 18, 12, 0)) == "ben"


def test_an_override_takes_the_pager_for_its_range_and_then_hands_it_back() -> None:
    cover = Override("primary", "dee", utc(2026, 10, 21, 12, 0), utc(2026, 10, 21, 18, 0))
    daily = rota(overrides=(cover,))
    assert who_is_on_call(daily, utc(2026, 10, 21, 11, 59)) == "ben"
    assert who_is_on_call(daily, utc(2026, 10, 21, 12, 0)) == "dee"
    assert who_is_on_call(daily, utc(2026, 10, 21, 17, 59)) == "dee"
    assert who_is_on_call(daily, utc(2026, 10, 21, 18, 0)) == "ben"
    found = shifts(daily, utc(2026, 10, 21, 7, 0), utc(2026, 10, 22, 7, 0))
    assert [(s.person, s.override) for s in found] == [
        ("ben", False),
        ("dee", True),
        ("ben", False),
    ]


def test_the_override_added_last_wins_where_two_overlap() -> None:
    first = Override("primary", "dee", utc(2026, 10, 21, 12, 0), utc(2026, 10, 21, 18, 0))
    second = Override("primary", "eve", utc(2026, 10, 21, 15, 0), utc(2026, 10, 21, 16, 0))
    daily = rota(overrides=(first, second))
    assert who_is_on_call(daily, utc(2026, 10, 21, 15, 30)) == "eve"
    assert who_is_on_call(daily, utc(2026, 10, 21, 16, 0)) == "dee"


def test_a_rota_with_nobody_has_nobody_on_call() -> None:
    assert who_is_on_call(rota(members=()), utc(2026, 10, 21, 12, 0)) is None


ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]
instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@st.composite
def rotas(draw: st.DrawFn) -> Rota:
    members = tuple(draw(st.lists(st.sampled_from("abcdef"), min_size=1, max_size=4, unique=True)))
    covers = []
    for _ in range(draw(st.integers(0, 3))):
        start = draw(instants)
        length = timedelta(minutes=draw(st.integers(1, 60 * 24 * 9)))
        covers.append(Override("r", draw(st.sampled_from("xyz")), start, start + length))
    return Rota(
        "r",
        draw(st.sampled_from(["daily", "weekly"])),
        time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 15, 30, 45]))),
        draw(st.sampled_from(ZONES)),
        draw(st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31))),
        members,
        overrides=tuple(covers),
    )


@settings(max_examples=100, deadline=None)
@given(rotas(), instants)
def test_exactly_one_person_is_on_call_at_any_instant(rota_: Rota, at: datetime) -> None:
    person = who_is_on_call(rota_, at)
    allowed = set(rota_.members) | {o.person for o in rota_.overrides if o.covers(at)}
    assert person in allowed


@settings(max_examples=60, deadline=None)
@given(rotas(), instants, st.integers(1, 20))
def test_shifts_tile_time_without_gaps_or_overlaps(rota_: Rota, start: datetime, days: int) -> None:
    end = start + timedelta(days=days)
    found = shifts(rota_, start, end)
    assert found[0].start == start and found[-1].end == end
    for before, after in itertools.pairwise(found):
        assert before.end == after.start
        assert (before.person, before.override) != (after.person, after.override)
    for shift in found:
        assert who_is_on_call(rota_, shift.start) == shift.person
        assert who_is_on_call(rota_, shift.end - timedelta(microseconds=1)) == shift.person
