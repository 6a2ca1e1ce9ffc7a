"""Hysteresis and auto-recovery: recover only after every finding stayed clear for the hold."""

from __future__ import annotations

from datetime import datetime

from mailwarden.events.model import format_time
from mailwarden.incidents.model import SYSTEM_ACTOR, Incident
from mailwarden.incidents.noise import NoisePolicy, clear_since, hold_elapsed


def _minutes(policy: NoisePolicy) -> int:
    return int(policy.hold.total_seconds() // 60)


def evaluate_hold(incident: Incident, now: datetime, policy: NoisePolicy) -> bool:
    """Start the hold once all findings are clear; recover when it has lasted; True if changed.

    Incidents without findings (opened by people) never recover by themselves, and nothing
    is ever closed automatically.
    """
    if not incident.is_active or not incident.links:
        return False
    since = clear_since(incident.links.values(), now, policy)
    if since is None:
        return False
    changed = False
    if incident.hold_since is None:
        incident.hold_since = since
        note = (
            f"all findings clear since {format_time(since)}; recovering after "
            f"{_minutes(policy)} min clear (hysteresis hold)"
        )
        data = {"rule": "hysteresis", "phase": "hold_started", "clear_since": format_time(since)}
        incident.record("hysteresis", SYSTEM_ACTOR, now, note, data)
        changed = True
    if hold_elapsed(incident, now, policy):
        note = (
            f"auto-recovered: findings back at baseline for {_minutes(policy)} min; "
            "a person closes the incident once satisfied"
        )
        incident.transition("recovered", SYSTEM_ACTOR, now, note, rule="auto_recover")
        changed = True
    return changed
