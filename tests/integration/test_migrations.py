"""Migrations run forwards and backwards on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, inspect, text

from mailwarden.store import migrate
from mailwarden.store.events_repo import EventStore, RawPayload
from mailwarden.store.rollups_repo import RollupStore


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


def test_rollup_counters_survive_the_rebuild_of_their_table_both_ways(engine: Engine) -> None:
    counts = {(29_000_000 + n, "campaign", f"c{n % 7}", "delivered"): n + 1 for n in range(50)}
    counts[(29_000_000, "campaign", "c0", "bounced.hard")] = 2
    counts[(29_000_000, "campaign", "c0", "bounced.reason.mailbox_full")] = 2
    RollupStore(engine).add(counts)
    migrate.downgrade(engine, "0009")  # below 0012 (counter columns) and 0010 (clustering)
    assert _stored_rows(engine) == counts
    migrate.upgrade(engine)
    assert _rollup_counts(engine) == counts
    RollupStore(engine).add(counts)  # the upserts still find the primary keys
    assert _rollup_counts(engine) == {key: 2 * count for key, count in counts.items()}


def test_sqlite_keeps_rollups_clustered_on_their_key(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return
    for table in ("rollups", "rollup_counts"):
        with engine.connect() as conn:
            schema = conn.execute(
                text("SELECT sql FROM sqlite_master WHERE name = :t"), {"t": table}
            )
            assert "WITHOUT ROWID" in schema.scalar_one().upper()


def _rollup_counts(engine: Engine) -> dict[tuple[int, str, str, str], int]:
    rows = RollupStore(engine).rows(0)
    return {
        (minute, dimension, key, metric): count for minute, dimension, key, metric, count in rows
    }


def _stored_rows(engine: Engine) -> dict[tuple[int, str, str, str], int]:
    """The rollups table as it is, one row per counter (before migration 0012)."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT minute, dimension, key, metric, count FROM rollups"))
        return {(int(m), str(d), str(k), str(metric)): int(c) for m, d, k, metric, c in rows}
