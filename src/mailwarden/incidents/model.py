"""The Incident aggregate: states, the one TRANSITIONS table, phase stamps, an append-only timeline.

Transition rules (all in TRANSITIONS; nothing else decides what is allowed):

- The forward path is detected → acknowledged → contained → eradicated → recovered → closed.
- Forward skips allowed: a responder may contain before acknowledging (containing implies
  acknowledging, so `acknowledged_at` is stamped too if unset); anyone — the system included —
  may move any active incident to `recovered` (the metric is back; nothing was contained).
- Only a person closes; the system never does.
- Side exits from any open state: `false_positive` (a person) and `merged` (a person, or the
  system when noise control finds two incidents share a root; only through `merge_into`,
  which names the incident that takes over). Both stamp `closed_at`.
- Reopen goes back to `detected`: from `recovered` (a person, or the system when a finding
  fires again) and from `closed` (a person only). It stamps `reopened_at` and counts reopens;
  `detected_at` keeps the first detection.

Phase stamps hold the latest time the phase was entered; they are never cleared and never
move backwards (a transition's time is clamped to the incident's last change).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final

from mailwarden.detect.model import Scope
from mailwarden.incidents.records import NewAttachment

DETECTED: Final = "detected"
STATES: Final = (
    "detected",
    "acknowledged",
    "contained",
    "eradicated",
    "recovered",
    "closed",
    "false_positive",
    "merged",
)
ACTIVE_STATES: Final = frozenset({"detected", "acknowledged", "contained", "eradicated"})
OPEN_STATES: Final = ACTIVE_STATES | {"recovered"}
PHASE_STAMPS: Final = (
    "detected_at",
    "acknowledged_at",
    "contained_at",
    "eradicated_at",
    "recovered_at",
    "closed_at",
    "reopened_at",
)
INCIDENT_TYPES: Final = (
    "delivery_failure",
    "spam_complaints",
    "phishing",
    "unauthorized_access",
    "data_breach",
    "blocklisting",
    "dns_auth",
    "pipeline_outage",
    "other",
)
SEVERITY_LEVELS: Final = ("SEV1", "SEV2", "SEV3", "SEV4")
ROLES: Final = (
    "incident_commander",
    "communications_lead",
    "deliverability_lead",
    "security_lead",
    "scribe",
)
PERSON: Final = "person"
SYSTEM: Final = "system"


@dataclass(frozen=True, slots=True)
class Move:
    """One row of the transitions table: who may move an incident from source to target."""

    source: str
    target: str
    by: frozenset[str]
    stamp: str
    implies: tuple[str, ...] = ()
    via: str = ""  # non-empty: only through that operation (merging needs a target)


_P: Final = frozenset({PERSON})
_PS: Final = frozenset({PERSON, SYSTEM})


def _rows(
    sources: tuple[str, ...], target: str, by: frozenset[str], stamp: str, via: str = ""
) -> list[Move]:
    return [Move(source, target, by, stamp, via=via) for source in sources]


_ACTIVE: Final = ("detected", "acknowledged", "contained", "eradicated")
_OPEN: Final = (*_ACTIVE, "recovered")

TRANSITIONS: Final[dict[tuple[str, str], Move]] = {
    (move.source, move.target): move
    for move in (
        Move("detected", "acknowledged", _P, "acknowledged_at"),
        Move("detected", "contained", _P, "contained_at", implies=("acknowledged_at",)),
        Move("acknowledged", "contained", _P, "contained_at"),
        Move("contained", "eradicated", _P, "eradicated_at"),
        *_rows(_ACTIVE, "recovered", _PS, "recovered_at"),
        Move("recovered", "closed", _P, "closed_at"),
        *_rows(_OPEN, "false_positive", _P, "closed_at"),
        *_rows(_OPEN, "merged", _PS, "closed_at", via="merge"),
        Move("recovered", "detected", _PS, "reopened_at"),
        Move("closed", "detected", _P, "reopened_at"),
    )
}


def allowed_targets(state: str, actor_kind: str = PERSON) -> list[str]:
    """Return the states an actor of this kind may move an incident to from state."""
    return [
        target
        for (source, target), move in TRANSITIONS.items()
        if source == state and actor_kind in move.by
    ]


class IllegalTransitionError(ValueError):
    """The transitions table does not allow this move."""

    def __init__(self, state: str, target: str, allowed: list[str], hint: str = "") -> None:
        listed = ", ".join(allowed) or "none"
        more = f" ({hint})" if hint else ""
        super().__init__(f"cannot move from {state} to {target}{more}; allowed: {listed}")
        self.state = state
        self.target = target
        self.allowed = allowed


class ConflictError(RuntimeError):
    """An incident changed in the store since it was loaded; reload and try again."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change: a named person, or the system (e.g. noise control)."""

    name: str
    kind: str = PERSON


SYSTEM_ACTOR: Final = Actor("mailwarden", SYSTEM)


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One immutable line of an incident's history; other modules add their own kinds."""

    at: datetime
    kind: str
    actor: str
    actor_kind: str
    note: str
    data: dict[str, Any] = field(default_factory=dict)
    source: str = "incidents"
    id: int | None = None


@dataclass(slots=True)
class FindingLink:
    """A finding (one kind on one scope) attached to an incident, with how it got there."""

    kind: str
    scope: Scope
    relation: str
    finding_severity: str
    observed: float
    expected: float
    window_start: datetime
    first_seen: datetime
    last_seen: datetime
    attached_at: datetime
    evidence: dict[str, Any] = field(default_factory=dict)
    roots: frozenset[Scope] = frozenset()
    finding_id: int | None = None
    finding_count: int = 1
    cleared_at: datetime | None = None
    severity: str = "SEV4"

    @property
    def key(self) -> tuple[str, Scope]:
        """The link's identity within an incident: one kind on one scope."""
        return (self.kind, self.scope)


