"""The engine on a fake clock at the edges: late and out-of-order events, clocks that jump,
days without traffic, brand-new keys (pure-detector edges are in test_detector_edges.py)."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from tests.unit.detect.factory import (
    SPAMHAUS,
    T0,
    Harness,
    event,
    minute_of_traffic,
    minutes,
)

from mailwarden.events.model import Event


def _hourly(harness: Harness, hours: int, sends: int = 100, **attrs: Any) -> None:
    """A burst of healthy sends at the top of every hour, ticking every minute between."""
    for hour in range(hours):
        at = T0 + timedelta(hours=hour)
        harness.feed(minute_of_traffic(at, sends, **attrs))
        harness.tick_until(at + timedelta(minutes=59))


def _sends_and_late_outcomes(at: Any, count: int, lag: int) -> list[Event]:
    """Sends in this minute, and the deliveries of the sends of `lag` minutes ago."""
    sent = [event("queued", at, message=f"{at:%H%M}-{i}") for i in range(count)]
    past = at - timedelta(minutes=lag)
    done = [
        event("delivered", past + timedelta(seconds=20), message=f"{past:%H%M}-{i}")
        for i in range(count)
    ]
    return sent + done


def test_deliveries_reported_minutes_late_are_no_silence() -> None:
    harness = Harness()
    for at in minutes(T0 + timedelta(minutes=5), 90):
        harness.feed(_sends_and_late_outcomes(at, 20, lag=4), now=at + timedelta(minutes=1))
    assert not [f for f in harness.opened if f.kind == "event_silence"]


def test_blocks_arriving_shuffled_find_the_same_as_in_order() -> None:
    def run(shuffle: bool) -> set[tuple[str, str, str]]:
        harness = Harness()
        for at in minutes(T0, 120):
            harness.feed(minute_of_traffic(at, 40, provider="yahoo"))
        batch = [
            e
            for at in minutes(T0 + timedelta(hours=2), 6)
            for e in minute_of_traffic(at, 80, blocks=60, block=SPAMHAUS, provider="yahoo")
        ]
        if shuffle:
            random.Random(7).shuffle(batch)
        harness.feed(batch)
        harness.tick_until(harness.clock.now() + timedelta(minutes=5))
        return harness.kinds()

    found = run(shuffle=False)
    assert ("block_rate", "mailbox_provider", "yahoo") in found
    assert run(shuffle=True) == found


def test_a_day_with_no_traffic_raises_at_most_the_drop_of_a_steady_stream() -> None:
    harness = Harness()
    _hourly(harness, 72)
    before = len(harness.opened)
    harness.tick_until(harness.clock.now() + timedelta(days=1))
    quiet_day = {f.kind for f in harness.opened[before:]}
    assert quiet_day <= {"volume_drop"}


def test_traffic_resuming_after_the_clock_jumps_hours_ahead_raises_nothing() -> None:
    harness = Harness()
    _hourly(harness, 50)
    resume = harness.clock.now() + timedelta(hours=6)
    harness.clock.set(resume)
    harness.engine.tick()
    before = len(harness.opened)
    for at in minutes(resume, 90):
        harness.feed(minute_of_traffic(at, 2))
    assert {f.kind for f in harness.opened[before:]} <= {"volume_drop"}


def test_a_clock_that_jumps_back_is_ignored_and_detection_carries_on() -> None:
    harness = Harness()
    for at in minutes(T0, 120):
        harness.feed(minute_of_traffic(at, 40))
    harness.clock.set(T0 + timedelta(minutes=30))
    assert not harness.engine.tick()
    harness.clock.set(T0 + timedelta(hours=2))
    for at in minutes(T0 + timedelta(hours=2), 10):
        harness.feed(minute_of_traffic(at, 100, hard=20))
    assert ("hard_bounce_rate", "overall", "*") in harness.kinds()


def test_a_brand_new_campaign_with_healthy_traffic_raises_nothing() -> None:
    harness = Harness(early_sends=300)
    for at in minutes(T0, 120):
        harness.feed(minute_of_traffic(at, 40, hard=at.minute % 5 == 0, campaign="weekly"))
    for at in minutes(T0 + timedelta(hours=2), 20):
        harness.feed(minute_of_traffic(at, 60, hard=at.minute % 5 == 0, campaign="launch"))
    assert not [f for f in harness.opened if f.scope.key == "launch"]
