"""Incidents in SQL: one transaction per save, optimistic versions, an insert-only timeline."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, and_, delete, insert, or_, select, update

from mailwarden.events.model import Event
from mailwarden.incidents.model import ACTIVE_STATES, ConflictError, Incident, TimelineEntry
from mailwarden.incidents.records import Attachment, OutboxMessage, Silence
from mailwarden.store import incident_rows as rows
from mailwarden.store.incident_tables import (
    incident_attachments,
    incident_findings,
    incident_roles,
    incident_timeline,
    incidents,
    notification_outbox,
    silences,
)
from mailwarden.store.rows import EVENT_COLUMNS, row_event, to_ms
from mailwarden.store.tables import events

_CHUNK = 500


@dataclass(slots=True)
class _Written:
    incident: Incident
    pk: int
    version: int


class SqlIncidentRepository:
    """Stores incidents and silences in the database behind engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def save(
        self,
        incidents_: Sequence[Incident],
        *,
        silences: Sequence[Silence] = (),
        outbox: Sequence[OutboxMessage] = (),
    ) -> None:
        """Write everything in one transaction; ConflictError if an incident changed meanwhile."""
        written: list[_Written] = []
        silence_pks: list[tuple[Silence, int]] = []
        with self._engine.begin() as conn:
            for incident in incidents_:
                written.append(self._write_incident(conn, incident))
            for silence in silences:
                silence_pks.append((silence, self._write_silence(conn, silence)))
            if outbox:
                conn.execute(insert(notification_outbox), [rows.outbox_values(m) for m in outbox])
        for item in written:
            item.incident.pk, item.incident.version = item.pk, item.version
            item.incident.mark_stored()
        for silence, pk in silence_pks:
            silence.pk = pk

    def get(self, pk: int) -> Incident | None:
        """Load one incident with its links and roles."""
        with self._engine.connect() as conn:
            row = conn.execute(select(incidents).where(incidents.c.id == pk)).mappings().first()
            if row is None:
                return None
            return self._complete(conn, [rows.incident_of(row)])[0]

    def find(
        self,
        *,
        states: Collection[str] | None = None,
        types: Collection[str] | None = None,
        limit: int | None = None,
    ) -> list[Incident]:
        """Load incidents, newest first, optionally filtered by state and type."""
        query = select(incidents).order_by(incidents.c.id.desc())
        if states is not None:
            query = query.where(incidents.c.state.in_(list(states)))
        if types is not None:
            query = query.where(incidents.c.type.in_(list(types)))
        if limit is not None:
            query = query.limit(limit)
        with self._engine.connect() as conn:
            found = [rows.incident_of(row) for row in conn.execute(query).mappings()]
            return self._complete(conn, found)

    def open_incidents(self, recovered_since: datetime) -> list[Incident]:
        """Active incidents and those recovered since the given time, newest first."""
        recent = and_(
            incidents.c.state == "recovered", incidents.c.recovered_ms >= to_ms(recovered_since)
        )
        query = (
            select(incidents)
            .where(or_(incidents.c.state.in_(sorted(ACTIVE_STATES)), recent))
            .order_by(incidents.c.id.desc())
        )
        with self._engine.connect() as conn:
            found = [rows.incident_of(row) for row in conn.execute(query).mappings()]
            return self._complete(conn, found)

    def timeline(self, pk: int) -> list[TimelineEntry]:
        """The incident's timeline, oldest first."""
        query = (
            select(incident_timeline)
            .where(incident_timeline.c.incident_id == pk)
            .order_by(incident_timeline.c.id)
        )
        with self._engine.connect() as conn:
            return [rows.entry_of(row) for row in conn.execute(query).mappings()]

    def attachments(self, pk: int) -> list[Attachment]:
        """Descriptions of an incident's attachments, oldest first."""
        columns = [c for c in incident_attachments.c if c.name != "content"]
        query = (
            select(*columns)
            .where(incident_attachments.c.incident_id == pk)
            .order_by(incident_attachments.c.id)
        )
        with self._engine.connect() as conn:
            return [rows.attachment_of(row) for row in conn.execute(query).mappings()]

    def attachment_content(self, pk: int, attachment_pk: int) -> tuple[Attachment, bytes] | None:
        """One attachment with its bytes."""
        query = select(incident_attachments).where(
            incident_attachments.c.incident_id == pk, incident_attachments.c.id == attachment_pk
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return (rows.attachment_of(row), bytes(row["content"])) if row is not None else None

    def get_silence(self, pk: int) -> Silence | None:
        """Load one silence."""
        with self._engine.connect() as conn:
            row = conn.execute(select(silences).where(silences.c.id == pk)).mappings().first()
        return rows.silence_of(row) if row is not None else None

    def silences(self, *, now: datetime, include_expired: bool = False) -> list[Silence]:
        """Silences not expired at now (or all), oldest first."""
        query = select(silences).order_by(silences.c.id)
        if not include_expired:
            query = query.where(silences.c.expires_ms > to_ms(now))
        with self._engine.connect() as conn:
            return [rows.silence_of(row) for row in conn.execute(query).mappings()]

    def silences_to_notify(self) -> list[Silence]:
        """Silences whose expiry has not been announced yet."""
        query = select(silences).where(silences.c.expiry_notified_ms.is_(None))
        with self._engine.connect() as conn:
            return [
                rows.silence_of(row)
                for row in conn.execute(query.order_by(silences.c.id)).mappings()
            ]

    def outbox(self, *, unsent_only: bool = True) -> list[OutboxMessage]:
        """Queued notifications, oldest first."""
        query = select(notification_outbox).order_by(notification_outbox.c.id)
        if unsent_only:
            query = query.where(notification_outbox.c.sent_ms.is_(None))
        with self._engine.connect() as conn:
            return [rows.outbox_of(row) for row in conn.execute(query).mappings()]

    def _write_incident(self, conn: Connection, incident: Incident) -> _Written:
        values = rows.incident_values(incident)
        if incident.pk is None:
            version = 1
            result = conn.execute(
                insert(incidents).values(**values, version=version).returning(incidents.c.id)
            )
            pk = int(result.scalar_one())
        else:
            pk, version = incident.pk, incident.version + 1
            result = conn.execute(
                update(incidents)
                .where(incidents.c.id == pk, incidents.c.version == incident.version)
                .values(**values, version=version)
            )
            if result.rowcount != 1:
                raise ConflictError(f"{incident.id} changed since it was loaded")
        self._write_children(conn, pk, incident)
        return _Written(incident, pk, version)

    def _write_children(self, conn: Connection, pk: int, incident: Incident) -> None:
        if incident.pending:
            conn.execute(
                insert(incident_timeline), [rows.entry_values(pk, e) for e in incident.pending]
            )
        for key in incident.dirty_links:
            values = rows.link_values(pk, incident.links[key])
            _upsert(conn, incident_findings, values, ("incident_id", "kind", "dimension", "key"))
        for role in incident.dirty_roles:
            held = incident.roles.get(role)
            if held is None:  # unassigned: the timeline keeps who held it
                where = and_(incident_roles.c.incident_id == pk, incident_roles.c.role == role)
                conn.execute(delete(incident_roles).where(where))
                continue
            _upsert(conn, incident_roles, rows.role_values(pk, held), ("incident_id", "role"))
        for new in incident.new_attachments:
            meta = new.meta
            conn.execute(
                insert(incident_attachments).values(
                    incident_id=pk,
                    filename=meta.filename,
                    content_type=meta.content_type,
                    sha256=meta.sha256,
                    size_bytes=meta.size,
                    content=new.content,
                    uploaded_ms=to_ms(meta.uploaded_at),
                    uploaded_by=meta.uploaded_by,
                )
            )

    def _write_silence(self, conn: Connection, silence: Silence) -> int:
        values = rows.silence_values(silence)
        if silence.pk is None:
            result = conn.execute(insert(silences).values(**values).returning(silences.c.id))
            return int(result.scalar_one())
        conn.execute(update(silences).where(silences.c.id == silence.pk).values(**values))
        return silence.pk

    def _complete(self, conn: Connection, found: list[Incident]) -> list[Incident]:
        by_pk = {incident.pk: incident for incident in found}
        pks = list(by_pk)
        for start in range(0, len(pks), _CHUNK):
            chunk = pks[start : start + _CHUNK]
            links = select(incident_findings).where(incident_findings.c.incident_id.in_(chunk))
            for row in conn.execute(links).mappings():
                link = rows.link_of(row)
                by_pk[row["incident_id"]].links[link.key] = link
            roles = select(incident_roles).where(incident_roles.c.incident_id.in_(chunk))
            for row in conn.execute(roles).mappings():
                by_pk[row["incident_id"]].roles[row["role"]] = rows.role_of(row)
        return found


def _upsert(conn: Connection, table: Table, values: dict[str, Any], keys: tuple[str, ...]) -> None:
    condition = [table.c[name] == values[name] for name in keys]
    result = conn.execute(update(table).where(*condition).values(**values))
    if result.rowcount == 0:
        conn.execute(insert(table).values(**values))


class EventSamples:
    """Finds sample events by id within a time window (the events table's key is time-led)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __call__(self, ids: Sequence[str], start: datetime, end: datetime) -> list[Event]:
        """Return the events among ids that occurred within [start, end]."""
        if not ids:
            return []
        query = select(*(events.c[name] for name in EVENT_COLUMNS)).where(
            events.c.occurred_ms >= to_ms(start),
            events.c.occurred_ms <= to_ms(end),
            events.c.id.in_(list(ids)[:_CHUNK]),
        )
        with self._engine.connect() as conn:
            return [row_event(tuple(row)) for row in conn.execute(query)]
