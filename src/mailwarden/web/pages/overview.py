"""The overview: sending health, open incidents by severity, SLA clocks near breach, findings.

An install with nothing in it yet shows the first-run page instead (firstrun.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from mailwarden.detect.model import Finding
from mailwarden.incidents.model import OPEN_STATES, SEVERITY_LEVELS, Incident
from mailwarden.sla.clocks import ClockState
from mailwarden.store.findings_repo import FindingStore
from mailwarden.web.pages.charts import sparkline
from mailwarden.web.pages.firstrun import first_run_context
from mailwarden.web.pages.render import Console

SOON: Final = timedelta(hours=1)
RECENT_FINDINGS: Final = 8


@dataclass(frozen=True, slots=True)
class SlaAlert:
    """A response clock of an open incident that is breached or due within the hour."""

    incident: Incident
    clock: ClockState
    breached: bool


def overview_router(console: Console) -> APIRouter:
    """GET / : the overview, or the first-run page on an empty install."""
    router = APIRouter(include_in_schema=False)

    @router.get("/", response_class=HTMLResponse)
    def overview(request: Request) -> HTMLResponse:
        """The overview, or the first-run page on an empty install."""
        services = console.services
        now = services.clock.now()
        incidents = _open_incidents(console)
        if not incidents and console.board.hourly.is_empty():
            context = first_run_context(console, request)
            return console.render(request, "console/firstrun.html", "overview", context)
        context = {
            "report": console.board.report(now),
            "incidents": incidents,
            "by_severity": _by_severity(incidents),
            "sla": sla_alerts(console, incidents, now),
            "sla_known": services.monitor is not None,
            "findings": recent_findings(console),
            "sparkline": sparkline,
            "now": now,
        }
        return console.render(request, "console/overview.html", "overview", context)

    return router


def _open_incidents(console: Console) -> list[Incident]:
    service = console.services.incidents
    if service is None:
        return []
    found = service.list_incidents(states=sorted(OPEN_STATES))
    rank = {level: index for index, level in enumerate(SEVERITY_LEVELS)}
    return sorted(found, key=lambda i: (rank.get(i.severity, 9), -(i.pk or 0)))


def _by_severity(incidents: list[Incident]) -> list[dict[str, Any]]:
    return [
        {"level": level, "count": sum(1 for i in incidents if i.severity == level)}
        for level in SEVERITY_LEVELS
    ]


def sla_alerts(console: Console, incidents: list[Incident], now: datetime) -> list[SlaAlert]:
    """Running clocks due within the hour, and breached ones, soonest first."""
    monitor = console.services.monitor
    if monitor is None:
        return []
    alerts: list[SlaAlert] = []
    for incident in incidents:
        for clock in monitor.clocks(incident.id, now):
            breached = clock.state == "breached"
            due_soon = clock.state == "running" and clock.due_at is not None
            if breached or (due_soon and clock.due_at is not None and clock.due_at - now <= SOON):
                alerts.append(SlaAlert(incident, clock, breached))
    return sorted(alerts, key=lambda a: (not a.breached, a.clock.due_at or now))


def recent_findings(console: Console, limit: int = RECENT_FINDINGS) -> list[Finding]:
    """The findings first seen most recently."""
    store = FindingStore(console.services.engine)
    found = (store.get(pk) for pk in console.board.hourly.reader.recent_finding_ids(limit))
    return [finding for finding in found if finding is not None]
