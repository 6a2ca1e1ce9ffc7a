"""A Finding: one detector's claim that something is wrong, with how sure it is."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from mailwarden.events.model import format_time, parse_time

FINDING_KINDS: Final = frozenset(
    {
        "hard_bounce_rate",
        "block_rate",
        "deferral_rate",
        "complaint_rate",
        "unsubscribe_rate",
        "delivery_drop",
        "engagement_drop",
        "volume_surge",
        "volume_drop",
        "event_silence",
        "policy_threshold",
    }
)
SEVERITIES: Final = ("info", "warning", "critical")
FINDING_STATUSES: Final = ("open", "closed")
FINDINGS_TOPIC: Final = "findings"
DIMENSIONS: Final = (
    "overall",
    "sending_domain",
    "campaign",
    "mailbox_provider",
    "sending_ip",
    "sending_domain:mailbox_provider",
)


@dataclass(frozen=True, slots=True, order=True)
class Scope:
    """What a finding is about: a dimension and a key within it (overall has key "*")."""

    dimension: str
    key: str

    def to_dict(self) -> dict[str, str]:
        """Return the JSON object."""
        return {"dimension": self.dimension, "key": self.key}

    def __str__(self) -> str:
        return f"{self.dimension}={self.key}"


@dataclass(slots=True)
class Finding:
    """An anomaly in one scope over one window, with the evidence that makes it credible."""

    kind: str
    scope: Scope
    severity: str
    observed: float
    expected: float
    evidence: dict[str, Any]
    window_start: datetime
    window_end: datetime
    first_seen: datetime
    sample_event_ids: list[str] = field(default_factory=list)
    last_seen: datetime | None = None
    id: int | None = None
    status: str = "open"
    closed_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON object printed by `mailwarden findings --json`."""
        return {
            "id": self.id,
            "kind": self.kind,
            "scope": self.scope.to_dict(),
            "severity": self.severity,
            "observed": self.observed,
            "expected": self.expected,
            "evidence": self.evidence,
            "window_start": format_time(self.window_start),
            "window_end": format_time(self.window_end),
            "first_seen": format_time(self.first_seen),
            "last_seen": format_time(self.last_seen or self.first_seen),
            "sample_event_ids": list(self.sample_event_ids),
            "status": self.status,
            "closed_at": format_time(self.closed_at) if self.closed_at else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        """Build a Finding from the object to_dict returns (how the bus carries findings)."""
        closed, scope = data.get("closed_at"), data["scope"]
        return cls(
            kind=data["kind"],
            scope=Scope(scope["dimension"], scope["key"]),
            severity=data["severity"],
            observed=float(data["observed"]),
            expected=float(data["expected"]),
            evidence=dict(data["evidence"]),
            window_start=parse_time(data["window_start"]),
            window_end=parse_time(data["window_end"]),
            first_seen=parse_time(data["first_seen"]),
            sample_event_ids=list(data.get("sample_event_ids") or ()),
            last_seen=parse_time(data["last_seen"]) if data.get("last_seen") else None,
            id=data.get("id"),
            status=data.get("status", "open"),
            closed_at=parse_time(closed) if closed else None,
        )
