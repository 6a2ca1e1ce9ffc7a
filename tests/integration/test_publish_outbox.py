"""A bus outage loses nothing: payloads are answered, kept unpublished, and published later."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import orjson
import pytest
from sqlalchemy import Engine
from tests.fakes import FakeProvider, FlakyBus

from mailwarden.cli.serve import RepublishThenTick
from mailwarden.clock import FakeClock
from mailwarden.events.ingest import IngestService
from mailwarden.events.model import Event
from mailwarden.events.outbox import CLAIM_LEASE, PUBLISHING, UNPUBLISHED
from mailwarden.events.providers.base import WebhookRequest
from mailwarden.store.events_repo import EventStore

RETRY = timedelta(seconds=5)


@dataclass
class HookBus(FlakyBus):
    """A flaky bus that runs a hook (another node's move) before each publish."""

    hook: Callable[[], None] | None = None

    def publish(self, topic: str, events: Sequence[Event]) -> None:
        if self.hook is not None:
            self.hook()
        super().publish(topic, events)


class KilledBus(FlakyBus):
    """The process is killed while it publishes: nothing after the claim runs."""

    def publish(self, topic: str, events: Sequence[Event]) -> None:
        raise SystemExit("killed")


def _node(store: EventStore, bus: FlakyBus, clock: FakeClock) -> IngestService:
    return IngestService(store, {"fake": FakeProvider()}, bus, clock)


def _status(store: EventStore, raw_id: int) -> str:
    kept = store.payload(raw_id)
    assert kept is not None
    return kept.status


def _waiting(service: IngestService, bus: FlakyBus, clock: FakeClock, *ids: str) -> int:
    bus.down = True
    outcome = service.receive("fake", _request(clock, *ids))
    bus.down = False
    return outcome.raw_id


def _claimed(service: IngestService, store: EventStore, bus: FlakyBus, clock: FakeClock) -> int:
    """A payload held back by an outage ("a"), then claimed by another node just now."""
    raw_id = _waiting(service, bus, clock, "a")
    assert store.claim(raw_id, UNPUBLISHED, PUBLISHING, clock.now())
    return raw_id


def _claimed_by_a_dead_node(
    service: IngestService, store: EventStore, bus: FlakyBus, clock: FakeClock
) -> int:
    """A claimed payload whose claim has outlived the lease (its node died)."""
    raw_id = _claimed(service, store, bus, clock)
    clock.advance(CLAIM_LEASE + RETRY)
    return raw_id


def _request(clock: FakeClock, *ids: str) -> WebhookRequest:
    lines = [
        orjson.dumps(
            {
                "id": event_id,
                "type": "delivered",
                "occurred_at": "2026-11-27T08:00:00Z",
                "provider": "fake",
                "recipient": "alex@gmail.com",
            }
        )
        for event_id in ids
    ]
    return WebhookRequest({"x-ok": "yes"}, b"\n".join(lines), clock.now())


@pytest.fixture
def store(engine: Engine) -> EventStore:
    return EventStore(engine)


@pytest.fixture
def bus() -> FlakyBus:
    return FlakyBus()


@pytest.fixture
def service(store: EventStore, bus: FlakyBus, clock: FakeClock) -> IngestService:
    return IngestService(store, {"fake": FakeProvider()}, bus, clock)


def test_a_payload_stored_while_the_bus_is_down_is_answered_and_kept_unpublished(
    service: IngestService, store: EventStore, bus: FlakyBus, clock: FakeClock
) -> None:
    bus.down = True
    outcome = service.receive("fake", _request(clock, "a", "b"))
    assert outcome.accepted == 2
    assert any("published when the bus is back" in note for note in outcome.notes)
    kept = store.payload(outcome.raw_id)
    assert (
        kept is not None and kept.status == "unpublished" and "ConnectionError" in str(kept.reason)
    )
    assert store.count_events() == 2 and bus.published == []


def test_waiting_payloads_are_published_oldest_first_once_the_bus_is_back(
    service: IngestService, store: EventStore, bus: FlakyBus, clock: FakeClock
) -> None:
    bus.down = True
    first = service.receive("fake", _request(clock, "a"))
    second = service.receive("fake", _request(clock, "b"))
    bus.down = False
    clock.advance(RETRY)
    service.receive("fake", _request(clock, "c"))
    assert bus.ids() == ["a", "b", "c"]
    for raw_id in (first.raw_id, second.raw_id):
        kept = store.payload(raw_id)
        assert kept is not None and kept.status == "accepted"


def test_a_payload_waits_behind_older_ones_until_the_retry_is_due(
    service: IngestService, bus: FlakyBus, clock: FakeClock
) -> None:
    bus.down = True
    service.receive("fake", _request(clock, "a"))
    bus.down = False
    clock.advance(RETRY / 2)
    later = service.receive("fake", _request(clock, "b"))  # not due: kept, order preserved
    assert bus.published == [] and later.notes
    clock.advance(RETRY)
    assert service.publish_waiting() is True
    assert bus.ids() == ["a", "b"]


def test_a_providers_retry_during_the_outage_is_published_once(
    service: IngestService, bus: FlakyBus, clock: FakeClock
) -> None:
    bus.down = True
    service.receive("fake", _request(clock, "a", "b"))
    retry = service.receive("fake", _request(clock, "a", "b"))  # the ESP retries
    assert retry.accepted == 0 and retry.duplicates == 2
    bus.down = False
    clock.advance(RETRY)
    assert service.publish_waiting() is True
    assert sorted(bus.ids()) == ["a", "b"]


def test_a_payload_another_node_is_publishing_is_left_to_it(
    service: IngestService, store: EventStore, bus: FlakyBus, clock: FakeClock
) -> None:
    bus.down = True
    outcome = service.receive("fake", _request(clock, "a"))
    assert store.claim(outcome.raw_id, "unpublished", PUBLISHING, clock.now())  # the other node
    bus.down = False
    clock.advance(RETRY)
    service.publish_waiting()
    assert bus.published == []


def test_payloads_are_published_at_once_when_the_bus_never_failed(
    service: IngestService, bus: FlakyBus, clock: FakeClock
) -> None:
    service.receive("fake", _request(clock, "a"))
    service.receive("fake", _request(clock, "b"))
    assert bus.ids() == ["a", "b"] and bus.refused == 0


def test_a_claim_left_by_a_dead_node_is_taken_over_after_the_lease(
    service: IngestService, store: EventStore, bus: FlakyBus, clock: FakeClock
) -> None:
    raw_id = _waiting(service, bus, clock, "a", "b")
    clock.advance(RETRY)
    with pytest.raises(SystemExit):
        _node(store, KilledBus(), clock).publish_waiting()  # claims it, then dies
    assert _status(store, raw_id) == PUBLISHING
    clock.advance(RETRY)
    assert service.publish_waiting() is True and bus.published == []  # still within the lease
    clock.advance(CLAIM_LEASE)
    assert service.publish_waiting() is True
    assert sorted(bus.ids()) == ["a", "b"] and _status(store, raw_id) == "accepted"


def test_a_fresh_claim_is_not_taken_over(
    service: IngestService, store: EventStore, bus: FlakyBus, clock: FakeClock
) -> None:
    raw_id = _claimed(service, store, bus, clock)  # by another node, alive
    clock.advance(CLAIM_LEASE)  # a claim exactly as old as the lease still holds
    assert service.publish_waiting() is True
    assert bus.published == [] and _status(store, raw_id) == PUBLISHING
    clock.advance(timedelta(seconds=1))
    assert service.publish_waiting() is True
    assert bus.ids() == ["a"] and _status(store, raw_id) == "accepted"


def test_a_node_that_saw_a_claim_looks_again_when_it_may_have_lapsed(
    service: IngestService, store: EventStore, bus: FlakyBus, clock: FakeClock
) -> None:
    raw_id = _claimed(service, store, bus, clock)  # then that node dies
    clock.advance(RETRY)
    service.receive("fake", _request(clock, "b"))  # not held back by another node's claim
    assert bus.ids() == ["b"]
    clock.advance(CLAIM_LEASE)
    service.receive("fake", _request(clock, "c"))  # traffic alone takes the lapsed claim over
    assert bus.ids() == ["b", "a", "c"] and _status(store, raw_id) == "accepted"


def test_two_nodes_racing_for_a_lapsed_claim_publish_it_once(
    service: IngestService, store: EventStore, bus: FlakyBus, clock: FakeClock
) -> None:
    raw_id = _claimed_by_a_dead_node(service, store, bus, clock)
    buses = [FlakyBus(), FlakyBus()]
    nodes = [_node(store, node_bus, clock) for node_bus in buses]
    start = threading.Barrier(len(nodes))
    results: list[bool] = []

    def flush(node: IngestService) -> None:
        start.wait()
        results.append(node.publish_waiting())

    threads = [threading.Thread(target=flush, args=(node,)) for node in nodes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == [True, True]
    assert sorted(len(node_bus.published) for node_bus in buses) == [0, 1]
    assert _status(store, raw_id) == "accepted"


def test_a_claim_just_taken_over_is_left_to_its_new_holder(
    service: IngestService, store: EventStore, bus: FlakyBus, clock: FakeClock
) -> None:
    raw_id = _claimed_by_a_dead_node(service, store, bus, clock)
    other_bus = FlakyBus()
    other = _node(store, other_bus, clock)
    first_bus = HookBus(hook=lambda: other.publish_waiting())  # the other node flushes mid-way
    assert _node(store, first_bus, clock).publish_waiting() is True
    assert first_bus.ids() == ["a"] and other_bus.published == []
    assert _status(store, raw_id) == "accepted"


def test_of_two_takeovers_of_one_lapsed_claim_only_one_wins(
    service: IngestService, store: EventStore, bus: FlakyBus, clock: FakeClock
) -> None:
    raw_id = _claimed_by_a_dead_node(service, store, bus, clock)
    cutoff = clock.now() - CLAIM_LEASE
    won = [
        store.claim(raw_id, UNPUBLISHED, PUBLISHING, clock.now(), lapsed_before=cutoff)
        for _ in range(2)
    ]
    assert won == [True, False]


def test_a_node_whose_claim_lapsed_leaves_the_payload_to_the_one_that_took_it_over(
    service: IngestService, store: EventStore, bus: FlakyBus, clock: FakeClock
) -> None:
    raw_id = _waiting(service, bus, clock, "a")
    clock.advance(RETRY)
    taken, finish = threading.Event(), threading.Event()

    def hold_the_claim() -> None:
        taken.set()
        finish.wait(timeout=60)

    other_bus = HookBus(hook=hold_the_claim)
    other = _node(store, other_bus, clock)
    results: list[bool] = []
    thread = threading.Thread(target=lambda: results.append(other.publish_waiting()))

    def stall_then_fail() -> None:
        clock.advance(CLAIM_LEASE + RETRY)  # this node hangs past its lease...
        thread.start()  # ...the other node takes the claim over and is publishing...
        assert taken.wait(timeout=60)
        slow_bus.down = True  # ...when this node's own publish fails

    slow_bus = HookBus(hook=stall_then_fail)
    slow = _node(store, slow_bus, clock)
    assert slow.publish_waiting() is False
    assert _status(store, raw_id) == PUBLISHING  # not handed back while the other holds it
    finish.set()
    thread.join(timeout=60)
    assert results == [True] and _status(store, raw_id) == "accepted"
    slow_bus.down, slow_bus.hook = False, None
    clock.advance(RETRY)
    assert slow.publish_waiting() is True
    assert slow_bus.published == [] and other_bus.ids() == ["a"]


def test_the_serve_scheduler_publishes_held_back_payloads_with_no_traffic(
    store: EventStore,
) -> None:
    clock = FakeClock()
    bus = FlakyBus()
    raw_id = _waiting(_node(store, bus, clock), bus, clock, "quiet-1")
    assert _status(store, raw_id) == UNPUBLISHED
    ticks: list[str] = []

    class Detection:
        def tick(self) -> str:
            ticks.append("detected")
            return "ok"

    ticker = RepublishThenTick(_node(store, bus, clock), Detection())
    clock.advance(RETRY)
    assert ticker.tick() == "ok"
    assert _status(store, raw_id) == "accepted"
    assert bus.ids() == ["quiet-1"]
    assert ticks == ["detected"]


def test_a_failing_republish_does_not_stop_the_rest_of_the_tick(store: EventStore) -> None:
    class BrokenIngest:
        def publish_waiting(self) -> bool:
            raise RuntimeError("database away")

    class Detection:
        def tick(self) -> str:
            return "ticked"

    ticker = RepublishThenTick(BrokenIngest(), Detection())  # type: ignore[arg-type]
    assert ticker.tick() == "ticked"
