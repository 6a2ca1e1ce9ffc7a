"""Looking up which events of a batch are already stored probes the index, never scans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from mailwarden.events.model import Event
from mailwarden.store import migrate
from mailwarden.store.engine import is_sqlite, make_engine
from mailwarden.store.event_keys import existing_keys
from mailwarden.store.events_repo import EventStore, RawPayload

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def _events(first: int, count: int) -> list[Event]:
    return [
        Event(f"sg:{n}", "delivered", T0 + timedelta(seconds=n % 90), "sendgrid")
        for n in range(first, first + count)
    ]


def _store(engine: Engine, batch: list[Event]) -> int:
    raw = RawPayload("sendgrid", "webhook", T0, {}, b"[]", True)
    return EventStore(engine).record(raw, batch, "accepted").raw_id


def test_the_stored_keys_of_a_batch_are_found_on_both_databases(engine: Engine) -> None:
    first = _store(engine, _events(0, 700))
    second = _store(engine, _events(700, 100))
    asked = _events(650, 200)  # 50 from the first payload, 100 from the second, 50 new
    sqlite = is_sqlite(engine)
    with engine.connect() as conn:
        everything = existing_keys(conn, asked, raw_id=None, sqlite=sqlite)
        mine = existing_keys(conn, asked, raw_id=second, sqlite=sqlite)
        theirs = existing_keys(conn, asked, raw_id=first, sqlite=sqlite)
    assert len(everything) == 150 and len(mine) == 100 and len(theirs) == 50
    assert (int((T0 + timedelta(seconds=700 % 90)).timestamp() * 1000), "sg:700") in mine


def test_a_redelivered_batch_is_looked_up_through_the_index_on_sqlite(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'keys.db'}", sqlite_synchronous="OFF")
    migrate.upgrade(engine)
    _store(engine, _events(0, 300))
    seen: list[str] = []

    def keep(statement: str) -> None:  # sqlite3 hands over the SQL with its values filled in
        if "FROM k JOIN events" in statement or "IN (VALUES" in statement:
            seen.append(statement)

    def trace(dbapi_connection: Any, *_rest: Any) -> None:
        dbapi_connection.set_trace_callback(keep)

    # The ingest write runs on the sqlite3 connection itself, so watch the driver.
    event.listen(engine, "checkout", trace)
    _store(engine, _events(200, 300))  # a provider's retry: 100 known, 200 new
    event.remove(engine, "checkout", trace)
    with engine.connect() as conn:
        conn.connection.driver_connection.set_trace_callback(None)  # type: ignore[union-attr]
        assert seen, "the duplicates were not looked up"
        for statement in seen:
            plan = [str(row[3]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}")]
            assert any("USING INDEX ux_events_occurred_id" in step for step in plan), plan
            assert not any(step.startswith("SCAN e") for step in plan), plan  # e, events
    engine.dispose()
