"""Tick the incident service right after another ticking engine, at the same instant."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, Protocol, TypeVar

from mailwarden.incidents.service import IncidentService

R = TypeVar("R", covariant=True)


class Ticking(Protocol[R]):
    """Anything with a tick(now) (the detection engine, for one)."""

    def tick(self, now: datetime | None = None) -> R:
        """Evaluate what is due at now."""
        ...

    def flush(self) -> None:
        """Write what is pending to the store."""
        ...


class TickTogether(Generic[R]):
    """Ticks `first`, then the incident service, with the same now; returns first's result.

    Replays and the embedded scheduler use it so that holds, auto-recovery and silence
    reminders run every simulated (or real) minute right after detection has spoken.
    """

    def __init__(self, first: Ticking[R], incidents: IncidentService) -> None:
        self._first = first
        self._incidents = incidents

    def tick(self, now: datetime | None = None) -> R:
        """Tick the first engine, then the incidents."""
        result = self._first.tick(now)
        self._incidents.tick(now)
        return result

    def flush(self) -> None:
        """Write what the first engine holds pending."""
        self._first.flush()
