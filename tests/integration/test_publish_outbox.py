"""A bus outage loses nothing: payloads are answered, kept unpublished, and published later."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest
from sqlalchemy import Engine
from tests.fakes import FakeProvider, FlakyBus

from mailwarden.clock import FakeClock
from mailwarden.events.ingest import IngestService
from mailwarden.events.outbox import PUBLISHING
from mailwarden.events.providers.base import WebhookRequest
from mailwarden.store.events_repo import EventStore

RETRY = timedelta(seconds=5)


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
