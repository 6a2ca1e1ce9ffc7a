"""Shortcuts for SLA tests: open an incident, tick at a minute, read the alarms."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.unit.team.fakes import T0, Stack

from mailwarden.incidents.model import Actor

ALEX = Actor("alex")


def open_incident(stack: Stack, severity: str, incident_type: str = "delivery_failure") -> str:
    """Open an incident at the clock's time."""
    return stack.incidents.open_manual(
        incident_type=incident_type, title="Bounces at Microsoft", actor=ALEX, severity=severity
    ).id


def tick_at(stack: Stack, minutes: float) -> None:
    """Move the clock to T0 + minutes and tick."""
    stack.clock.set(T0 + timedelta(minutes=minutes))
    stack.tick()


def alarms(stack: Stack, ref: str, clock: str | None = None) -> list[Any]:
    """The monitor's entries (optionally of one clock), oldest first."""
    return [
        entry
        for entry in stack.incidents.timeline(ref)
        if entry.source == "sla" and (clock is None or entry.data.get("clock") == clock)
    ]


def kinds(stack: Stack, ref: str, clock: str | None = None) -> list[str]:
    """The kinds of the monitor's entries."""
    return [entry.kind for entry in alarms(stack, ref, clock)]


def pages(stack: Stack, ref: str) -> list[tuple[int, int]]:
    """(cycle, level) of each page, in order."""
    return [
        (entry.data["cycle"], entry.data["level"])
        for entry in alarms(stack, ref)
        if entry.kind == "paged"
    ]
