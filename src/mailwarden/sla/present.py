"""JSON shape of an incident's clocks, shared by the API and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mailwarden.sla.clocks import ClockState


def _time(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def clock_dict(state: ClockState) -> dict[str, Any]:
    """Where one clock stands."""
    return {
        "clock": state.clock,
        "state": state.state,
        "due_at": _time(state.due_at),
        "met_at": _time(state.met_at),
        "detail": state.detail,
    }
