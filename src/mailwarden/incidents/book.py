"""The working set of one batch of findings: the signals and the incidents they may join."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from mailwarden.detect.model import Finding, Scope
from mailwarden.incidents import grouping
from mailwarden.incidents.model import Incident
from mailwarden.incidents.records import Silence


@dataclass(frozen=True, slots=True)
class Signal:
    """A finding with what the rules say about it."""

    finding: Finding
    type: str
    type_rule: str
    severity: str
    severity_rule: str
    roots: frozenset[Scope]
    cleared: bool

    @property
    def last_seen(self) -> datetime:
        """When the detector last saw it."""
        return self.finding.last_seen or self.finding.window_end

    def describe(self) -> str:
        """e.g. "hard_bounce_rate on campaign=black-friday"."""
        return f"{self.finding.kind} on {self.finding.scope}"

    def data(self) -> dict[str, object]:
        """The finding's identity for a timeline entry."""
        finding = self.finding
        return {"finding_id": finding.id, "kind": finding.kind, "scope": finding.scope.to_dict()}


@dataclass(slots=True)
class Book:
    """The open incidents a batch works on, and what the batch changed."""

    incidents: list[Incident]
    silences: list[Silence] = field(default_factory=list)
    changed: list[Incident] = field(default_factory=list)
    changed_silences: list[Silence] = field(default_factory=list)
    persist: Callable[[Incident], None] | None = None
    reopen_after: datetime | None = None  # recovered before this: no longer reopened

    def open(self) -> list[Incident]:
        """The incidents findings may still join (active, or recently recovered), newest first."""
        return [i for i in reversed(self.incidents) if i.is_active or self._reopenable(i)]

    def _reopenable(self, incident: Incident) -> bool:
        if incident.state != "recovered" or incident.recovered_at is None:
            return False
        return self.reopen_after is None or incident.recovered_at >= self.reopen_after

    def mark(self, *incidents: Incident) -> None:
        """Remember that these incidents must be saved."""
        for incident in incidents:
            if not any(incident is known for known in self.changed):
                self.changed.append(incident)

    def hit(self, silence: Silence, now: datetime) -> None:
        """Count a finding the silence muted."""
        silence.matched_count += 1
        silence.last_matched_at = now
        if not any(silence is known for known in self.changed_silences):
            self.changed_silences.append(silence)

    def active(self) -> list[Incident]:
        """The incidents still being worked on, newest first."""
        return [incident for incident in self.open() if incident.is_active]

    def holding(self, kind: str, scope: Scope) -> Incident | None:
        """The incident this finding (kind on scope) is attached to: an active one, or one
        recovered so recently that the finding firing again is flapping (it reopens)."""
        return next((i for i in self.open() if (kind, scope) in i.links), None)

    def dedup(self, incident_type: str, scope: Scope) -> Incident | None:
        """The active incident with the same dedup key (type + scope), if any."""
        key = grouping.dedup_key(incident_type, scope)
        return next((i for i in self.active() if grouping.dedup_key(i.type, i.scope) == key), None)
