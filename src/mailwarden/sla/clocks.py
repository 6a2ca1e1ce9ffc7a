"""The clocks as pure functions of an incident, its timeline facts, the policy and now."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from mailwarden.incidents.model import Incident
from mailwarden.sla.facts import Facts, epoch_of
from mailwarden.sla.policy import SlaPolicy
from mailwarden.team.calendar import format_duration, parse_duration

ACK: Final = "acknowledge_by"
CONTAIN: Final = "contain_by"
UPDATES: Final = "stakeholder_update"
NOTICE: Final = "authority_notice"
BREACHED: Final = "sla_breached"
WARNING: Final = "sla_warning"
UPDATE_DUE: Final = "update_due"
NOTICE_ROLES: Final = ("security_lead", "incident_commander", "communications_lead")
UPDATE_ROLES: Final = ("communications_lead", "incident_commander")


@dataclass(frozen=True, slots=True)
class Alarm:
    """Something a clock says now: a breach, a warning or a reminder, fired once by key."""

    key: str
    kind: str
    clock: str
    due_at: datetime
    note: str
    escalate: bool = False
    roles: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ClockState:
    """Where one clock stands: running, met, breached, or stopped (ended some other way)."""

    clock: str
    state: str
    due_at: datetime | None
    met_at: datetime | None = None
    detail: str = ""


def _ended_at(incident: Incident, start: datetime) -> datetime:
    for stamp in (incident.recovered_at, incident.closed_at):
        if stamp is not None and stamp >= start:
            return stamp
    return incident.updated_at or start


def met_at(incident: Incident, clock: str, start: datetime) -> tuple[datetime | None, bool]:
    """When a clock's goal was met since start (and False if it stopped without being met)."""
    stamp, pending = (
        (incident.acknowledged_at, ("detected",))
        if clock == ACK
        else (incident.contained_at, ("detected", "acknowledged"))
    )
    if incident.state in pending:
        return None, True
    if stamp is not None and stamp >= start:
        return stamp, True
    return _ended_at(incident, start), False


def deadline_states(incident: Incident, policy: SlaPolicy, now: datetime) -> list[ClockState]:
    """The acknowledge-by and contain-by clocks of the current round."""
    _epoch, start = epoch_of(incident)
    found = []
    for clock in (ACK, CONTAIN):
        due = policy.due(clock, incident.severity, start)
        if due is None:
            continue
        met, reached = met_at(incident, clock, start)
        if met is None:
            state = "breached" if now >= due else "running"
        elif not reached:
            state = "stopped"
        else:
            state = "met" if met <= due else "breached"
        found.append(ClockState(clock, state, due, met))
    return found


def deadline_alarms(
    incident: Incident, facts: Facts, policy: SlaPolicy, now: datetime
) -> list[Alarm]:
    """Breaches of acknowledge-by and contain-by not yet on the timeline."""
    epoch, _start = epoch_of(incident)
    alarms = []
    for state in deadline_states(incident, policy, now):
        key = f"e{epoch}:{state.clock}"
        if state.state != "breached" or key in facts.fired or state.due_at is None:
            continue
        rule = getattr(policy, state.clock)[incident.severity]
        verb = "acknowledged" if state.clock == ACK else "contained"
        late = f" (only at {state.met_at.isoformat()})" if state.met_at else ""
        note = f"{incident.severity}: not {verb} within {rule}{late}"
        alarms.append(
            Alarm(key, BREACHED, state.clock, state.due_at, note, escalate=state.met_at is None)
        )
    return alarms


def update_state(
    incident: Incident, facts: Facts, policy: SlaPolicy, now: datetime
) -> ClockState | None:
    """When the next stakeholder update is due (active incidents with a cadence only)."""
    interval = policy.interval(incident.severity)
    if interval is None or not incident.is_active:
        return None
    _epoch, start = epoch_of(incident)
    base = max(start, facts.last_update_at or start)
    due = base + parse_duration(interval)
    state = "breached" if now >= due else "running"
    return ClockState(UPDATES, state, due, facts.last_update_at, f"every {interval}")


