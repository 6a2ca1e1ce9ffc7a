"""What people do with incidents: open one by hand, move it, assign roles, note, merge, attach."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any, Final

from mailwarden.clock import Clock
from mailwarden.detect.model import DIMENSIONS, Scope
from mailwarden.incidents.model import (
    INCIDENT_TYPES,
    ROLES,
    SEVERITY_LEVELS,
    STATES,
    Actor,
    Incident,
    RoleAssignment,
    TimelineEntry,
)
from mailwarden.incidents.ports import (
    ConflictError,
    IncidentEvent,
    IncidentRepository,
    Observer,
    TransitionGuard,
)
from mailwarden.incidents.records import Attachment, NewAttachment, OutboxMessage, Silence
from mailwarden.incidents.severity import SeverityRules

log = logging.getLogger(__name__)
_RETRIES: Final = 3
_CUSTOM_ROLE: Final = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
OVERALL: Final = Scope("overall", "*")


class UnknownIncidentError(LookupError):
    """No incident has this id."""


class BadInputError(ValueError):
    """The request makes no sense; the message says what was wrong."""


def parse_incident_id(ref: str | int) -> int:
    """INC-42, inc-42 or 42 → 42; BadInputError otherwise."""
    text = str(ref).strip().upper().removeprefix("INC-")
    if not text.isdigit():
        raise BadInputError(f"not an incident id: {ref!r} (expected e.g. INC-42)")
    return int(text)


class IncidentDesk:
    """Commands and queries on incidents; every change goes to the timeline and to observers."""

    def __init__(
        self, repo: IncidentRepository, clock: Clock, rules: SeverityRules, max_bytes: int
    ) -> None:
        self._repo = repo
        self._clock = clock
        self._rules = rules
        self.max_attachment_bytes = max_bytes
        self._observers: list[Observer] = []
        self._guards: list[TransitionGuard] = []

    def observe(self, observer: Observer) -> None:
        """Call observer with every domain event (incident.opened, incident.transitioned, ...)."""
        self._observers.append(observer)

    def add_guard(self, guard: TransitionGuard) -> None:
        """Have guard vet every requested transition (e.g. playbooks refuse closing early)."""
        self._guards.append(guard)

    def get(self, ref: str | int) -> Incident:
        """One incident; UnknownIncidentError if there is none."""
        pk = parse_incident_id(ref)
        incident = self._repo.get(pk)
        if incident is None:
            raise UnknownIncidentError(f"no incident INC-{pk}")
        return incident

    def list_incidents(
        self,
        *,
        states: Collection[str] | None = None,
        types: Collection[str] | None = None,
        limit: int | None = None,
    ) -> list[Incident]:
        """Incidents, newest first; BadInputError for an unknown state or type."""
        for value in states or ():
            if value not in STATES:
                raise BadInputError(f"state {value!r} is not one of {', '.join(STATES)}")
        for value in types or ():
            if value not in INCIDENT_TYPES:
                raise BadInputError(f"type {value!r} is not one of {', '.join(INCIDENT_TYPES)}")
        return self._repo.find(states=states, types=types, limit=limit)

    def timeline(self, ref: str | int) -> list[TimelineEntry]:
        """An incident's timeline, oldest first."""
        return self._repo.timeline(self.get(ref).pk or 0)

    def attachments(self, ref: str | int) -> list[Attachment]:
        """Descriptions of an incident's evidence attachments."""
        return self._repo.attachments(self.get(ref).pk or 0)

    def attachment(self, ref: str | int, attachment_pk: int) -> tuple[Attachment, bytes]:
        """One attachment with its content."""
        found = self._repo.attachment_content(self.get(ref).pk or 0, attachment_pk)
        if found is None:
            raise UnknownIncidentError(f"no attachment {attachment_pk} on {ref}")
        return found

    def open_manual(
        self,
        *,
        incident_type: str,
        title: str,
        actor: Actor,
        description: str = "",
        severity: str | None = None,
        scope: Scope | None = None,
        started_at: datetime | None = None,
        attachments: Sequence[tuple[str, str, bytes]] = (),
    ) -> Incident:
        """Open an incident a person reports (e.g. a forwarded phishing mail), with evidence."""
        now = self._clock.now()
        _check_manual(incident_type, title, severity, scope, started_at, now)
        incident = Incident(
            type=incident_type,
            severity=severity or self._rules.for_manual(incident_type),
            title=title.strip(),
            scope=scope or OVERALL,
            started_at=started_at or now,
            detected_at=now,
            origin="manual",
            description=description,
            lineage=frozenset({scope or OVERALL}),
        )
        note = f"reported by {actor.name}" + (f": {description}" if description else "")
        incident.record("opened", actor, now, note, {"origin": "manual"})
        for filename, content_type, content in attachments:
            self._add_attachment(incident, filename, content_type, content, actor, now)
        self._save([incident])
        return incident

    def transition(
        self,
        ref: str | int,
        target: str,
        actor: Actor,
        note: str = "",
        *,
        data: Mapping[str, Any] | None = None,
    ) -> Incident:
        """Move an incident; IllegalTransitionError (with the allowed targets) if not allowed."""
        extra = dict(data or {})

        def change(incident: Incident, now: datetime) -> None:
            for guard in self._guards:
                guard(incident, target, actor, now, extra)
            incident.transition(target, actor, now, note, **extra)

        return self._change(ref, change)

    def acknowledge(self, ref: str | int, actor: Actor, note: str = "") -> Incident:
        """Acknowledge an incident."""
        return self.transition(ref, "acknowledged", actor, note)

    def assign(self, ref: str | int, role: str, person: str, actor: Actor) -> Incident:
        """Record that person holds role (a standard role or a custom snake_case one)."""
        if role not in ROLES and not _CUSTOM_ROLE.match(role):
            raise BadInputError(
                f"role {role!r} is neither one of {', '.join(ROLES)} nor a snake_case name"
            )
        if not person.strip():
            raise BadInputError("a role needs a person")

        def change(incident: Incident, now: datetime) -> None:
            previous = incident.roles.get(role)
            incident.assign(RoleAssignment(role, person.strip(), now, actor.name))
            data = {"role": role, "person": person.strip()}
            if previous is not None:
                data["previous"] = previous.person
            incident.record("role_assigned", actor, now, f"{person.strip()} is {role}", data)

        return self._change(ref, change)

    def unassign(self, ref: str | int, role: str, actor: Actor, note: str = "") -> Incident:
        """Take a role away from whoever holds it (the role stays empty until assigned again)."""

        def change(incident: Incident, now: datetime) -> None:
            previous = incident.roles.get(role)
            if previous is None:
                raise BadInputError(f"nobody holds {role} on {incident.id}")
            incident.unassign(role)
            text = f"{previous.person} is no longer {role}" + (f": {note}" if note else "")
            data = {"role": role, "previous": previous.person}
            incident.record("role_unassigned", actor, now, text, data)

        return self._change(ref, change)

    def set_severity(self, ref: str | int, severity: str, actor: Actor, reason: str) -> Incident:
        """Change the severity by hand, with the reason on the timeline."""
        if severity not in SEVERITY_LEVELS:
            raise BadInputError(f"severity {severity!r} is not one of {', '.join(SEVERITY_LEVELS)}")
        if not reason.strip():
            raise BadInputError("a severity change needs a reason")

        def change(incident: Incident, now: datetime) -> None:
            if incident.severity == severity:
                raise BadInputError(f"{incident.id} is {severity} already")
            note = f"severity {incident.severity} → {severity}: {reason.strip()}"
            data = {"from": incident.severity, "to": severity, "rule": "manual"}
            incident.record("severity_changed", actor, now, note, data)
            incident.severity = severity

        return self._change(ref, change)

    def add_note(self, ref: str | int, text: str, actor: Actor) -> Incident:
        """Add a note to the timeline."""
        if not text.strip():
            raise BadInputError("a note needs text")
        return self._change(ref, lambda i, now: i.record("note", actor, now, text.strip()))

    def merge(self, ref: str | int, into: str | int, actor: Actor, note: str = "") -> Incident:
        """Merge one incident into another; both keep their history. Returns the target."""
        for _attempt in range(_RETRIES):
            source, target = self.get(ref), self.get(into)
            if source.pk == target.pk:
                raise BadInputError("an incident cannot be merged into itself")
            source.merge_into(target, actor, self._clock.now(), note)
            try:
                self._save([source, target])
            except ConflictError:
                continue
            return target
        raise ConflictError(f"{ref} kept changing; try again")

    def attach_evidence(
        self, ref: str | int, filename: str, content_type: str, content: bytes, actor: Actor
    ) -> Attachment:
        """Keep a file as evidence on an incident (size-limited)."""
        holder: list[Attachment] = []

        def change(incident: Incident, now: datetime) -> None:
            holder.append(
                self._add_attachment(incident, filename, content_type, content, actor, now)
            )

        incident = self._change(ref, change)
        stored = [a for a in self.attachments(incident.pk or 0) if a.sha256 == holder[0].sha256]
        return stored[-1] if stored else holder[0]

    def _add_attachment(
        self,
        incident: Incident,
        filename: str,
        content_type: str,
        content: bytes,
        actor: Actor,
        now: datetime,
    ) -> Attachment:
        name = _safe_filename(filename)
        if len(content) > self.max_attachment_bytes:
            raise BadInputError(
                f"{name} is {len(content)} bytes; the limit is {self.max_attachment_bytes}"
            )
        digest = hashlib.sha256(content).hexdigest()
        meta = Attachment(
            name, content_type or "application/octet-stream", digest, len(content), now, actor.name
        )
        incident.new_attachments.append(NewAttachment(meta, content))
        data = {"filename": name, "sha256": digest, "bytes": len(content)}
        incident.record("attachment_added", actor, now, f"evidence attached: {name}", data)
        return meta

    def _change(
        self,
        ref: str | int,
        change: Callable[[Incident, datetime], object],
        outbox: Sequence[OutboxMessage] = (),
    ) -> Incident:
        for _attempt in range(_RETRIES):
            incident = self.get(ref)
            change(incident, self._clock.now())
            try:
                self._save([incident], outbox=outbox)
            except ConflictError:
                continue
            return incident
        raise ConflictError(f"{ref} kept changing; try again")

    def _save(
        self,
        incidents: Sequence[Incident],
        *,
        silences: Sequence[Silence] = (),
        outbox: Sequence[OutboxMessage] = (),
    ) -> None:
        self._announce(self._store(incidents, silences=silences, outbox=outbox))

    def _store(
        self,
        incidents: Sequence[Incident],
        *,
        silences: Sequence[Silence] = (),
        outbox: Sequence[OutboxMessage] = (),
    ) -> list[tuple[Incident, list[TimelineEntry]]]:
        """Save, and return the new timeline entries to announce once the work is done."""
        written = [(incident, list(incident.pending)) for incident in incidents]
        self._repo.save(incidents, silences=silences, outbox=outbox)
        return written

    def _announce(self, written: Sequence[tuple[Incident, list[TimelineEntry]]]) -> None:
        """Tell the observers about stored timeline entries, in order."""
        for incident, entries in written:
            for entry in entries:
                self._emit(incident, entry)

    def _emit(self, incident: Incident, entry: TimelineEntry) -> None:
        event = IncidentEvent(
            name=f"incident.{entry.kind}",
            incident_id=incident.id,
            at=entry.at,
            actor=entry.actor,
            data={**entry.data, "note": entry.note, "source": entry.source},
        )
        for observer in self._observers:
            try:
                observer(event)
            except Exception:
                log.exception("incident observer %r failed on %s", observer, event.name)


def _check_manual(
    incident_type: str,
    title: str,
    severity: str | None,
    scope: Scope | None,
    started_at: datetime | None,
    now: datetime,
) -> None:
    if incident_type not in INCIDENT_TYPES:
        raise BadInputError(f"type {incident_type!r} is not one of {', '.join(INCIDENT_TYPES)}")
    if severity is not None and severity not in SEVERITY_LEVELS:
        raise BadInputError(f"severity {severity!r} is not one of {', '.join(SEVERITY_LEVELS)}")
    if not title.strip():
        raise BadInputError("an incident needs a title")
    if scope is not None and (scope.dimension not in DIMENSIONS or not scope.key):
        raise BadInputError(f"scope dimension must be one of {', '.join(DIMENSIONS)}, with a key")
    if started_at is not None and started_at > now:
        raise BadInputError("started_at is in the future")


def _safe_filename(filename: str) -> str:
    name = PureWindowsPath(PurePosixPath(filename).name).name.strip()
    if not name or name in {".", ".."}:
        raise BadInputError("an attachment needs a file name")
    return name[:255]
