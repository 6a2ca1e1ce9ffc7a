"""What the incident service needs from storage and from the rest of the system."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from mailwarden.events.model import Event
from mailwarden.incidents.model import Actor, ConflictError, Incident, TimelineEntry
from mailwarden.incidents.records import Attachment, OutboxMessage, Silence

__all__ = ["ConflictError", "IncidentEvent", "IncidentRepository", "Observer", "SampleLookup"]


class IncidentRepository(Protocol):
    """Stores incidents with their timeline (append-only), links, roles and attachments."""

    def save(
        self,
        incidents: Sequence[Incident],
        *,
        silences: Sequence[Silence] = (),
        outbox: Sequence[OutboxMessage] = (),
    ) -> None:
        """Write incidents (new ones get a pk), their pending changes, silences and outbox rows,
        all in one transaction; ConflictError if an incident's version moved."""
        ...

    def get(self, pk: int) -> Incident | None:
        """Load one incident with its links and roles."""
        ...

    def find(
        self,
        *,
        states: Collection[str] | None = None,
        types: Collection[str] | None = None,
        limit: int | None = None,
    ) -> list[Incident]:
        """Load incidents, newest first, optionally filtered."""
        ...

    def open_incidents(self, recovered_since: datetime) -> list[Incident]:
        """Active incidents and those recovered since the given time, newest first."""
        ...

    def timeline(self, pk: int) -> list[TimelineEntry]:
        """The incident's timeline, oldest first."""
        ...

    def attachments(self, pk: int) -> list[Attachment]:
        """Descriptions of the incident's attachments."""
        ...

    def attachment_content(self, pk: int, attachment_pk: int) -> tuple[Attachment, bytes] | None:
        """One attachment with its bytes."""
        ...

    def get_silence(self, pk: int) -> Silence | None:
        """Load one silence."""
        ...

    def silences(self, *, now: datetime, include_expired: bool = False) -> list[Silence]:
        """Silences not yet expired at now (or all of them), oldest first."""
        ...

    def silences_to_notify(self) -> list[Silence]:
        """Silences whose expiry has not been announced yet."""
        ...

    def outbox(self, *, unsent_only: bool = True) -> list[OutboxMessage]:
        """Notifications waiting to be sent (or all of them), oldest first."""
        ...


SampleLookup = Callable[[Sequence[str], datetime, datetime], Sequence[Event]]
"""Find sample events by id within a time window (to see which IP/provider a finding is on)."""


@dataclass(frozen=True, slots=True)
class IncidentEvent:
    """A domain event for other modules: incident.opened, incident.transitioned, ..."""

    name: str
    incident_id: str
    at: datetime
    actor: str
    data: dict[str, Any] = field(default_factory=dict)


Observer = Callable[[IncidentEvent], None]

TransitionGuard = Callable[[Incident, str, Actor, datetime, Mapping[str, Any]], None]
"""Called with (incident, target, actor, now, data) before a requested move; raises
IllegalTransitionError (or a subclass) to refuse it, may add timeline entries to allow it."""
