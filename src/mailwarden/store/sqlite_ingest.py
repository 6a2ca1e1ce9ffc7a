"""SQLite's ingest write: payloads and their events in one transaction, on the sqlite3 driver.

This runs for every webhook request (for a few at once under group commit), so it skips
SQLAlchemy (see store/driver.py); PostgreSQL, and every other statement, stays with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import orjson
from sqlalchemy import Engine
from sqlalchemy.engine.interfaces import DBAPICursor

from mailwarden.events.model import Event
from mailwarden.store.driver import sqlite_transaction
from mailwarden.store.event_keys import sqlite_keys
from mailwarden.store.payloads import Recording, StoreResult
from mailwarden.store.raw_body import pack
from mailwarden.store.rows import EVENT_COLUMNS, event_rows, to_ms

RAW_COLUMNS: Final = (
    "provider",
    "source",
    "received_ms",
    "headers",
    "body",
    "body_encoding",
    "verified",
    "status",
    "reason",
    "event_count",
    "updated_ms",
)
# Column names are constants and values are bound, so the f-strings are safe.
EVENT_INSERT: Final = (
    f"INSERT OR IGNORE INTO events ({', '.join(EVENT_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join('?' for _ in EVENT_COLUMNS)})"
)
_RAW_INSERT: Final = (
    f"INSERT INTO raw_payloads ({', '.join(RAW_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join('?' for _ in RAW_COLUMNS)})"
)


def record_many(engine: Engine, recordings: Sequence[Recording]) -> list[StoreResult]:
    """Keep the payloads and their new events in one transaction; all or nothing."""
    with sqlite_transaction(engine) as cursor:
        return [_record(cursor, item) for item in recordings]


def unique_events(parsed: Sequence[Event]) -> list[Event]:
    """The payload's events, each id once: one payload naming an id twice means one event."""
    return list({event.id: event for event in parsed}.values())


def _record(cursor: DBAPICursor, item: Recording) -> StoreResult:
    raw = item.raw
    now_ms = to_ms(raw.received_at)
    count = len(item.events)
    body, encoding = pack(raw.body)
    values: tuple[Any, ...] = (
        raw.provider,
        raw.source,
        now_ms,
        orjson.dumps(raw.headers).decode(),
        body,
        encoding,
        raw.verified,
        item.status,
        item.reason,
        count,
        now_ms,
    )
    cursor.execute(_RAW_INSERT, values)
    raw_id = int(cursor.lastrowid)
    new = _insert_events(cursor, unique_events(item.events), raw_id) if count else []
    for event in new:
        event.raw_ref = raw_id
    return StoreResult(raw_id, new, count - len(new))


def _insert_events(cursor: DBAPICursor, unique: list[Event], raw_id: int) -> list[Event]:
    # Rows this call adds carry this payload's brand-new raw_id; a repeat keeps the
    # raw_id of the payload that brought it first. Only a short count needs a look-up.
    cursor.executemany(EVENT_INSERT, event_rows(unique, raw_id))
    if cursor.rowcount == len(unique):
        return unique
    mine = sqlite_keys(cursor, unique, raw_id=raw_id)
    return [e for e in unique if (to_ms(e.occurred_at), e.id) in mine]
