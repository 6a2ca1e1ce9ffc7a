"""JSON shapes of the team directory, shared by the API and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mailwarden.team.model import EscalationPolicy, Override, Person, RoleDef, Rota, Shift


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def person_dict(person: Person) -> dict[str, Any]:
    """A person with their contact channels."""
    return {
        "handle": person.handle,
        "name": person.name,
        "timezone": person.timezone,
        "contacts": [{"channel": c.channel, "address": c.address} for c in person.contacts],
    }


def role_dict(role: RoleDef) -> dict[str, Any]:
    """A response role."""
    return {"name": role.name, "description": role.description, "custom": role.custom}


def override_dict(override: Override) -> dict[str, Any]:
    """An override of a rota."""
    return {
        "id": override.pk,
        "rota": override.rota,
        "person": override.person,
        "starts_at": _time(override.starts_at),
        "ends_at": _time(override.ends_at),
        "reason": override.reason,
        "created_by": override.created_by,
    }


def rota_dict(rota: Rota) -> dict[str, Any]:
    """A rota with its members in turn order and its overrides."""
    return {
        "name": rota.name,
        "rotation": rota.rotation,
        "handoff": rota.handoff.strftime("%H:%M"),
        "timezone": rota.timezone,
        "starts_on": rota.starts_on.isoformat(),
        "members": list(rota.members),
        "description": rota.description,
        "overrides": [override_dict(item) for item in rota.overrides],
    }


def shift_dict(shift: Shift) -> dict[str, Any]:
    """Who is on call for a rota, from when until when."""
    return {
        "rota": shift.rota,
        "person": shift.person,
        "start": _time(shift.start),
        "end": _time(shift.end),
        "override": shift.override,
    }


def policy_dict(policy: EscalationPolicy) -> dict[str, Any]:
    """An escalation policy with its levels."""
    return {
        "name": policy.name,
        "description": policy.description,
        "levels": [
            {"targets": [str(t) for t in level.targets], "after_minutes": level.after_minutes}
            for level in policy.levels
        ],
        "repeat": policy.repeat,
        "incident_types": list(policy.incident_types),
        "severities": list(policy.severities),
    }
