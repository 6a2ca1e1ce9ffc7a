"""Services on SQLite with containment wired, and ways to open incidents and store events."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import orjson

from mailwarden.app import Services, build
from mailwarden.clock import FakeClock
from mailwarden.config import Settings
from mailwarden.containment.wiring import Containment
from mailwarden.detect.model import Finding, Scope
from mailwarden.events.providers.base import WebhookRequest
from mailwarden.incidents.model import Actor, Incident
from mailwarden.incidents.service import IncidentService

CHEAP = {"argon2_time_cost": 1, "argon2_memory_kib": 1024, "sqlite_synchronous": "NORMAL"}
CAMPAIGN = "black-friday"


def make_services(url: str, clock: FakeClock, **overrides: Any) -> Services:
    """Services on url, detection off (tests feed findings), on the fake clock."""
    values = {"database_url": url, "detection_enabled": False, **CHEAP, **overrides}
    return build(Settings.model_validate(values), clock=clock)


def parts(services: Services) -> tuple[IncidentService, Containment]:
    """The incident service and containment (always built by app.build)."""
    assert services.incidents is not None and services.containment is not None
    return services.incidents, services.containment


def complaint_finding(
    clock: FakeClock, *, dimension: str = "campaign", key: str = CAMPAIGN, critical: bool = False
) -> Finding:
    """A complaint-rate finding (policy threshold when critical) ending now."""
    now = clock.now()
    kind = "policy_threshold" if critical else "complaint_rate"
    return Finding(
        kind=kind,
        scope=Scope(dimension, key),
        severity="critical" if critical else "warning",
        observed=0.006,
        expected=0.0005,
        evidence={"metric": "complaint_rate", "complained": 30, "delivered": 5000},
        window_start=now - timedelta(minutes=60),
        window_end=now,
        first_seen=now,
        last_seen=now,
    )


def open_incident(services: Services, finding: Finding) -> Incident:
    """Publish the finding as detection would and return the incident it opened."""
    services.bus.publish_messages("findings", [finding])
    incidents, _ = parts(services)
    found = incidents.list_incidents()
    assert found, "the finding opened no incident"
    return found[0]


def store_complaints(
    services: Services, addresses: list[str], at: datetime, campaign: str = CAMPAIGN
) -> None:
    """Ingest complaint events (canonical NDJSON) for these recipients."""
    lines = [
        orjson.dumps(
            {
                "id": f"c:{campaign}:{address}",
                "type": "complained",
                "occurred_at": at.isoformat().replace("+00:00", "Z"),
                "provider": "sendgrid",
                "recipient": address,
                "mailbox_provider": "gmail",
                "sending_domain": "news.example.org",
                "campaign": campaign,
                "complaint": {"feedback_type": "abuse"},
            }
        )
        for address in addresses
    ]
    request = WebhookRequest(headers={}, body=b"\n".join(lines), received_at=at)
    services.ingest.receive("ndjson", request, verify=False, source="test")


def kinds(services: Services, incident: str) -> list[str]:
    """The kinds of an incident's timeline entries, in order."""
    incidents, _ = parts(services)
    return [entry.kind for entry in incidents.timeline(incident)]


def assign_commander(services: Services, incident: str, person: str) -> None:
    """Make person the incident's commander."""
    incidents, _ = parts(services)
    incidents.assign(incident, "incident_commander", person, Actor("lead"))