def update_alarms(
    incident: Incident, facts: Facts, policy: SlaPolicy, now: datetime
) -> list[Alarm]:
    """One reminder per missed update slot; after a jump only the latest slot is reminded."""
    state = update_state(incident, facts, policy, now)
    if state is None or state.due_at is None or now < state.due_at:
        return []
    interval = parse_duration(policy.update_every[incident.severity])
    base = state.due_at - interval
    slot = int((now - base) / interval)
    prefix = f"update:{int(base.timestamp())}:"
    if any(key.startswith(prefix) and int(key[len(prefix) :]) >= slot for key in facts.fired):
        return []
    silent = format_duration(timedelta(seconds=int((now - base).total_seconds())))
    note = f"stakeholder update due: none for {silent} ({incident.severity}: every {interval})"
    due = base + slot * interval
    return [Alarm(f"{prefix}{slot}", UPDATE_DUE, UPDATES, due, note, roles=UPDATE_ROLES)]


def notice_state(
    incident: Incident, facts: Facts, policy: SlaPolicy, now: datetime
) -> ClockState | None:
    """The GDPR Art. 33 clock of a data breach once personal data is confirmed."""
    aware = facts.personal_data_at
    if incident.type != "data_breach" or aware is None:
        return None
    due = aware + timedelta(hours=policy.breach_notice_hours)
    notified = facts.authority_notified_at
    if notified is not None:
        state = "met" if notified <= due else "breached"
    else:
        state = "breached" if now >= due else "running"
    left = format_duration(max(due - now, timedelta(0)))
    return ClockState(NOTICE, state, due, notified, f"aware since {aware.isoformat()}; {left} left")


def notice_alarms(
    incident: Incident, facts: Facts, policy: SlaPolicy, now: datetime
) -> list[Alarm]:
    """Warnings before the 72-hour deadline and the breach; only the latest stage that is due."""
    state = notice_state(incident, facts, policy, now)
    if state is None or state.due_at is None or state.state == "met":
        return []
    aware = facts.personal_data_at or now
    stages = [
        (f"warn{hours}h", state.due_at - timedelta(hours=hours), hours)
        for hours in policy.breach_warnings_hours
        if hours < policy.breach_notice_hours
    ] + [("breach", state.due_at, 0)]
    prefix = f"gdpr:{int(aware.timestamp())}:"
    done = [index for index, (name, _at, _h) in enumerate(stages) if prefix + name in facts.fired]
    due = [index for index, (_name, at, _h) in enumerate(stages) if at <= now]
    if not due or (done and max(done) >= max(due)):
        return []
    name, at, hours = stages[max(due)]
    if state.met_at is not None and name != "breach":
        return []
    hours_total = policy.breach_notice_hours
    if hours:
        note = f"GDPR Art. 33: {hours}h left to notify the supervisory authority"
        return [Alarm(prefix + name, WARNING, NOTICE, at, note, roles=NOTICE_ROLES)]
    note = f"GDPR Art. 33: the supervisory authority was not notified within {hours_total}h"
    return [Alarm(prefix + name, BREACHED, NOTICE, at, note, escalate=state.met_at is None)]


def due_alarms(incident: Incident, facts: Facts, policy: SlaPolicy, now: datetime) -> list[Alarm]:
    """Every alarm due now and not yet fired, oldest first."""
    alarms = [
        *deadline_alarms(incident, facts, policy, now),
        *update_alarms(incident, facts, policy, now),
        *notice_alarms(incident, facts, policy, now),
    ]
    return sorted(alarms, key=lambda alarm: alarm.due_at)


def clock_states(
    incident: Incident, facts: Facts, policy: SlaPolicy, now: datetime
) -> list[ClockState]:
    """Every clock of an incident, for the API and the CLI."""
    found = deadline_states(incident, policy, now)
    for extra in (
        update_state(incident, facts, policy, now),
        notice_state(incident, facts, policy, now),
    ):
        if extra is not None:
            found.append(extra)
    return found
