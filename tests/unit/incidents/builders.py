"""Findings and services for incident tests, built with as little noise as possible."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.unit.incidents.fakes import MemoryIncidentRepository

from mailwarden.clock import FakeClock
from mailwarden.detect.model import Finding, Scope
from mailwarden.incidents.model import Actor
from mailwarden.incidents.noise import NoisePolicy
from mailwarden.incidents.service import IncidentService
from mailwarden.incidents.severity import load_severity_rules

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
ALEX = Actor("alex")


def at(minute: float) -> datetime:
    """T0 plus some minutes."""
    return T0 + timedelta(minutes=minute)


def finding(
    kind: str,
    dimension: str,
    key: str,
    *,
    minute: float = 0,
    severity: str = "warning",
    observed: float = 0.2,
    expected: float = 0.01,
    status: str = "open",
    closed_minute: float | None = None,
    finding_id: int | None = None,
    **evidence: Any,
) -> Finding:
    """A finding first seen (and last seen) at T0 + minute over the 15 minutes before it."""
    return Finding(
        kind=kind,
        scope=Scope(dimension, key),
        severity=severity,
        observed=observed,
        expected=expected,
        evidence=dict(evidence),
        window_start=at(minute - 15),
        window_end=at(minute),
        first_seen=at(minute),
        last_seen=at(minute),
        id=finding_id,
        status=status,
        closed_at=at(closed_minute) if closed_minute is not None else None,
    )


def make_service(
    clock: FakeClock, repo: MemoryIncidentRepository | None = None, **policy: Any
) -> tuple[IncidentService, MemoryIncidentRepository]:
    """A service over an in-memory repository, with the packaged severity rules."""
    repo = repo or MemoryIncidentRepository()
    service = IncidentService(repo, clock, load_severity_rules(), policy=NoisePolicy(**policy))
    return service, repo


def kinds(entries: list[Any]) -> list[str]:
    """The kinds of timeline entries, in order."""
    return [entry.kind for entry in entries]
