"""Rollups: every event counted once per dimension, in the minute it happened, in any order."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.detect.factory import HARD, T0, event

from mailwarden.events.model import Bounce, Event
from mailwarden.metrics.counters import (
    DEFERRED,
    DEFERRED_FIRST,
    DELIVERED,
    MACHINE_OPENED,
    OPENED,
    SLOTS,
    attempts,
    reachable,
)
from mailwarden.metrics.rollup import PendingCounts, aggregate, by_key
from mailwarden.store.rollups_repo import spread


def _stored(*batches: list[Event]) -> Counter[tuple[int, str, str, str]]:
    """What the store would get from these batches, gathered as the engine gathers them."""
    pending = PendingCounts()
    for events in batches:
        batch = aggregate(events)
        pending.add(batch, by_key(batch))
    out: Counter[tuple[int, str, str, str]] = Counter()
    rows = [*spread(SLOTS, pending.vectors()), *pending.reason_rows()]
    for minute, dimension, key, metric, count in rows:
        out[(minute, dimension, key, metric)] += count
    return out


SIX = {
    ("overall", "*"),
    ("mailbox_provider", "gmail"),
    ("sending_domain", "news.example.org"),
    ("sending_domain:mailbox_provider", "news.example.org:gmail"),
    ("campaign", "news-1"),
    ("sending_ip", "203.0.113.5"),
}


def test_an_event_counts_once_in_each_of_the_six_dimensions() -> None:
    rows = by_key(aggregate([event("delivered", T0)]))
    assert {key for key, _minute in rows} == SIX
    assert all(row[DELIVERED] == 1 for row in rows.values())


def test_events_without_a_campaign_or_ip_skip_those_dimensions() -> None:
    rows = by_key(aggregate([event("queued", T0, campaign=None, ip=None)]))
    dimensions = {key[0] for key, _minute in rows}
    assert "campaign" not in dimensions and "sending_ip" not in dimensions


def test_late_events_count_in_the_minute_they_happened() -> None:
    late = event("complained", T0 - timedelta(days=2, minutes=3))
    (minute,) = {minute for _key, minute in by_key(aggregate([late]))}
    assert minute == int((T0 - timedelta(days=2, minutes=3)).timestamp()) // 60


def test_machine_opens_are_counted_apart_so_they_can_be_discounted() -> None:
    batch = [
        event("opened", T0, machine_open=True),
        event("opened", T0, sg_machine_open="true"),
        event("opened", T0),
    ]
    row = by_key(aggregate(batch))[(("overall", "*"), int(T0.timestamp()) // 60)]
    assert row[OPENED] == 3
    assert row[MACHINE_OPENED] == 2


def test_only_first_attempt_deferrals_count_as_first_deferrals() -> None:
    batch = [
        event("deferred", T0, attempt=1),
        event("deferred", T0, attempt=3),
        event("deferred", T0),
    ]
    row = by_key(aggregate(batch))[(("overall", "*"), int(T0.timestamp()) // 60)]
    assert row[DEFERRED] == 3
    assert row[DEFERRED_FIRST] == 2


def test_attempts_leave_out_soft_bounces_and_reachable_leaves_out_hard_ones() -> None:
    soft = Bounce("soft", "expired", 550, "5.4.7", "expired")
    batch = [
        event("delivered", T0),
        event("bounced", T0, bounce=HARD),
        event("bounced", T0, bounce=soft),
        event("deferred", T0, attempt=1),
    ]
    row = by_key(aggregate(batch))[(("overall", "*"), int(T0.timestamp()) // 60)]
    assert attempts(row) == 3
    assert reachable(row) == 2


def test_the_store_gets_type_class_and_reason_counters() -> None:
    counts = _stored([event("bounced", T0, bounce=HARD)])
    metrics = {metric for (_m, dimension, _k, metric) in counts if dimension == "overall"}
    assert {"bounced", "bounced.hard", "bounced.reason.userunknown"} <= metrics


kinds = st.sampled_from(["queued", "delivered", "opened", "clicked", "complained", "deferred"])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(kinds, st.integers(0, 180), st.sampled_from(["gmail", "yahoo"])),
        min_size=1,
        max_size=60,
    ),
    st.randoms(use_true_random=False),
)
def test_order_and_batching_do_not_change_the_totals(
    spec: list[tuple[str, int, str]], rng: random.Random
) -> None:
    events = [event(kind, T0 + timedelta(minutes=m), provider=p) for kind, m, p in spec]
    whole = _stored(events)
    shuffled = list(events)
    rng.shuffle(shuffled)
    cut = rng.randrange(len(shuffled) + 1)
    pieces = _stored(shuffled[:cut]) + _stored(shuffled[cut:])
    assert pieces == whole == _stored(shuffled[:cut], shuffled[cut:])
    assert all(count > 0 for count in whole.values())
    assert sum(v for (_m, d, _k, metric), v in whole.items() if d == "overall") >= len(events)
    queued = sum(1 for kind, _m, _p in spec if kind == "queued")
    assert sum(v for (_m, d, _k, m), v in whole.items() if d == "overall" and m == "queued") == (
        queued
    )


def test_security_events_are_not_counted() -> None:
    assert not aggregate([event("security.login", T0)])
