"""What the incident page shows, gathered from the services: moves, tasks, clocks, chart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from mailwarden.app import Services
from mailwarden.detect.engine import KIND_RATES
from mailwarden.incidents.model import (
    PHASE_STAMPS,
    ROLES,
    TRANSITIONS,
    Incident,
    RoleAssignment,
    allowed_targets,
)
from mailwarden.playbooks.records import Task
from mailwarden.playbooks.schema import PHASES as PLAYBOOK_PHASES
from mailwarden.reports.health import HealthBoard, ScopeSeries
from mailwarden.sla.clocks import ClockState
from mailwarden.store.findings_repo import FindingStore
from mailwarden.web.pages.render import minute

# target state -> button label
MOVE_LABELS: Final = {
    "acknowledged": "Acknowledge",
    "contained": "Mark contained",
    "eradicated": "Mark eradicated",
    "recovered": "Mark recovered",
    "closed": "Close",
    "false_positive": "False positive",
    "detected": "Reopen",
}
PHASES: Final = ("detected", "acknowledged", "contained", "eradicated", "recovered", "closed")
TASK_PHASES: Final = PLAYBOOK_PHASES
RATE_LABELS: Final = {
    "hard_bounce": "Hard bounces (% of attempts)",
    "block": "Blocked (% of attempts)",
    "deferral": "Deferred (% of attempts)",
    "delivery": "Delivered (% of attempts)",
    "complaint": "Complaints (% of delivered)",
    "unsubscribe": "Unsubscribes (% of delivered)",
    "open": "Opens (% of delivered)",
}
DEFAULT_RATES: Final = ("delivery", "hard_bounce", "block", "complaint")
CONTEXT: Final = timedelta(hours=3)
MAX_EVIDENCE_IDS: Final = 50


@dataclass(frozen=True, slots=True)
class Move:
    """A transition the table allows from the current state, as a button."""

    target: str
    label: str


def moves(incident: Incident) -> list[Move]:
    """The people's moves from the incident's state (merging has its own form)."""
    return [
        Move(target, MOVE_LABELS.get(target, target.replace("_", " ").capitalize()))
        for target in allowed_targets(incident.state)
        if not TRANSITIONS[(incident.state, target)].via
    ]


def phase_steps(incident: Incident) -> list[dict[str, Any]]:
    """The response phases with whether each was reached and which one is current."""
    stamps = incident.stamps()
    return [
        {
            "name": phase,
            "at": stamps.get(f"{phase}_at"),
            "reached": stamps.get(f"{phase}_at") is not None,
            "current": incident.state == phase,
        }
        for phase in PHASES
    ]


def role_rows(incident: Incident) -> list[tuple[str, RoleAssignment | None]]:
    """Every standard role, then any custom one held, with its holder (None when empty)."""
    custom = sorted(name for name in incident.roles if name not in ROLES)
    return [(name, incident.roles.get(name)) for name in (*ROLES, *custom)]


def tasks_by_phase(tasks: Sequence[Task]) -> list[tuple[str, list[Task]]]:
    """Tasks grouped by playbook phase, phases in response order."""
    order = {phase: index for index, phase in enumerate(TASK_PHASES)}
    phases = sorted({task.phase for task in tasks}, key=lambda p: (order.get(p, 99), p))
    return [(phase, [t for t in tasks if t.phase == phase]) for phase in phases]


def incident_tasks(services: Services, incident: Incident) -> list[Task] | None:
    """The incident's tasks (None when playbooks are not running here)."""
    return services.tasks.tasks(incident.id) if services.tasks is not None else None


def incident_clocks(services: Services, incident: Incident, now: datetime) -> list[ClockState]:
    """The incident's response clocks (empty when SLA clocks are not running here)."""
    return services.monitor.clocks(incident.id, now) if services.monitor is not None else []


def evidence_links(services: Services, incident: Incident) -> list[dict[str, str]]:
    """Event-explorer links to each finding's sample events and to the incident's scope."""
    links = []
    store = FindingStore(services.engine)
    for link in incident.links.values():
        finding = store.get(link.finding_id) if link.finding_id is not None else None
        if finding is None or not finding.sample_event_ids:
            continue
        ids = ",".join(finding.sample_event_ids[:MAX_EVIDENCE_IDS])
        since, until = minute(finding.window_start), minute(finding.window_end, 1)
        links.append(
            {
                "label": f"Sample events of {link.kind} on {link.scope}",
                "query": f"ids={ids}&since={since}&until={until}",
            }
        )
    return links


def chart_data(board: HealthBoard, incident: Incident, now: datetime) -> dict[str, Any]:
    """The incident's scope over its span (and some context), with its phases to shade."""
    start = min(incident.started_at, incident.detected_at) - CONTEXT
    ended = incident.closed_at if not incident.is_open else None
    end = min(now, (ended or now) + CONTEXT)
    scope = (incident.scope.dimension, incident.scope.key)
    series = board.series(scope, start, max(end, start + timedelta(minutes=10)), now)
    names = [KIND_RATES[k] for k in incident.finding_kinds() if k in KIND_RATES]
    rates = list(dict.fromkeys(names)) or list(DEFAULT_RATES)
    return _chart(series, rates, incident, end)


def _chart(
    series: ScopeSeries, rates: list[str], incident: Incident, end: datetime
) -> dict[str, Any]:
    x = [minute * 60 for minute in series.starts]
    lines = [
        {
            "label": RATE_LABELS.get(name, name),
            "unit": " %",
            "values": [None if v is None else round(v * 100, 4) for v in series.rates(name)],
        }
        for name in rates
    ]
    return {
        "x": x,
        "series": lines,
        "phases": phase_bands(incident, end),
        "y_label": "%",
        "bucket_minutes": series.bucket_minutes,
        "has_data": any(row is not None for row in series.rows),
    }


def phase_bands(incident: Incident, end: datetime) -> list[dict[str, Any]]:
    """Consecutive phase intervals (epoch seconds) from the phase stamps, for shading."""
    stamps = sorted(
        (at, name.removesuffix("_at"))
        for name, at in incident.stamps().items()
        if at is not None and name in PHASE_STAMPS and name != "reopened_at"
    )
    bands = []
    for index, (at, name) in enumerate(stamps):
        if name == "closed":
            break
        until = stamps[index + 1][0] if index + 1 < len(stamps) else end
        if until > at:
            bands.append({"name": name, "start": at.timestamp(), "end": until.timestamp()})
    return bands
