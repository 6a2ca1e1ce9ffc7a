"""Migrations run forwards and backwards on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, inspect, text

from mailwarden.store import migrate
from mailwarden.store.events_repo import EventStore, RawPayload


def test_schema_downgrades_to_empty_and_upgrades_again(engine: Engine) -> None:
    assert {"events", "raw_payloads", "webhook_tokens"} <= set(inspect(engine).get_table_names())
    migrate.downgrade(engine, "base")
    assert "events" not in inspect(engine).get_table_names()
    migrate.upgrade(engine)
    assert "events" in inspect(engine).get_table_names()


def test_upgrade_twice_is_harmless(engine: Engine) -> None:
    migrate.upgrade(engine)
    assert "raw_payloads" in inspect(engine).get_table_names()


def test_downgrading_below_compressed_bodies_unpacks_them_first(engine: Engine) -> None:
    body = b"\n".join(b'{"id": "e%d", "type": "delivered"}' % n for n in range(300))
    store = EventStore(engine)
    raw = RawPayload("fake", "webhook", datetime(2026, 11, 27, tzinfo=UTC), {}, body, True)
    raw_id = store.record(raw, [], "deadletter", "kept for the test").raw_id
    migrate.downgrade(engine, "0008")
    with engine.connect() as conn:
        kept = conn.execute(text("SELECT body FROM raw_payloads WHERE id = :id"), {"id": raw_id})
        assert bytes(kept.scalar_one()) == body
    migrate.upgrade(engine)
    assert store.payload(raw_id) is not None
