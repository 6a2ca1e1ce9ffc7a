"""Recording payloads: all or nothing, and the same outcome on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from mailwarden.events.model import Bounce, Event
from mailwarden.store import migrate
from mailwarden.store.engine import make_engine
from mailwarden.store.events_repo import EventStore, RawPayload, Recording

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
BIG = b"[" + b'{"event": "delivered", "email": "a@gmail.com"},' * 200 + b"{}]"


def _raw(body: bytes) -> RawPayload:
    return RawPayload("sendgrid", "webhook", T0, {"content-type": "application/json"}, body, True)


def _event(n: int, **fields: Any) -> Event:
    bounce = Bounce("hard", "userunknown", 550, "5.1.1", "no such user") if n % 4 == 0 else None
    return Event(
        f"sg:{n}",
        "bounced" if bounce else "delivered",
        T0 + timedelta(seconds=n % 7),
        "sendgrid",
        recipient=f"u{n}@gmail.com",
        tags=["promo"],
        bounce=bounce,
        **({"extra": {"smtp-id": f"<{n}@x>"}} | fields),
    )


def _store_everything(store: EventStore) -> list[tuple[Any, ...]]:
    """A fresh batch, a batch repeating itself, a retry with some new events, an empty one."""
    outcomes = []
    for body, events in [
        (BIG, [_event(n) for n in range(10)]),
        (b"[1]", [_event(10), _event(10), _event(11)]),
        (b"[2]", [_event(n) for n in range(5, 15)]),
        (b"[]", []),
    ]:
        result = store.record(_raw(body), events, "accepted")
        outcomes.append(
            (result.duplicates, [(e.id, e.raw_ref) for e in result.new_events], result.raw_id)
        )
    return outcomes


def test_a_payload_whose_events_cannot_be_written_leaves_nothing_behind(engine: Engine) -> None:
    store = EventStore(engine)
    good = Recording(_raw(b"[1]"), [_event(1)], "accepted")
    bad = Recording(_raw(b"[2]"), [_event(2, extra={"x": object()})], "accepted")
    with pytest.raises(TypeError):
        store.record_many([good, bad])
    assert store.count_events() == 0
    assert store.payloads() == []
    assert [e.id for e in store.record_many([good])[0].new_events] == ["sg:1"]
    assert store.count_events() == 1 and len(store.payloads()) == 1


@pytest.mark.postgres
def test_sqlite_and_postgresql_record_the_same_payloads_and_events(
    sqlite_url: str, postgres_url: str
) -> None:
    seen = []
    for url in (sqlite_url, postgres_url):
        engine = make_engine(url)
        migrate.upgrade(engine)
        store = EventStore(engine)
        outcomes = _store_everything(store)
        payloads = [
            (p.body, p.headers, p.event_count, p.status, p.verified) for p in store.payloads()
        ]
        seen.append((outcomes, payloads, list(store.events())))
        engine.dispose()
    assert seen[0] == seen[1]
    outcomes, payloads, events = seen[0]
    assert [(dups, len(new)) for dups, new, _ in outcomes] == [(0, 10), (1, 2), (7, 3), (0, 0)]
    assert payloads[-1][0] == BIG and len(events) == 15
