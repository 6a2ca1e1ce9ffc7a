"""Event silence: sends continue but no delivery, bounce or deferral events come back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.unit.detect.factory import T0, Harness, event, minute_of_traffic, minutes, row, view

from mailwarden.detect.silence import detect_silence


def _windows(queued: int, delivered: int) -> dict[int, list[int]]:
    return {minutes: row(queued=queued * minutes // 15, delivered=delivered * minutes // 15)
            for minutes in (15, 30, 60)}  # fmt: skip


def test_sends_without_outcomes_for_fifteen_minutes_is_silence() -> None:
    found = detect_silence(view(_windows(300, 0)), T0)
    assert found is not None
    assert found.kind == "event_silence"
    assert found.evidence["window_minutes"] == 15
    assert "webhook" in found.evidence["meaning"]


def test_outcomes_flowing_is_no_silence() -> None:
    assert detect_silence(view(_windows(300, 280)), T0) is None


def test_low_volume_waits_for_a_longer_window() -> None:
    found = detect_silence(view(_windows(4, 0)), T0)  # 4 sends in 15 min, 16 in 60
    assert found is not None and found.evidence["window_minutes"] == 60


def test_no_sends_is_not_silence_but_a_quiet_day() -> None:
    assert detect_silence(view(_windows(0, 0)), T0) is None


# --- low volume: the run of settled sends since the last outcome ---------------------------

EVENING = T0 + timedelta(days=5, hours=19, minutes=46)  # a Saturday evening


def _quiet_view(
    sends: dict[int, int], outcomes: dict[int, int], *, day: list[int] | None = None
) -> Any:
    """A view through EVENING from counts by minute offset (0 = EVENING, -10 = ten minutes
    before), with the window sums the engine would keep (and the last day, if given)."""
    through = int(EVENING.timestamp()) // 60
    rows = {
        through + offset: row(queued=sends.get(offset, 0), delivered=outcomes.get(offset, 0))
        for offset in set(sends) | set(outcomes)
    }
    windows = {
        width: [sum(col) for col in zip(*(r for m, r in rows.items() if m > through - width),
                                        row(), strict=True)]
        for width in (5, 15, 30, 60)
    }  # fmt: skip
    if day is not None:
        windows[1440] = day
    return view(windows, through=EVENING, minutes=rows)


def _flowing_until(offset: int) -> dict[int, int]:
    """One send every four minutes over the past two hours up to `offset`..."""
    return dict.fromkeys(range(-120, offset + 1, 4), 1)


def _delivered_until(offset: int, lag: int = 2) -> dict[int, int]:
    """...each delivered `lag` minutes later."""
    return {minute + lag: 1 for minute in range(-120, offset + 1 - lag, 4)}


GAP_SENDS = {-42: 1, -21: 1, -20: 1, -18: 2, -16: 1, -12: 1, -9: 1, -6: 1}  # 9 sends


def test_nine_sends_without_any_outcome_on_a_quiet_evening_are_a_silence() -> None:
    sends = {**_flowing_until(-46), **GAP_SENDS}
    found = detect_silence(_quiet_view(sends, _delivered_until(-46)), EVENING)
    assert found is not None and found.kind == "event_silence"
    evidence = found.evidence
    assert evidence["settled_sends"] == 9 and evidence["outcome_events"] == 0
    assert evidence["test"].startswith("binomial") and evidence["outcome_odds"] == 0.9
    assert evidence["score"] == 9.0  # (1 - 0.9)^9
    assert evidence["window_minutes"] == 46  # since the last delivery


def test_the_same_evening_with_its_deliveries_is_no_silence() -> None:
    sends = {**_flowing_until(-46), **GAP_SENDS}
    outcomes = {**_delivered_until(-46), **{minute + 2: 1 for minute in GAP_SENDS}}
    assert detect_silence(_quiet_view(sends, outcomes), EVENING) is None


def test_five_sends_without_outcome_are_too_few_to_call_a_silence() -> None:
    sends = {**_flowing_until(-46), -30: 1, -25: 1, -20: 1, -15: 1, -10: 1}
    assert detect_silence(_quiet_view(sends, _delivered_until(-46)), EVENING) is None


def test_sends_in_the_last_five_minutes_are_not_a_silence() -> None:
    recent = {-4: 10, -3: 10, -2: 10, -1: 10, 0: 10}
    quiet = _quiet_view({**_flowing_until(-30), **recent}, _delivered_until(-30))
    assert detect_silence(quiet, EVENING) is None
    older = {minute - 2: count for minute, count in recent.items()}  # now partly settled
    found = detect_silence(_quiet_view({**_flowing_until(-30), **older}, _delivered_until(-30)),
                           EVENING)  # fmt: skip
    assert found is not None and found.evidence["settled_sends"] == 20


def test_a_slow_but_flowing_pipeline_is_not_a_silence() -> None:
    start = EVENING - timedelta(hours=3)
    harness = Harness(start=start)
    for at in minutes(start, 180):  # a send every three minutes, delivered four minutes later
        sends = [event("queued", at, message=f"{at:%H%M}")] if at.minute % 3 == 0 else []
        past = at - timedelta(minutes=4)
        if past.minute % 3 == 0 and past >= start:
            sends.append(event("delivered", at, message=f"{past:%H%M}"))
        harness.feed(sends, now=at + timedelta(minutes=1))
    assert not [f for f in harness.opened if f.kind == "event_silence"]


def test_a_provider_that_seldom_reports_outcomes_expects_few_and_sees_no_silence() -> None:
    sends = {**_flowing_until(-46), **GAP_SENDS}
    bounces_only = row(queued=600, delivered=30)  # outcomes for one send in twenty
    found = detect_silence(_quiet_view(sends, _delivered_until(-46), day=bounces_only), EVENING)
    assert found is None


def test_the_outcome_odds_come_from_the_last_day_and_stay_below_the_cap() -> None:
    sends = {**_flowing_until(-46), **GAP_SENDS}
    day = row(queued=400, delivered=396, first_deferred=8, deferred=20)  # retries: > 1 a send
    found = detect_silence(_quiet_view(sends, _delivered_until(-46), day=day), EVENING)
    assert found is not None
    assert found.evidence["outcome_odds"] == 0.9
    assert found.evidence["odds_source"] == "outcomes per send over the last day"


def test_a_quiet_key_is_looked_at_again_once_its_last_sends_settle() -> None:
    harness = Harness(start=EVENING - timedelta(hours=3))
    start = EVENING - timedelta(hours=3)
    for at in minutes(start, 120):  # a quiet evening: one send every four minutes
        sends = minute_of_traffic(at, 1) if at.minute % 4 == 0 else []
        harness.feed(sends, now=at + timedelta(minutes=1))
    gap = start + timedelta(hours=2)
    for at in minutes(gap, 40):  # the webhook stops: sends only, one every five minutes
        sends = [event("queued", at)] if at.minute % 5 == 0 else []
        harness.feed(sends, now=at + timedelta(minutes=1))
    overall = [f for f in harness.opened if (f.kind, f.scope.key) == ("event_silence", "*")]
    # the sixth send (gap + 29 min) settles at gap + 34 (evaluated two minutes later), before
    # the next send would touch the key
    assert overall and overall[0].first_seen == gap + timedelta(minutes=36)


def test_a_quiet_evening_with_its_deliveries_raises_no_silence() -> None:
    start = EVENING - timedelta(hours=3)
    harness = Harness(start=start)
    for at in minutes(start, 180):  # one send every seven minutes, each delivered
        sends = minute_of_traffic(at, 1) if at.minute % 7 == 0 else []
        harness.feed(sends, now=at + timedelta(minutes=1))
    assert not [f for f in harness.opened if f.kind == "event_silence"]
