"""The ingest path on SQLite and PostgreSQL: durable raw payloads, dedup, dead letters, replay."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import Engine, func, select
from tests.fakes import FakeProvider, RecordingBus, RecordingFetcher

from mailwarden.clock import FakeClock
from mailwarden.events.errors import SignatureError
from mailwarden.events.ingest import ConfirmationError, IngestService, PayloadRejectedError
from mailwarden.events.providers.base import WebhookRequest
from mailwarden.store.events_repo import EventStore
from mailwarden.store.tables import raw_payloads


def _line(event_id: str, event_type: str = "delivered", minute: int = 0) -> bytes:
    return orjson.dumps(
        {
            "id": event_id,
            "type": event_type,
            "occurred_at": f"2026-11-27T08:{minute:02d}:00Z",
            "provider": "fake",
            "recipient": "alex@gmail.com",
        }
    )


def _request(clock: FakeClock, *lines: bytes, **headers: str) -> WebhookRequest:
    return WebhookRequest(
        headers={"x-ok": "yes", **headers}, body=b"\n".join(lines), received_at=clock.now()
    )


@pytest.fixture
def provider() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
def bus() -> RecordingBus:
    return RecordingBus()


@pytest.fixture
def fetcher() -> RecordingFetcher:
    return RecordingFetcher()


@pytest.fixture
def store(engine: Engine) -> EventStore:
    return EventStore(engine)


@pytest.fixture
def service(
    store: EventStore,
    provider: FakeProvider,
    bus: RecordingBus,
    clock: FakeClock,
    fetcher: RecordingFetcher,
) -> IngestService:
    return IngestService(store, {"fake": provider}, bus, clock, fetcher)


def test_payload_and_its_events_are_stored_together(
    service: IngestService, store: EventStore, clock: FakeClock
) -> None:
    outcome = service.receive("fake", _request(clock, _line("a"), _line("b", "bounced")))
    assert (outcome.accepted, outcome.duplicates) == (2, 0)
    kept = store.payload(outcome.raw_id)
    assert kept is not None and kept.status == "accepted" and kept.event_count == 2
    assert [event.raw_ref for event in store.events()] == [outcome.raw_id, outcome.raw_id]


def test_redelivered_events_are_stored_and_published_once(
    service: IngestService, store: EventStore, bus: RecordingBus, clock: FakeClock
) -> None:
    service.receive("fake", _request(clock, _line("a"), _line("b")))
    again = service.receive("fake", _request(clock, _line("b"), _line("c")))
    assert (again.accepted, again.duplicates) == (1, 1)
    assert store.count_events() == 3
    assert bus.ids() == ["a", "b", "c"]


def test_repeats_inside_one_payload_count_once(
    service: IngestService, store: EventStore, clock: FakeClock
) -> None:
    outcome = service.receive("fake", _request(clock, _line("a"), _line("a"), _line("a")))
    assert (outcome.accepted, outcome.duplicates) == (1, 2)
    assert store.count_events() == 1


def test_bad_signature_is_refused_and_nothing_is_kept(
    service: IngestService, store: EventStore, clock: FakeClock
) -> None:
    request = WebhookRequest(headers={}, body=_line("a"), received_at=clock.now())
    with pytest.raises(SignatureError):
        service.receive("fake", request)
    assert store.count_events() == 0
    assert store.payloads() == []


def test_unparseable_payload_is_dead_lettered_with_its_reason(
    service: IngestService, store: EventStore, clock: FakeClock
) -> None:
    with pytest.raises(PayloadRejectedError) as caught:
        service.receive("fake", _request(clock, b"{not json"))
    kept = store.payload(caught.value.raw_id)
    assert kept is not None
    assert kept.status == "deadletter"
    assert kept.body == b"{not json"
    assert "not JSON" in (kept.reason or "")
    assert store.count_payloads("deadletter") == 1


def test_dead_letter_replayed_after_a_fix_stores_its_events_once(
    service: IngestService, store: EventStore, provider: FakeProvider, clock: FakeClock
) -> None:
    provider.broken = True
    with pytest.raises(PayloadRejectedError) as caught:
        service.receive("fake", _request(clock, _line("a"), _line("b")))
    provider.broken = False
    first = service.replay(caught.value.raw_id)
    second = service.replay(caught.value.raw_id)
    assert (first.accepted, second.accepted, second.duplicates) == (2, 0, 2)
    assert store.count_events() == 2
    kept = store.payload(caught.value.raw_id)
    assert kept is not None and kept.status == "replayed" and kept.reason is None


def test_a_large_payload_is_kept_compressed_and_replays_byte_for_byte(
    service: IngestService,
    store: EventStore,
    provider: FakeProvider,
    clock: FakeClock,
    engine: Engine,
) -> None:
    lines = [_line(f"big-{n}", minute=n % 60) for n in range(200)]
    provider.broken = True
    with pytest.raises(PayloadRejectedError) as caught:
        service.receive("fake", _request(clock, *lines))
    provider.broken = False
    raw_id = caught.value.raw_id
    with engine.connect() as conn:
        size, encoding = conn.execute(
            select(func.length(raw_payloads.c.body), raw_payloads.c.body_encoding).where(
                raw_payloads.c.id == raw_id
            )
        ).one()
    body = b"\n".join(lines)
    assert encoding == "lz4" and size < len(body) / 3
    kept = store.payload(raw_id)
    assert kept is not None and kept.body == body
    assert service.replay(raw_id).accepted == 200


def test_replay_that_still_fails_stays_dead_lettered(
    service: IngestService, store: EventStore, provider: FakeProvider, clock: FakeClock
) -> None:
    provider.broken = True
    with pytest.raises(PayloadRejectedError) as caught:
        service.receive("fake", _request(clock, _line("a")))
    with pytest.raises(PayloadRejectedError):
        service.replay(caught.value.raw_id)
    assert store.count_payloads("deadletter") == 1


def test_credentials_in_headers_are_never_kept(
    service: IngestService, store: EventStore, clock: FakeClock
) -> None:
    request = _request(clock, _line("a"), authorization="Basic c2VjcmV0OnNlY3JldA==")
    outcome = service.receive("fake", request)
    kept = store.payload(outcome.raw_id)
    assert kept is not None
    assert "authorization" not in kept.headers
    assert kept.headers["x-ok"] == "yes"


def test_subscription_confirmation_is_fetched_through_the_port(
    service: IngestService, provider: FakeProvider, fetcher: RecordingFetcher, clock: FakeClock
) -> None:
    url = "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t"
    provider.confirm_url = url
    fetcher.pages[url] = b"<ConfirmSubscriptionResponse/>"
    service.receive("fake", _request(clock))
    assert fetcher.requested == [url]


def test_failed_confirmation_is_dead_lettered_for_replay(
    service: IngestService,
    store: EventStore,
    provider: FakeProvider,
    fetcher: RecordingFetcher,
    clock: FakeClock,
) -> None:
    url = "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t"
    provider.confirm_url = url
    with pytest.raises(ConfirmationError) as caught:
        service.receive("fake", _request(clock))
    kept = store.payload(caught.value.raw_id)
    assert kept is not None and kept.status == "deadletter"
    fetcher.pages[url] = b"ok"
    service.replay(caught.value.raw_id)
    assert fetcher.requested == [url, url]


def test_events_come_back_in_time_order_with_filters(
    service: IngestService, store: EventStore, clock: FakeClock
) -> None:
    service.receive(
        "fake",
        _request(
            clock, _line("late", minute=30), _line("early", minute=1), _line("b", "bounced", 5)
        ),
    )
    assert [e.id for e in store.events()] == ["early", "b", "late"]
    assert [e.id for e in store.events(type_="bounced")] == ["b"]
