"""The clock port: every timed decision asks a Clock, so tests and replays control time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Tells the current time as an aware UTC datetime."""

    def now(self) -> datetime:
        """Return the current time (UTC, timezone-aware)."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        """Return the wall-clock time in UTC."""
        return datetime.now(UTC)


class FakeClock:
    """A clock that only moves when told to; for tests and replays."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        """Return the simulated time."""
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by delta and return the new time."""
        self._now += delta
        return self._now

    def set(self, when: datetime) -> None:
        """Jump the clock to when (forwards or backwards)."""
        self._now = when