@dataclass(frozen=True, slots=True)
class RoleAssignment:
    """A person holding a response role on an incident."""

    role: str
    person: str
    assigned_at: datetime
    assigned_by: str


@dataclass(frozen=True, slots=True)
class Affected:
    """What the findings let us count; None means unknown, not zero."""

    messages: int | None = None
    recipients: int | None = None
    campaigns: int | None = None
    basis: str = "no counts in the evidence"


@dataclass(slots=True)
class Incident:
    """An incident: identity, classification, phase stamps and the changes not yet stored."""

    type: str
    severity: str
    title: str
    scope: Scope
    started_at: datetime
    detected_at: datetime
    state: str = DETECTED
    pk: int | None = None
    origin: str = "detection"
    description: str = ""
    acknowledged_at: datetime | None = None
    contained_at: datetime | None = None
    eradicated_at: datetime | None = None
    recovered_at: datetime | None = None
    closed_at: datetime | None = None
    reopened_at: datetime | None = None
    reopen_count: int = 0
    merged_into: int | None = None
    lineage: frozenset[Scope] = frozenset()
    affected: Affected = field(default_factory=Affected)
    last_signal_at: datetime | None = None
    hold_since: datetime | None = None
    updated_at: datetime | None = None
    version: int = 0
    links: dict[tuple[str, Scope], FindingLink] = field(default_factory=dict)
    roles: dict[str, RoleAssignment] = field(default_factory=dict)
    pending: list[TimelineEntry] = field(default_factory=list)
    dirty_links: set[tuple[str, Scope]] = field(default_factory=set)
    dirty_roles: set[str] = field(default_factory=set)
    new_attachments: list[NewAttachment] = field(default_factory=list)

    @property
    def id(self) -> str:
        """The human-friendly id, e.g. INC-42 (empty until stored)."""
        return f"INC-{self.pk}" if self.pk is not None else ""

    @property
    def is_active(self) -> bool:
        """True while responders are working on it (not yet recovered or ended)."""
        return self.state in ACTIVE_STATES

    @property
    def is_open(self) -> bool:
        """True unless closed, a false positive or merged."""
        return self.state in OPEN_STATES

    def finding_kinds(self) -> list[str]:
        """The distinct kinds of the attached findings, sorted."""
        return sorted({link.kind for link in self.links.values()})

    def stamps(self) -> dict[str, datetime | None]:
        """The phase timestamps by name."""
        return {name: getattr(self, name) for name in PHASE_STAMPS}

    def record(
        self,
        kind: str,
        actor: Actor,
        at: datetime,
        note: str,
        data: dict[str, Any] | None = None,
        source: str = "incidents",
    ) -> TimelineEntry:
        """Append a timeline entry (stored with the incident's next save)."""
        entry = TimelineEntry(
            at=self._clamp(at),
            kind=kind,
            actor=actor.name,
            actor_kind=actor.kind,
            note=note,
            data=dict(data or {}),
            source=source,
        )
        self.pending.append(entry)
        self.updated_at = entry.at
        return entry

    def transition(
        self, target: str, actor: Actor, at: datetime, note: str = "", *, via: str = "", **data: Any
    ) -> TimelineEntry:
        """Move to target if TRANSITIONS allows it; stamp it and put it on the timeline."""
        move = TRANSITIONS.get((self.state, target))
        allowed = allowed_targets(self.state, actor.kind)
        if move is None or actor.kind not in move.by:
            raise IllegalTransitionError(self.state, target, allowed)
        if move.via != via:
            raise IllegalTransitionError(self.state, target, allowed, f"only by {move.via}")
        when = self._clamp(at)
        for implied in move.implies:
            if getattr(self, implied) is None:
                setattr(self, implied, when)
        setattr(self, move.stamp, when)
        previous, self.state = self.state, target
        if move.stamp == "reopened_at":
            self.reopen_count += 1
        if target != "recovered":
            self.hold_since = None
        details = {"from": previous, "to": target, **data}
        return self.record("transitioned", actor, when, note, details)

    def attach(self, link: FindingLink) -> None:
        """Attach or replace a finding link (stored with the next save)."""
        self.links[link.key] = link
        self.dirty_links.add(link.key)

    def assign(self, assignment: RoleAssignment) -> None:
        """Give a role to a person (replacing whoever held it)."""
        self.roles[assignment.role] = assignment
        self.dirty_roles.add(assignment.role)

    def unassign(self, role: str) -> None:
        """Leave a role empty (stored with the next save)."""
        self.roles.pop(role, None)
        self.dirty_roles.add(role)

    def merge_into(self, target: Incident, actor: Actor, at: datetime, note: str = "") -> None:
        """End this incident as merged into target, which takes over its findings."""
        if target.pk is None or target.pk == self.pk or not target.is_open:
            raise IllegalTransitionError(self.state, "merged", [])
        self.transition("merged", actor, at, note, via="merge", into=target.id)
        self.merged_into = target.pk
        for link in self.links.values():
            if link.key not in target.links:
                target.attach(replace(link, attached_at=at))
        target.started_at = min(target.started_at, self.started_at)
        data = {"from": self.id, "finding_kinds": self.finding_kinds()}
        target.record("absorbed", actor, at, note or f"{self.id} merged into this incident", data)

    def mark_stored(self) -> None:
        """Forget the pending changes once the repository has written them."""
        self.pending.clear()
        self.dirty_links.clear()
        self.dirty_roles.clear()
        self.new_attachments.clear()

    def _clamp(self, at: datetime) -> datetime:
        if self.updated_at is not None and at < self.updated_at:
            return self.updated_at
        return at
