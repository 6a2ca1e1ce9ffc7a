"""Which of a batch's events (by their dedup key: occurred_ms, id) the store already holds.

A provider that retries a whole batch sends events we have, so this runs on the ingest path.
SQLite plans a row-value ``IN`` list as a scan of the whole events table; joined from a
``VALUES`` list it probes the unique index once per key instead. PostgreSQL plans the
``IN`` list well.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, select, tuple_
from sqlalchemy.engine.interfaces import DBAPICursor

from mailwarden.events.model import Event
from mailwarden.store.rows import to_ms
from mailwarden.store.tables import events

Key = tuple[int, str]
CHUNK = 500  # keys per statement (two bound values each)


def existing_keys(
    conn: Connection, candidates: Sequence[Event], *, raw_id: int | None, sqlite: bool
) -> set[Key]:
    """The keys of the candidates already stored (only those raw_id stored, when given)."""
    if sqlite:
        return sqlite_keys(conn.connection.cursor(), candidates, raw_id=raw_id)
    keys = [(to_ms(event.occurred_at), event.id) for event in candidates]
    found: set[Key] = set()
    for start in range(0, len(keys), CHUNK):
        found |= _keys(conn, keys[start : start + CHUNK], raw_id)
    return found


def sqlite_keys(
    cursor: DBAPICursor, candidates: Sequence[Event], *, raw_id: int | None
) -> set[Key]:
    """existing_keys on SQLite, through a sqlite3 cursor (inside the caller's transaction)."""
    keys = [(to_ms(event.occurred_at), event.id) for event in candidates]
    found: set[Key] = set()
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        rows = ", ".join("(?, ?)" for _ in chunk)
        sql = (
            f"WITH k(ms, id) AS (VALUES {rows}) "  # noqa: S608 - placeholders only, values bound
            "SELECT e.occurred_ms, e.id FROM k "
            "JOIN events e ON e.occurred_ms = k.ms AND e.id = k.id"
        )
        params: list[object] = [value for key in chunk for value in key]
        if raw_id is not None:
            sql += " WHERE e.raw_id = ?"
            params.append(raw_id)
        cursor.execute(sql, params)
        found.update((int(ms), str(event_id)) for ms, event_id in cursor.fetchall())
    return found


def _keys(conn: Connection, keys: list[Key], raw_id: int | None) -> set[Key]:
    query = select(events.c.occurred_ms, events.c.id).where(
        tuple_(events.c.occurred_ms, events.c.id).in_(keys)
    )
    if raw_id is not None:
        query = query.where(events.c.raw_id == raw_id)
    return {(int(ms), str(event_id)) for ms, event_id in conn.execute(query)}
