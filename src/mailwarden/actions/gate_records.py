"""What the sending gate is built from: pauses, quarantines and warm-up plans; and their ports.

A pause stops sending for one scope (a campaign, a sending domain, a mailbox provider, a
sending IP, or everything); a quarantine stops sending to one list segment or import batch;
a warm-up plan throttles a resumed scope to a fraction of its normal volume, per mailbox
provider, ramping day by day. Each row is owned by the action run that made it (its run key),
so undo removes only what its run added.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

PAUSE_SCOPES: Final = ("campaign", "sending_domain", "mailbox_provider", "sending_ip", "all")
QUARANTINE_KINDS: Final = ("segment", "batch")
ALL: Final = "*"
DAY: Final = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Pause:
    """Sending stopped for one scope until resumed (or until it expires)."""

    run_key: str
    scope: str
    key: str
    reason: str
    created_by: str
    created_at: datetime
    incident_id: str | None = None
    expires_at: datetime | None = None
    resumed_at: datetime | None = None
    resumed_by: str | None = None

    @property
    def target(self) -> str:
        """e.g. campaign=black-friday, or all."""
        return "all" if self.scope == "all" else f"{self.scope}={self.key}"

    def active(self, now: datetime) -> bool:
        """True until resumed or expired."""
        return self.resumed_at is None and (self.expires_at is None or self.expires_at > now)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON object."""
        return {
            "run_key": self.run_key,
            "scope": self.scope,
            "key": self.key,
            "target": self.target,
            "reason": self.reason,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "incident_id": self.incident_id,
            "expires_at": _iso(self.expires_at),
            "resumed_at": _iso(self.resumed_at),
            "resumed_by": self.resumed_by,
        }


