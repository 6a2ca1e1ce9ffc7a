"""Canonical events and their raw payloads: one transaction per payload, idempotent by event id."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import SQLAlchemyError

from mailwarden.events.model import Event
from mailwarden.store import sqlite_ingest
from mailwarden.store.engine import is_sqlite
from mailwarden.store.event_keys import existing_keys
from mailwarden.store.payloads import RawPayload, Recording, StoredPayload, StoreResult
from mailwarden.store.raw_body import pack, unpack
from mailwarden.store.rows import EVENT_COLUMNS, event_rows, from_ms, row_event, to_ms
from mailwarden.store.tables import INDEXED_TYPES, INDEXED_TYPES_SQL, events, raw_payloads

__all__ = ["EventStore", "RawPayload", "Recording", "StoreResult", "StoredPayload"]


class EventStore:
    """Writes payloads and events atomically and reads them back."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sqlite = is_sqlite(engine)
        # Built once: a statement made per payload costs more than the insert itself.
        self._raw_insert = insert(raw_payloads).returning(raw_payloads.c.id)

    def record(
        self, raw: RawPayload, parsed: Sequence[Event], status: str, reason: str | None = None
    ) -> StoreResult:
        """Keep the raw payload with its status and store its new events, in one transaction."""
        return self.record_many([Recording(raw, parsed, status, reason)])[0]

    def record_many(self, recordings: Sequence[Recording]) -> list[StoreResult]:
        """Keep several payloads and their new events in one transaction (group commit)."""
        if self._sqlite:
            return sqlite_ingest.record_many(self._engine, recordings)
        results: list[StoreResult] = []
        with self._engine.begin() as conn:
            for item in recordings:
                now_ms = to_ms(item.raw.received_at)
                count = len(item.events)
                raw_id = self._insert_raw(conn, item.raw, item.status, item.reason, now_ms, count)
                new = self._insert_events(conn, item.events, raw_id)
                results.append(StoreResult(raw_id, new, count - len(new)))
        return results

    def resolve(
        self, raw_id: int, parsed: Sequence[Event], status: str, at: datetime
    ) -> StoreResult:
        """Store the events of an earlier payload (a replay) and mark it with status."""
        now_ms = to_ms(at)
        with self._engine.begin() as conn:
            conn.execute(
                update(raw_payloads)
                .where(raw_payloads.c.id == raw_id)
                .values(status=status, reason=None, event_count=len(parsed), updated_ms=now_ms)
            )
            new = self._insert_events(conn, parsed, raw_id)
        return StoreResult(raw_id, new, len(parsed) - len(new))

    def mark(self, raw_id: int, status: str, reason: str | None, at: datetime) -> None:
        """Change a raw payload's status (e.g. a failed replay keeps it dead-lettered)."""
        with self._engine.begin() as conn:
            conn.execute(
                update(raw_payloads)
                .where(raw_payloads.c.id == raw_id)
                .values(status=status, reason=reason, updated_ms=to_ms(at))
            )

    def claim(
        self,
        raw_id: int,
        expected: str,
        status: str,
        at: datetime,
        *,
        lapsed_before: datetime | None = None,
    ) -> bool:
        """Move a payload to status, stamped at; False if another process got there first."""
        # With lapsed_before, a claim already in status but stamped before then (its holder
        # died) is taken over too. One UPDATE decides, so two processes never both win.
        with self._engine.begin() as conn:
            result = conn.execute(
                update(raw_payloads)
                .where(raw_payloads.c.id == raw_id, _claimable(expected, status, lapsed_before))
                .values(status=status, updated_ms=to_ms(at))
            )
        return bool(result.rowcount == 1)

    def release(
        self,
        raw_id: int,
        held: str,
        claimed_at: datetime,
        status: str,
        reason: str | None,
        at: datetime,
    ) -> bool:
        """End a claim made at claimed_at with status; False if it lapsed and was taken over."""
        with self._engine.begin() as conn:
            result = conn.execute(
                update(raw_payloads)
                .where(
                    raw_payloads.c.id == raw_id,
                    raw_payloads.c.status == held,
                    raw_payloads.c.updated_ms == to_ms(claimed_at),
                )
                .values(status=status, reason=reason, updated_ms=to_ms(at))
            )
        return bool(result.rowcount == 1)

    def claimable_ids(
        self, expected: str, status: str, lapsed_before: datetime, limit: int = 100
    ) -> list[int]:
        """Ids, oldest first, of payloads in expected or whose claim was stamped before then."""
        query = (
            select(raw_payloads.c.id)
            .where(_claimable(expected, status, lapsed_before))
            .order_by(raw_payloads.c.id)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return [int(raw_id) for raw_id in conn.execute(query).scalars()]

    def oldest_claim(self, status: str) -> datetime | None:
        """When the oldest claim still in status was stamped; None when there is none."""
        query = select(func.min(raw_payloads.c.updated_ms)).where(raw_payloads.c.status == status)
        with self._engine.connect() as conn:
            stamp = conn.execute(query).scalar_one()
        return None if stamp is None else from_ms(int(stamp))

    def payload(self, raw_id: int) -> StoredPayload | None:
        """Return one raw payload by id."""
        with self._engine.connect() as conn:
            row = conn.execute(select(raw_payloads).where(raw_payloads.c.id == raw_id)).first()
        return _stored(row) if row is not None else None

    def payloads(self, status: str | None = None, limit: int = 100) -> list[StoredPayload]:
        """Return raw payloads, newest first, optionally only those with one status."""
        query = select(raw_payloads).order_by(raw_payloads.c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(raw_payloads.c.status == status)
        with self._engine.connect() as conn:
            return [_stored(row) for row in conn.execute(query)]

    def count_payloads(self, status: str) -> int:
        """Count raw payloads with one status."""
        query = select(func.count()).select_from(raw_payloads)
        with self._engine.connect() as conn:
            return int(conn.execute(query.where(raw_payloads.c.status == status)).scalar_one())

    def events(
        self,
        *,
        type_: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> Iterator[Event]:
        """Yield stored events in time order, optionally filtered by type and time."""
        query = select(*(events.c[name] for name in EVENT_COLUMNS)).order_by(
            events.c.occurred_ms, events.c.seq
        )
        if type_ is not None:
            query = query.where(events.c.type == type_)
            if type_ in INDEXED_TYPES:
                query = query.where(text(INDEXED_TYPES_SQL))
        if since is not None:
            query = query.where(events.c.occurred_ms >= to_ms(since))
        if until is not None:
            query = query.where(events.c.occurred_ms < to_ms(until))
        if limit is not None:
            query = query.limit(limit)
        with self._engine.connect() as conn:
            for row in conn.execution_options(yield_per=1000).execute(query):
                yield row_event(row)

    def oldest_payload_ids(self, status: str, limit: int = 100) -> list[int]:
        """Ids of raw payloads with one status, oldest first."""
        query = (
            select(raw_payloads.c.id)
            .where(raw_payloads.c.status == status)
            .order_by(raw_payloads.c.id)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return [int(raw_id) for raw_id in conn.execute(query).scalars()]

    def stored_by(self, raw_id: int, candidates: Sequence[Event]) -> list[Event]:
        """Those of the candidates (a payload parsed again) that this payload first stored."""
        with self._engine.connect() as conn:
            mine = existing_keys(conn, candidates, raw_id=raw_id, sqlite=self._sqlite)
        return [e for e in candidates if (to_ms(e.occurred_at), e.id) in mine]

    def ping(self) -> bool:
        """Answer True when the database answers a trivial query."""
        try:
            with self._engine.connect() as conn:
                return bool(conn.execute(select(1)).scalar_one() == 1)
        except SQLAlchemyError:
            return False

    def count_events(self) -> int:
        """Count stored events."""
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(events)).scalar_one())

    def _insert_raw(
        self,
        conn: Connection,
        raw: RawPayload,
        status: str,
        reason: str | None,
        now_ms: int,
        event_count: int,
    ) -> int:
        body, encoding = pack(raw.body)
        values = {
            "provider": raw.provider,
            "source": raw.source,
            "received_ms": now_ms,
            "headers": orjson.dumps(raw.headers).decode(),
            "body": body,
            "body_encoding": encoding,
            "verified": raw.verified,
            "status": status,
            "reason": reason,
            "event_count": event_count,
            "updated_ms": now_ms,
        }
        return int(conn.execute(self._raw_insert, values).scalar_one())

    def _insert_events(self, conn: Connection, parsed: Sequence[Event], raw_id: int) -> list[Event]:
        if not parsed:
            return []
        unique = sqlite_ingest.unique_events(parsed)
        if not self._sqlite:
            new = self._insert_returning(conn, unique, raw_id)
        else:  # a replay on SQLite; fresh payloads take sqlite_ingest
            existing = existing_keys(conn, unique, raw_id=None, sqlite=True)
            new = [e for e in unique if (to_ms(e.occurred_at), e.id) not in existing]
            if new:
                conn.exec_driver_sql(sqlite_ingest.EVENT_INSERT, event_rows(new, raw_id))
        for event in new:
            event.raw_ref = raw_id
        return new

    def _insert_returning(self, conn: Connection, unique: list[Event], raw_id: int) -> list[Event]:
        rows = [dict(zip(EVENT_COLUMNS, row, strict=True)) for row in event_rows(unique, raw_id)]
        statement = (
            postgresql.insert(events)
            .on_conflict_do_nothing(index_elements=["occurred_ms", "id"])
            .returning(events.c.id)
        )
        inserted = set(conn.execute(statement, rows).scalars())
        return [event for event in unique if event.id in inserted]


def _claimable(expected: str, status: str, lapsed_before: datetime | None) -> ColumnElement[bool]:
    if lapsed_before is None:
        return raw_payloads.c.status == expected
    lapsed = and_(raw_payloads.c.status == status, raw_payloads.c.updated_ms < to_ms(lapsed_before))
    return or_(raw_payloads.c.status == expected, lapsed)


def _stored(row: object) -> StoredPayload:
    mapping = row._mapping  # type: ignore[attr-defined]
    return StoredPayload(
        id=mapping["id"],
        provider=mapping["provider"],
        source=mapping["source"],
        received_at_ms=mapping["received_ms"],
        headers=orjson.loads(mapping["headers"]),
        body=unpack(bytes(mapping["body"]), mapping["body_encoding"]),
        verified=bool(mapping["verified"]),
        status=mapping["status"],
        reason=mapping["reason"],
        event_count=mapping["event_count"],
    )
