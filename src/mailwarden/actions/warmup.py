"""Warm-up after a pause: resume at a fraction of normal volume and ramp per provider by day.

Normal volume comes from a `NormalVolume` source (the detection rollups when there is
history); without history the configured sends-per-minute stands in, and the plan says so.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import Final, Protocol

from mailwarden.actions.gate_records import ALL, WarmupPlan, WarmupStore
from mailwarden.clock import Clock

DEFAULT_SCHEDULE: Final = (0.10, 0.25, 0.50, 1.00)
DEFAULT_PER_MINUTE: Final = 100.0


class NormalVolume(Protocol):
    """What a scope normally sends, per minute, by mailbox provider (ALL for the whole)."""

    def per_minute(self, scope: str, key: str, before: datetime) -> Mapping[str, float] | None:
        """Sends per minute while sending, from history before a time; None without history."""
        ...


def parse_schedule(text: str) -> tuple[float, ...]:
    """'10%,25%,50%,100%' or '0.1,0.25,0.5,1' → fractions; ValueError when malformed."""
    steps: list[float] = []
    for part in text.split(","):
        item = part.strip()
        if not item:
            continue
        value = float(item.rstrip("%")) / (100.0 if item.endswith("%") else 1.0)
        if not 0.0 < value <= 1.0:
            raise ValueError(f"warm-up step {item!r} must be above 0 and at most 100%")
        steps.append(value)
    check_schedule(steps)
    return tuple(steps)


def check_schedule(steps: Sequence[float]) -> None:
    """A schedule is non-empty, never ramps down, and ends at full volume."""
    if not steps:
        raise ValueError("a warm-up schedule needs at least one day")
    if any(later < earlier for earlier, later in pairwise(steps)):
        raise ValueError(f"a warm-up schedule may not ramp down: {list(steps)}")
    if steps[-1] != 1.0:
        raise ValueError(f"a warm-up schedule ends at 100%: {list(steps)}")


@dataclass(frozen=True, slots=True)
class WarmupPolicy:
    """The default ramp, per-provider overrides, and the fallback normal volume."""

    schedule: tuple[float, ...] = DEFAULT_SCHEDULE
    per_provider: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    default_per_minute: float = DEFAULT_PER_MINUTE

    def schedules(self) -> dict[str, tuple[float, ...]]:
        """The schedules by provider, ALL for the rest."""
        return {ALL: self.schedule, **dict(self.per_provider)}


class WarmupPlanner:
    """Starts warm-up plans and answers which are running."""

    def __init__(
        self,
        store: WarmupStore,
        clock: Clock,
        volume: NormalVolume | None = None,
        policy: WarmupPolicy | None = None,
        *,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex[:12],
    ) -> None:
        self.store = store
        self._clock = clock
        self._volume = volume
        self.policy = policy or WarmupPolicy()
        self._new_id = new_id

    def start(
        self,
        scope: str,
        key: str,
        *,
        created_by: str,
        incident_id: str | None = None,
        source_run: str | None = None,
        plan_id: str | None = None,
    ) -> WarmupPlan:
        """Start (once per plan id) a ramp for the scope from now; return the stored plan."""
        now = self._clock.now()
        if plan_id is not None and (existing := self.store.get(plan_id)) is not None:
            return existing
        normal, basis = self._normal(scope, key, now)
        plan = WarmupPlan(
            id=plan_id or self._new_id(),
            scope=scope,
            key=key,
            started_at=now,
            normal=normal,
            schedules=self.policy.schedules(),
            basis=basis,
            created_by=created_by,
            incident_id=incident_id,
            source_run=source_run,
        )
        self.store.add(plan)
        return self.store.get(plan.id) or plan

    def cancel(self, plan_id: str, by: str) -> bool:
        """End a plan early: full volume from now."""
        return self.store.cancel(plan_id, self._clock.now(), by)

    def running(self) -> list[WarmupPlan]:
        """Plans still ramping now."""
        return self.store.listed(active_at=self._clock.now())

    def _normal(self, scope: str, key: str, now: datetime) -> tuple[dict[str, float], str]:
        found = self._volume.per_minute(scope, key, now) if self._volume is not None else None
        if found and found.get(ALL, 0.0) > 0:
            return {name: round(value, 3) for name, value in found.items()}, "rollups"
        fallback = {ALL: self.policy.default_per_minute}
        return fallback, f"configured {self.policy.default_per_minute:g}/min (no history)"


def describe_ramp(plan: WarmupPlan) -> str:
    """e.g. 'day 1: 10%, day 2: 25%, day 3: 50%, day 4: 100%'."""
    steps = plan.schedule(None)
    return ", ".join(f"day {day}: {fraction:.0%}" for day, fraction in enumerate(steps, 1))
