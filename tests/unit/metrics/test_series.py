"""Running window sums stay equal to a brute-force sum, whatever order events come in."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.detect.factory import HARD, T0, event

from mailwarden.metrics.counters import QUEUED, RISING_MASKS, WIDTH, Row
from mailwarden.metrics.rollup import aggregate
from mailwarden.metrics.series import LAZY_WINDOWS, WINDOWS, SeriesBook, Windows

KEY = ("overall", "*")
BASE = int(T0.timestamp()) // 60


def _brute(book: SeriesBook, minutes: int, through: int) -> Row:
    series = book.get(KEY)
    assert series is not None
    total = [0] * WIDTH
    for minute in range(through - minutes + 1, through + 1):
        row = series.minutes.get(minute)
        if row:
            total = [a + b for a, b in zip(total, row, strict=True)]
    return total


def _brute_hours(book: SeriesBook, hours: int, through: int) -> Row:
    series = book.get(KEY)
    assert series is not None
    total = [0] * WIDTH
    for hour in range(through // 60 - hours + 1, through // 60 + 1):
        row = series.hours.get(hour)
        if row:
            total = [a + b for a, b in zip(total, row, strict=True)]
    return total


steps = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(0, 400), st.integers(1, 3)),
        st.tuples(st.just("advance"), st.integers(1, 300), st.just(0)),
        st.tuples(st.just("read"), st.just(0), st.just(0)),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(steps)
def test_every_window_equals_the_sum_of_its_minutes_whenever_it_is_read(
    plan: list[tuple[str, int, int]],
) -> None:
    book = SeriesBook()
    through = BASE
    book.advance(through)
    for action, value, count in [*plan, ("read", 0, 0)]:
        if action == "add":
            at = T0 + timedelta(minutes=value - 120)  # before, inside and after the windows
            book.add(aggregate([event("queued", at) for _ in range(count)]))
            continue
        if action == "advance":
            through += value
            book.advance(through)
            continue
        series = book.get(KEY)
        if series is None:
            continue
        windows = Windows(series, through)
        for minutes in (*WINDOWS, 30):
            assert windows[minutes] == _brute(book, minutes, through)
        assert windows[240] == _brute_hours(book, 4, through)
        assert windows[1440] == _brute_hours(book, 24, through)


def test_lazy_windows_sum_minutes_or_whole_hours() -> None:
    book = SeriesBook()
    book.add(aggregate([event("queued", T0 + timedelta(minutes=m)) for m in range(0, 300, 7)]))
    through = BASE + 299
    book.advance(through)
    series = book.get(KEY)
    assert series is not None
    windows = Windows(series, through)
    assert windows[30][QUEUED] == _brute(book, 30, through)[QUEUED]
    assert windows[240][QUEUED] == _brute(book, 240, through)[QUEUED]  # hour-aligned here
    assert windows[1440][QUEUED] == len(range(0, 300, 7))
    assert set(windows) == {*WINDOWS, *LAZY_WINDOWS}


def test_late_events_outside_the_short_windows_mark_their_hour() -> None:
    book = SeriesBook()
    book.advance(BASE + 600)
    book.add(aggregate([event("complained", T0 + timedelta(minutes=30))]))
    assert (KEY, (BASE + 30) // 60) in book.take_late_hours()
    assert book.take_late_hours() == set()


def test_a_clock_jump_recomputes_instead_of_sliding_day_by_day() -> None:
    book = SeriesBook()
    book.add(aggregate([event("queued", T0)]))
    book.advance(BASE)
    book.advance(BASE + 3 * 1440)  # three days with no traffic
    series = book.get(KEY)
    assert series is not None
    windows = Windows(series, BASE + 3 * 1440)
    assert all(sum(windows[minutes]) == 0 for minutes in windows)
    book.advance(BASE + 10)  # backwards: ignored
    assert book.evaluated_through == BASE + 3 * 1440


def test_keys_that_got_bad_events_are_marked_for_rate_checks() -> None:
    book = SeriesBook()
    book.add(aggregate([event("delivered", T0), event("complained", T0, provider="yahoo")]))
    touched, alarmed = book.take_touched()
    assert ("mailbox_provider", "yahoo") in alarmed
    assert ("mailbox_provider", "gmail") in touched - set(alarmed)


def test_a_key_is_marked_only_for_the_rates_its_new_events_can_raise() -> None:
    book = SeriesBook()
    book.add(
        aggregate([event("complained", T0), event("bounced", T0, provider="yahoo", bounce=HARD)])
    )
    book.add(aggregate([event("deferred", T0, provider="yahoo")]))
    _touched, alarmed = book.take_touched()
    gmail, yahoo = alarmed[("mailbox_provider", "gmail")], alarmed[("mailbox_provider", "yahoo")]
    assert gmail == RISING_MASKS["complaint"]
    assert yahoo == RISING_MASKS["hard_bounce"] | RISING_MASKS["deferral"]
    assert not yahoo & RISING_MASKS["complaint"] and yahoo & RISING_MASKS["delivery"]
    assert alarmed[("overall", "*")] == gmail | yahoo


def test_a_key_back_after_days_of_quiet_does_not_count_old_hours_in_its_day() -> None:
    book = SeriesBook()
    book.add(aggregate([event("queued", T0 + timedelta(minutes=m)) for m in range(0, 120, 2)]))
    book.advance(BASE + 150)
    series = book.get(KEY)
    assert series is not None
    assert Windows(series, BASE + 150)[1440][QUEUED] == 60
    back = BASE + 3 * 1440 + 30  # mid-hour, three days on
    for through in range(BASE + 151, back, 45):
        book.advance(through)
    book.add(aggregate([event("queued", T0 + timedelta(minutes=back - BASE))]))
    book.advance(back)
    assert Windows(series, back)[1440][QUEUED] == 1
