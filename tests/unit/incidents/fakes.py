"""An in-memory incident repository with the SQL one's behaviour (copies, versions, append-only)."""

from __future__ import annotations

import copy
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from mailwarden.incidents.model import Incident, TimelineEntry
from mailwarden.incidents.ports import ConflictError
from mailwarden.incidents.records import Attachment, OutboxMessage, Silence


@dataclass
class MemoryIncidentRepository:
    """Keeps deep copies, so callers cannot change stored state without save()."""

    incidents: dict[int, Incident] = field(default_factory=dict)
    entries: dict[int, list[TimelineEntry]] = field(default_factory=dict)
    files: dict[int, list[tuple[Attachment, bytes]]] = field(default_factory=dict)
    silence_rows: dict[int, Silence] = field(default_factory=dict)
    messages: list[OutboxMessage] = field(default_factory=list)
    saves: int = 0

    def save(
        self,
        incidents: Sequence[Incident],
        *,
        silences: Sequence[Silence] = (),
        outbox: Sequence[OutboxMessage] = (),
    ) -> None:
        for incident in incidents:
            if incident.pk is not None and self.incidents[incident.pk].version != incident.version:
                raise ConflictError(f"{incident.id} changed")
        self.saves += 1
        for incident in incidents:
            self._store(incident)
        for silence in silences:
            if silence.pk is None:
                silence.pk = len(self.silence_rows) + 1
            self.silence_rows[silence.pk] = copy.deepcopy(silence)
        for message in outbox:
            self.messages.append(replace(message, pk=len(self.messages) + 1))

    def _store(self, incident: Incident) -> None:
        if incident.pk is None:
            incident.pk = len(self.incidents) + 1
        incident.version += 1
        pk = incident.pk
        log = self.entries.setdefault(pk, [])
        for entry in incident.pending:
            log.append(replace(entry, id=sum(len(v) for v in self.entries.values()) + 1))
        files = self.files.setdefault(pk, [])
        for new in incident.new_attachments:
            files.append((replace(new.meta, pk=len(files) + 1, incident_pk=pk), new.content))
        incident.mark_stored()
        self.incidents[pk] = copy.deepcopy(incident)

    def get(self, pk: int) -> Incident | None:
        found = self.incidents.get(pk)
        return copy.deepcopy(found) if found is not None else None

    def find(
        self,
        *,
        states: Collection[str] | None = None,
        types: Collection[str] | None = None,
        limit: int | None = None,
    ) -> list[Incident]:
        found = [
            copy.deepcopy(incident)
            for pk, incident in sorted(self.incidents.items(), reverse=True)
            if (states is None or incident.state in states)
            and (types is None or incident.type in types)
        ]
        return found[:limit] if limit is not None else found

    def open_incidents(self, recovered_since: datetime) -> list[Incident]:
        return [
            incident
            for incident in self.find()
            if incident.is_active
            or (
                incident.state == "recovered"
                and incident.recovered_at is not None
                and incident.recovered_at >= recovered_since
            )
        ]

    def timeline(self, pk: int) -> list[TimelineEntry]:
        return list(self.entries.get(pk, []))

    def attachments(self, pk: int) -> list[Attachment]:
        return [meta for meta, _content in self.files.get(pk, [])]

    def attachment_content(self, pk: int, attachment_pk: int) -> tuple[Attachment, bytes] | None:
        return next((item for item in self.files.get(pk, []) if item[0].pk == attachment_pk), None)

    def get_silence(self, pk: int) -> Silence | None:
        found = self.silence_rows.get(pk)
        return copy.deepcopy(found) if found is not None else None

    def silences(self, *, now: datetime, include_expired: bool = False) -> list[Silence]:
        return [
            copy.deepcopy(silence)
            for _pk, silence in sorted(self.silence_rows.items())
            if include_expired or silence.expires_at > now
        ]

    def silences_to_notify(self) -> list[Silence]:
        return [
            copy.deepcopy(silence)
            for _pk, silence in sorted(self.silence_rows.items())
            if silence.expiry_notified_at is None
        ]

    def outbox(self, *, unsent_only: bool = True) -> list[OutboxMessage]:
        return [m for m in self.messages if not unsent_only or m.sent_at is None]
