"""Escalation arithmetic: which policy covers an incident, which levels are due, whom they reach."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from mailwarden.team.model import EscalationPolicy, Level, Roster
from mailwarden.team.oncall import who_is_on_call


@dataclass(frozen=True, slots=True)
class Step:
    """Level `level` (0-based) of round `cycle`, due at `due_at` if still unacknowledged."""

    cycle: int
    level: int
    due_at: datetime

    @property
    def key(self) -> str:
        """A stable name for this step, e.g. page:0:1."""
        return f"page:{self.cycle}:{self.level}"


@dataclass(frozen=True, slots=True)
class Recipient:
    """A person to notify and why they were chosen (e.g. on call for rota primary)."""

    handle: str
    via: str


def select_policy(
    policies: Iterable[EscalationPolicy], incident_type: str, severity: str
) -> EscalationPolicy | None:
    """The policy for an incident: a specific one, else the one named default, else any."""
    covering = [policy for policy in policies if policy.covers(incident_type, severity)]
    covering.sort(
        key=lambda p: (not (p.incident_types or p.severities), p.name != "default", p.name)
    )
    return covering[0] if covering else None


def steps(policy: EscalationPolicy, started_at: datetime) -> list[Step]:
    """Every step of the policy for an incident whose clock started at started_at."""
    cycles = policy.repeat + 1 if policy.cycle_minutes > 0 else 1
    found: list[Step] = []
    for cycle in range(cycles):
        offset = cycle * policy.cycle_minutes
        for index, level in enumerate(policy.levels):
            found.append(Step(cycle, index, started_at + timedelta(minutes=offset)))
            offset += level.after_minutes
    return found


def due_steps(policy: EscalationPolicy, started_at: datetime, now: datetime) -> list[Step]:
    """The steps due by now (each must still be checked against what was already sent)."""
    return [step for step in steps(policy, started_at) if step.due_at <= now]


def exhausted_at(policy: EscalationPolicy, started_at: datetime) -> datetime:
    """When the last level of the last round has waited its time without an acknowledgement."""
    last = steps(policy, started_at)[-1]
    return last.due_at + timedelta(minutes=policy.levels[last.level].after_minutes)


def next_level(policy: EscalationPolicy, reached: int | None) -> int:
    """The level above the highest one reached (the top level stays the top)."""
    if reached is None:
        return 0
    return min(reached + 1, len(policy.levels) - 1)


def resolve(level: Level, roster: Roster, at: datetime) -> list[Recipient]:
    """The people a level reaches at `at` (the on-call of each rota, named people), once each."""
    found: dict[str, Recipient] = {}
    for target in level.targets:
        if target.kind == "person":
            found.setdefault(target.name, Recipient(target.name, "named in the policy"))
            continue
        rota = roster.rotas.get(target.name)
        handle = who_is_on_call(rota, at) if rota is not None else None
        if handle is not None:
            found.setdefault(handle, Recipient(handle, f"on call for {target.name}"))
    return list(found.values())