@dataclass(frozen=True, slots=True)
class Quarantine:
    """A list segment or import batch nobody may send to until released (or expired)."""

    run_key: str
    kind: str
    name: str
    reason: str
    created_by: str
    created_at: datetime
    incident_id: str | None = None
    expires_at: datetime | None = None
    released_at: datetime | None = None
    released_by: str | None = None

    @property
    def target(self) -> str:
        """e.g. segment=imported-2026-11."""
        return f"{self.kind}={self.name}"

    def active(self, now: datetime) -> bool:
        """True until released or expired."""
        return self.released_at is None and (self.expires_at is None or self.expires_at > now)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON object."""
        return {
            "run_key": self.run_key,
            "kind": self.kind,
            "name": self.name,
            "target": self.target,
            "reason": self.reason,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "incident_id": self.incident_id,
            "expires_at": _iso(self.expires_at),
            "released_at": _iso(self.released_at),
            "released_by": self.released_by,
        }


@dataclass(frozen=True, slots=True)
class WarmupPlan:
    """Resume a scope at a fraction of normal volume per mailbox provider, ramping by day.

    `normal` holds sends per minute by mailbox provider (ALL for the scope as a whole);
    `schedules` holds the day-by-day fractions by provider (ALL for every other provider).
    Day 1 starts at `started_at`; after the last day the plan is finished and sends flow.
    """

    id: str
    scope: str
    key: str
    started_at: datetime
    normal: Mapping[str, float]
    schedules: Mapping[str, tuple[float, ...]]
    basis: str
    created_by: str
    incident_id: str | None = None
    source_run: str | None = None
    cancelled_at: datetime | None = None
    cancelled_by: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def target(self) -> str:
        """e.g. campaign=black-friday, or all."""
        return "all" if self.scope == "all" else f"{self.scope}={self.key}"

    def schedule(self, provider: str | None) -> tuple[float, ...]:
        """The day-by-day fractions for a mailbox provider."""
        return self.schedules.get(provider or ALL) or self.schedules[ALL]

    def ends_at(self) -> datetime:
        """When the longest ramp has reached its last day's end."""
        days = max(len(steps) for steps in self.schedules.values())
        return self.started_at + days * DAY

    def day(self, now: datetime) -> int:
        """The plan's day at now: 1 on its first day."""
        return int((now - self.started_at) / DAY) + 1

    def fraction(self, provider: str | None, now: datetime) -> float | None:
        """The share of normal volume allowed now; None before the start or after the ramp."""
        if self.cancelled_at is not None or now < self.started_at:
            return None
        steps = self.schedule(provider)
        index = self.day(now) - 1
        return steps[index] if index < len(steps) and steps[index] < 1.0 else None

    def rate_per_minute(self, provider: str | None, now: datetime) -> int | None:
        """Sends per minute allowed now for a mailbox provider; None when not throttled."""
        fraction = self.fraction(provider, now)
        if fraction is None:
            return None
        normal = self.normal.get(provider or ALL, self.normal.get(ALL, 0.0))
        return max(1, int(normal * fraction))

    def next_change(self, now: datetime) -> datetime:
        """When the allowed rate next changes (the next day boundary, or the start)."""
        if now < self.started_at:
            return self.started_at
        return self.started_at + self.day(now) * DAY

    def active(self, now: datetime) -> bool:
        """True from its start until it is cancelled or every ramp has finished."""
        return self.cancelled_at is None and now < self.ends_at()

    def with_changes(self, **changes: Any) -> WarmupPlan:
        """Return a copy with the given fields changed."""
        return replace(self, **changes)

    def to_dict(self, now: datetime | None = None) -> dict[str, Any]:
        """Return the JSON object (with today's rates when now is given)."""
        data: dict[str, Any] = {
            "id": self.id,
            "scope": self.scope,
            "key": self.key,
            "target": self.target,
            "started_at": self.started_at.isoformat(),
            "ends_at": self.ends_at().isoformat(),
            "normal_per_minute": dict(self.normal),
            "schedules": {name: list(steps) for name, steps in self.schedules.items()},
            "basis": self.basis,
            "created_by": self.created_by,
            "incident_id": self.incident_id,
            "source_run": self.source_run,
            "cancelled_at": _iso(self.cancelled_at),
        }
        if now is not None:
            data["day"] = self.day(now)
            data["active"] = self.active(now)
            data["rate_per_minute"] = {
                name: self.rate_per_minute(None if name == ALL else name, now)
                for name in self.normal
            }
        return data


class PauseStore(Protocol):
    """Pauses, by the run that made them."""

    def add(self, pause: Pause) -> bool:
        """Insert unless a pause with this run key exists; True when inserted."""
        ...

    def resume(self, run_key: str, at: datetime, by: str) -> bool:
        """Mark the run's pause resumed; True if it was not yet."""
        ...

    def get(self, run_key: str) -> Pause | None:
        """The pause made by this run."""
        ...

    def listed(self, *, active_at: datetime | None = None) -> list[Pause]:
        """Every pause (or those active at a time), oldest first."""
        ...


class QuarantineStore(Protocol):
    """Quarantined segments and batches, by the run that made them."""

    def add(self, quarantine: Quarantine) -> bool:
        """Insert unless a quarantine with this run key exists; True when inserted."""
        ...

    def release(self, run_key: str, at: datetime, by: str) -> bool:
        """Mark the run's quarantine released; True if it was not yet."""
        ...

    def listed(self, *, active_at: datetime | None = None) -> list[Quarantine]:
        """Every quarantine (or those active at a time), oldest first."""
        ...


class WarmupStore(Protocol):
    """Warm-up plans."""

    def add(self, plan: WarmupPlan) -> bool:
        """Insert unless a plan with this id exists; True when inserted."""
        ...

    def get(self, plan_id: str) -> WarmupPlan | None:
        """One plan."""
        ...

    def cancel(self, plan_id: str, at: datetime, by: str) -> bool:
        """Stop a plan early (sends flow at full volume); True if it was running."""
        ...

    def listed(self, *, active_at: datetime | None = None) -> list[WarmupPlan]:
        """Every plan (or those active at a time), oldest first."""
        ...


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
