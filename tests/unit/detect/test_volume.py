"""Volume: bursts outside the hours a sender ever blasts, drops on steady streams only."""

from __future__ import annotations

from datetime import timedelta

from tests.unit.detect.factory import T0, event, row, view

from mailwarden.detect.volume import detect_drop, detect_surge
from mailwarden.metrics.rollup import aggregate
from mailwarden.metrics.series import SeriesBook
from mailwarden.metrics.volume import volume_baseline

NIGHT = T0 + timedelta(days=3, hours=3)
TEN = T0 + timedelta(days=3, hours=10)


def _history(days: int, per_hour: int, blast_at: int | None = None) -> SeriesBook:
    """`per_hour` steady sends, plus a 5,000-send blast at `blast_at` o'clock each day."""
    book = SeriesBook()
    for hour in range(days * 24):
        at = T0 + timedelta(hours=hour)
        count = per_hour + (5000 if blast_at is not None and hour % 24 == blast_at else 0)
        book.add(
            aggregate([event("queued", at + timedelta(seconds=i % 3600)) for i in range(count)])
        )
    return book


def _baseline(book: SeriesBook, when: object) -> object:
    series = book.get(("overall", "*"))
    assert series is not None
    return volume_baseline(series, int(when.timestamp()) // 3600)  # type: ignore[attr-defined]


def test_a_burst_at_night_from_a_new_campaign_is_a_possible_compromise() -> None:
    base = _baseline(_history(3, 20, blast_at=10), NIGHT)
    burst = view({15: row(queued=1200), 60: row(queued=1200)}, volume=base, through=NIGHT)
    found = detect_surge(burst, NIGHT, lambda: {"acct-7f3a": 1200})
    assert found is not None and found.kind == "volume_surge"
    assert found.evidence["possible_compromise"] is True
    assert "acct-7f3a" in found.evidence["meaning"]


def test_the_usual_morning_blast_is_not_a_surge() -> None:
    base = _baseline(_history(3, 20, blast_at=10), TEN)
    blast = view({15: row(queued=5000), 60: row(queued=5000)}, volume=base, through=TEN)
    assert detect_surge(blast, TEN, lambda: {"promo-today": 5000}) is None


def test_without_two_days_of_history_there_is_no_surge_to_speak_of() -> None:
    base = _baseline(_history(1, 20), T0 + timedelta(days=1, hours=3))
    assert base is None or detect_surge(view({15: row(queued=900)}, volume=base), T0, dict) is None


def test_a_steady_stream_that_stops_is_a_drop() -> None:
    base = _baseline(_history(4, 200), TEN)
    stopped = view({60: row(queued=0), 240: row(queued=3)}, volume=base, through=TEN)
    found = detect_drop(stopped, TEN)
    assert found is not None and found.severity == "warning"


def test_a_day_without_the_usual_campaign_is_not_a_drop() -> None:
    base = _baseline(_history(4, 5, blast_at=10), TEN)
    quiet = view({60: row(queued=5), 240: row(queued=20)}, volume=base, through=TEN)
    assert detect_drop(quiet, TEN) is None


def _rhythm(days: int, blast_at: int) -> SeriesBook:
    """40 sends an hour by day (07-21 h), 5 at night, and a 5,000-send blast each morning."""
    book = SeriesBook()
    for hour in range(days * 24):
        at = T0 + timedelta(hours=hour)
        count = 40 if 7 <= hour % 24 <= 21 else 5
        count += 5000 if hour % 24 == blast_at else 0
        book.add(aggregate([event("queued", at + timedelta(seconds=i)) for i in range(count)]))
    return book


def test_a_blast_late_in_a_senders_working_day_is_not_a_compromise() -> None:
    book = _rhythm(4, blast_at=10)  # evaluated on day 3: the hours before it are history
    evening = T0 + timedelta(days=3, hours=18)
    base = _baseline(book, evening)
    late = view({15: row(queued=1500), 60: row(queued=1500)}, volume=base, through=evening)
    assert detect_surge(late, evening, lambda: {"promo-evening": 1500}) is None
    night = _baseline(book, NIGHT)
    burst = view({15: row(queued=1200), 60: row(queued=1200)}, volume=night, through=NIGHT)
    found = detect_surge(burst, NIGHT, lambda: {"acct-7f3a": 1200})
    assert found is not None and found.evidence["possible_compromise"] is True
