"""The Bus port's contract, run on the in-process bus and on Redis Streams (1 and 3 partitions).

Delivery differs in one documented way: the in-process bus calls handlers inside publish,
the Redis bus when a worker pumps (`deliver` below). And what was published before a
handler subscribed: the in-process bus had nobody to give it to, so it is gone; a Redis
consumer group starts at the start of the stream, so it gets every batch still retained.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis

from mailwarden.bus.memory import InProcessBus
from mailwarden.bus.port import Bus
from mailwarden.bus.redis_streams import RedisStreamsBus, StreamOptions
from mailwarden.detect.model import Finding, Scope
from mailwarden.events.model import Bounce, Complaint, Event

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


@dataclass
class Harness:
    """A bus, how to make it deliver what was published, and whether it retains batches."""

    bus: Bus
    deliver: Callable[[], None]
    retains: bool


def _pump_until_idle(bus: RedisStreamsBus) -> None:
    for _ in range(50):
        if bus.pump(max_batches=100).idle:
            return
    raise AssertionError("the bus never went idle")


@pytest.fixture(params=["memory", "redis", "redis-3-partitions"])
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    """Each contract test runs on every adapter."""
    if request.param == "memory":
        yield Harness(InProcessBus(), lambda: None, retains=False)
        return
    client: redis.Redis = request.getfixturevalue("redis_client")
    prefix: str = request.getfixturevalue("redis_prefix")
    options = StreamOptions(prefix=prefix, partitions=3 if "3" in request.param else 1)
    bus = RedisStreamsBus(client, options=options, decoders={"findings": Finding.from_dict})
    yield Harness(bus, lambda: _pump_until_idle(bus), retains=True)


def _event(event_id: str, domain: str = "news.example.org", **fields: Any) -> Event:
    return Event(
        event_id,
        fields.pop("type", "delivered"),
        fields.pop("occurred_at", T0),
        "sendgrid",
        recipient=f"{event_id}@gmail.com",
        mailbox_provider="gmail",
        sending_domain=domain,
        **fields,
    )


def _finding(kind: str = "complaint_rate", key: str = "news.example.org") -> Finding:
    return Finding(
        kind=kind,
        scope=Scope("sending_domain", key),
        severity="critical",
        observed=0.0042,
        expected=0.0008,
        evidence={"complained": 42, "delivered": 10_000, "by_provider": {"gmail": 40}},
        window_start=T0,
        window_end=T0 + timedelta(minutes=60),
        first_seen=T0 + timedelta(minutes=61),
        sample_event_ids=["sg:a", "sg:b"],
        last_seen=T0 + timedelta(minutes=75),
        id=7,
    )


class Recorder:
    """A handler that keeps every batch it is given."""

    def __init__(self) -> None:
        self.batches: list[list[Any]] = []

    def __call__(self, batch: Sequence[Any]) -> None:
        self.batches.append(list(batch))

    @property
    def items(self) -> list[Any]:
        """Everything received, in order."""
        return [item for batch in self.batches for item in batch]


def test_a_published_batch_reaches_every_subscriber_once(harness: Harness) -> None:
    first, second = Recorder(), Recorder()
    harness.bus.subscribe("events", first)
    harness.bus.subscribe("events", second)
    events = [_event("a"), _event("b", "shop.example.com"), _event("c", "other.example.net")]
    harness.bus.publish("events", events)
    harness.deliver()
    harness.deliver()
    assert sorted(e.id for e in first.items) == ["a", "b", "c"]
    assert sorted(e.id for e in second.items) == ["a", "b", "c"]


def test_batches_of_one_key_arrive_in_publish_order(harness: Harness) -> None:
    seen = Recorder()
    harness.bus.subscribe("events", seen)
    for n in range(8):
        harness.bus.publish(
            "events", [_event(f"n{n}"), _event(f"s{n}", "shop.example.com", campaign="x")]
        )
    harness.deliver()
    for prefix, domain in (("n", "news.example.org"), ("s", "shop.example.com")):
        ids = [e.id for e in seen.items if e.sending_domain == domain]
        assert ids == [f"{prefix}{n}" for n in range(8)]


def test_message_batches_arrive_in_publish_order(harness: Harness) -> None:
    seen = Recorder()
    harness.bus.subscribe_messages("findings", seen)
    for n in range(5):
        harness.bus.publish_messages("findings", [_finding(key=f"d{n}.example.org")])
    harness.deliver()
    assert [f.scope.key for f in seen.items] == [f"d{n}.example.org" for n in range(5)]


def test_a_failing_handler_does_not_stop_the_others(harness: Harness) -> None:
    before, after = Recorder(), Recorder()

    def broken(_batch: Sequence[Any]) -> None:
        raise RuntimeError("handler bug")

    harness.bus.subscribe("events", before)
    harness.bus.subscribe("events", broken)
    harness.bus.subscribe("events", after)
    harness.bus.subscribe_messages("findings", broken)
    harness.bus.subscribe_messages("findings", after)
    harness.bus.publish("events", [_event("a")])
    harness.bus.publish_messages("findings", [_finding()])
    harness.deliver()
    assert [e.id for e in before.items] == ["a"]
    assert [type(item).__name__ for item in after.items] == ["Event", "Finding"]


def test_events_round_trip_intact(harness: Harness) -> None:
    seen = Recorder()
    harness.bus.subscribe("events", seen)
    bounced = _event(
        "sg:1",
        type="bounced",
        occurred_at=T0 + timedelta(microseconds=250),
        message_id="m-1",
        sending_ip="203.0.113.5",
        campaign="black-friday",
        tags=["promo", "eu"],
        bounce=Bounce("hard", "userunknown", 550, "5.1.1", "550 5.1.1 unknown recipient"),
        extra={"sg_event_id": "x", "nested": {"n": [1, 2.5, None, True]}},
        raw_ref=41,
    )
    complained = _event("sg:2", type="complained", complaint=Complaint("abuse"), raw_ref=42)
    login = Event(
        "sec:1",
        "security.login",
        T0,
        "app",
        actor="ops@example.org",
        source_ip="198.51.100.7",
        country="NL",
        resource="console",
        count=3,
        user_agent="curl/8",
    )
    clicked = _event("sg:3", type="clicked", url="https://example.org/?a=1", user_agent="UA")
    sent = [bounced, complained, login, clicked]
    harness.bus.publish("events", sent)
    harness.deliver()
    assert sorted(seen.items, key=lambda e: e.id) == sorted(sent, key=lambda e: e.id)


def test_findings_arrive_as_equal_finding_objects(harness: Harness) -> None:
    seen = Recorder()
    harness.bus.subscribe_messages("findings", seen)
    closed = _finding("hard_bounce_rate")
    closed.status, closed.closed_at = "closed", T0 + timedelta(hours=2)
    sent = [_finding(), closed]
    harness.bus.publish_messages("findings", sent)
    harness.deliver()
    assert all(isinstance(item, Finding) for item in seen.items)
    assert seen.items == sent


def test_an_empty_batch_reaches_nobody(harness: Harness) -> None:
    seen = Recorder()
    harness.bus.subscribe("events", seen)
    harness.bus.subscribe_messages("findings", seen)
    harness.bus.publish("events", [])
    harness.bus.publish_messages("findings", [])
    harness.deliver()
    assert seen.batches == []


def test_a_batch_published_before_subscribe_reaches_only_a_bus_that_retains_it(
    harness: Harness,
) -> None:
    seen = Recorder()
    harness.bus.publish("events", [_event("early")])
    harness.bus.subscribe("events", seen)
    harness.bus.publish("events", [_event("late")])
    harness.deliver()
    expected = ["early", "late"] if harness.retains else ["late"]
    assert [e.id for e in seen.items] == expected
