"""Delisting requests: which blocklist, which listed item, when asked, when delisted, status.

A request moves requested → delisted | denied | withdrawn (a denied request may be asked
again: requested). Each change goes to the incident's timeline when it has one; a request
pending too long produces a reminder (see reminders.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final, Protocol

from mailwarden.clock import Clock

REQUESTED: Final = "requested"
DELISTED: Final = "delisted"
DENIED: Final = "denied"
WITHDRAWN: Final = "withdrawn"
DELISTING_STATES: Final = (REQUESTED, DELISTED, DENIED, WITHDRAWN)
_MOVES: Final = {
    REQUESTED: (DELISTED, DENIED, WITHDRAWN),
    DENIED: (REQUESTED, WITHDRAWN),
    DELISTED: (REQUESTED,),  # listed again: ask again
    WITHDRAWN: (),
}


class DelistingError(ValueError):
    """The request or the change makes no sense; the message says why."""


class UnknownDelistingError(LookupError):
    """No delisting request has this id."""


@dataclass(frozen=True, slots=True)
class Delisting:
    """One delisting request for one listed item on one blocklist."""

    blocklist: str
    listed_item: str
    requested_at: datetime
    requested_by: str
    status: str = REQUESTED
    incident_id: str | None = None
    reference: str = ""
    note: str = ""
    delisted_at: datetime | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None
    id: int | None = None

    @property
    def pending(self) -> bool:
        """True while waiting for the blocklist's answer."""
        return self.status == REQUESTED

    def with_changes(self, **changes: Any) -> Delisting:
        """Return a copy with the given fields changed."""
        return replace(self, **changes)

    def to_dict(self, now: datetime | None = None) -> dict[str, Any]:
        """Return the JSON object (with hours waited when now is given and it is pending)."""
        data: dict[str, Any] = {
            "id": self.id,
            "blocklist": self.blocklist,
            "listed_item": self.listed_item,
            "status": self.status,
            "incident_id": self.incident_id,
            "requested_at": self.requested_at.isoformat(),
            "requested_by": self.requested_by,
            "delisted_at": self.delisted_at.isoformat() if self.delisted_at else None,
            "reference": self.reference,
            "note": self.note,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "updated_by": self.updated_by,
        }
        if now is not None and self.pending:
            data["hours_pending"] = round((now - self.requested_at).total_seconds() / 3600, 1)
        return data


class DelistingStore(Protocol):
    """Delisting requests."""

    def add(self, request: Delisting) -> Delisting:
        """Insert and return the request with its id."""
        ...

    def get(self, request_id: int) -> Delisting | None:
        """One request."""
        ...

    def update(self, request: Delisting, expect_status: str) -> bool:
        """Store the change if the stored status is still expect_status."""
        ...

    def listed(
        self, *, status: str | None = None, incident_id: str | None = None
    ) -> list[Delisting]:
        """Requests, oldest first, optionally filtered."""
        ...


class Notes(Protocol):
    """Writes a line on an incident's timeline."""

    def note(
        self, incident_id: str, kind: str, text: str, actor: str, data: Mapping[str, Any]
    ) -> None:
        """Append one entry."""
        ...


class DelistingDesk:
    """Tracks delisting requests and puts each change on the incident's timeline."""

    def __init__(self, store: DelistingStore, clock: Clock, notes: Notes | None = None) -> None:
        self.store = store
        self._clock = clock
        self._notes = notes

    def request(
        self,
        blocklist: str,
        listed_item: str,
        *,
        by: str,
        incident_id: str | None = None,
        reference: str = "",
        note: str = "",
        requested_at: datetime | None = None,
    ) -> Delisting:
        """Record that delisting was requested (now, or when it was)."""
        now = self._clock.now()
        if not blocklist.strip() or not listed_item.strip():
            raise DelistingError("a delisting request needs a blocklist and a listed item")
        if requested_at is not None and requested_at > now:
            raise DelistingError("requested_at is in the future")
        request = Delisting(
            blocklist=blocklist.strip(),
            listed_item=listed_item.strip().lower(),
            requested_at=requested_at or now,
            requested_by=by,
            incident_id=incident_id,
            reference=reference.strip(),
            note=note.strip(),
            updated_at=now,
            updated_by=by,
        )
        stored = self.store.add(request)
        text = f"delisting requested: {stored.listed_item} on {stored.blocklist}"
        self._note(stored, "delisting_requested", text, by)
        return stored

    def update(self, request_id: int, status: str, *, by: str, note: str = "") -> Delisting:
        """Move a request to a new status (delisted stamps delisted_at)."""
        current = self.get(request_id)
        if status not in DELISTING_STATES:
            raise DelistingError(f"status {status!r} is not one of {', '.join(DELISTING_STATES)}")
        if status not in _MOVES[current.status]:
            allowed = ", ".join(_MOVES[current.status]) or "none"
            raise DelistingError(
                f"cannot move from {current.status} to {status}; allowed: {allowed}"
            )
        now = self._clock.now()
        changed = current.with_changes(
            status=status,
            note=note.strip() or current.note,
            updated_at=now,
            updated_by=by,
            delisted_at=now if status == DELISTED else current.delisted_at,
            requested_at=now if status == REQUESTED else current.requested_at,
        )
        if not self.store.update(changed, current.status):
            raise DelistingError(f"delisting request {request_id} changed meanwhile; try again")
        text = f"{changed.listed_item} on {changed.blocklist}: {status}"
        self._note(
            changed, f"delisting_{status}", text + (f" ({note.strip()})" if note else ""), by
        )
        return changed

    def get(self, request_id: int) -> Delisting:
        """One request; UnknownDelistingError if none."""
        found = self.store.get(request_id)
        if found is None:
            raise UnknownDelistingError(f"no delisting request {request_id}")
        return found

    def listed(
        self, *, status: str | None = None, incident_id: str | None = None
    ) -> list[Delisting]:
        """Requests, oldest first."""
        if status is not None and status not in DELISTING_STATES:
            raise DelistingError(f"status {status!r} is not one of {', '.join(DELISTING_STATES)}")
        return self.store.listed(status=status, incident_id=incident_id)

    def _note(self, request: Delisting, kind: str, text: str, by: str) -> None:
        if self._notes is not None and request.incident_id:
            self._notes.note(request.incident_id, kind, text, by, request.to_dict())


class MemoryDelistingStore:
    """A DelistingStore in a list (tests, processes without a database)."""

    def __init__(self) -> None:
        self._rows: dict[int, Delisting] = {}

    def add(self, request: Delisting) -> Delisting:
        """Insert with the next id."""
        stored = request.with_changes(id=len(self._rows) + 1)
        self._rows[stored.id or 0] = stored
        return stored

    def get(self, request_id: int) -> Delisting | None:
        """One request."""
        return self._rows.get(request_id)

    def update(self, request: Delisting, expect_status: str) -> bool:
        """Store the change if the status did not move."""
        current = self._rows.get(request.id or 0)
        if current is None or current.status != expect_status:
            return False
        self._rows[request.id or 0] = request
        return True

    def listed(
        self, *, status: str | None = None, incident_id: str | None = None
    ) -> list[Delisting]:
        """Requests, oldest first."""
        return [
            r
            for r in self._rows.values()
            if (status is None or r.status == status)
            and (incident_id is None or r.incident_id == incident_id)
        ]
