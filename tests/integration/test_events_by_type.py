"""Reading one rare event type (an incident's complainers, its hard bounces) reads only it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from mailwarden.events.model import Event
from mailwarden.store import migrate
from mailwarden.store.engine import make_engine
from mailwarden.store.events_repo import EventStore, RawPayload

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def _day(count: int) -> list[Event]:
    kinds = ("delivered", "opened", "delivered", "clicked", "delivered")
    return [
        Event(
            f"e{n}",
            "complained" if n % 97 == 0 else kinds[n % len(kinds)],
            T0 + timedelta(seconds=n * 7),
            "sendgrid",
            recipient=f"r{n}@example.com",
        )
        for n in range(count)
    ]


def _store(engine: Engine, batch: list[Event]) -> None:
    raw = RawPayload("sendgrid", "webhook", T0, {}, b"[]", True)
    EventStore(engine).record(raw, batch, "accepted")


def test_reading_complaints_returns_exactly_the_complaints_in_time_order(engine: Engine) -> None:
    day = _day(2000)
    _store(engine, day)
    since = T0 + timedelta(hours=1)
    found = list(EventStore(engine).events(type_="complained", since=since))
    wanted = [e for e in day if e.type == "complained" and e.occurred_at >= since]
    assert [e.id for e in found] == [e.id for e in wanted] and wanted


def test_complaints_are_read_through_the_partial_index_on_sqlite(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'types.db'}", sqlite_synchronous="OFF")
    migrate.upgrade(engine)
    _store(engine, _day(3000))
    seen: list[str] = []

    def keep(statement: str) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM events" in statement:
            seen.append(statement)

    def trace(dbapi_connection: Any, *_rest: Any) -> None:
        dbapi_connection.set_trace_callback(keep)

    event.listen(engine, "checkout", trace)
    assert list(EventStore(engine).events(type_="complained", since=T0))
    event.remove(engine, "checkout", trace)
    with engine.connect() as conn:
        conn.connection.driver_connection.set_trace_callback(None)  # type: ignore[union-attr]
        assert seen
        for statement in seen:
            plan = [str(row[3]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}")]
            assert any("USING INDEX ix_events_rare_type" in step for step in plan), plan
    engine.dispose()
