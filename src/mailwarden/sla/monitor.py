"""The response monitor: on every incident tick it pages, escalates, reminds and records
SLA breaches, once each; all state is read back from the incident timelines."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from mailwarden.clock import Clock
from mailwarden.incidents.desk import BadInputError
from mailwarden.incidents.model import SYSTEM_ACTOR, Actor, Incident, TimelineEntry
from mailwarden.incidents.service import IncidentService
from mailwarden.playbooks.ports import TaskRepository
from mailwarden.playbooks.records import Task
from mailwarden.sla.clocks import Alarm, ClockState, clock_states, due_alarms
from mailwarden.sla.facts import (
    AUTHORITY_NOTIFIED,
    PERSONAL_DATA_CONFIRMED,
    SOURCE,
    STAKEHOLDER_UPDATE,
    Facts,
    epoch_of,
    facts_of,
)
from mailwarden.sla.notices import deliver, role_recipients
from mailwarden.sla.policy import SlaPolicy
from mailwarden.team.escalation import due_steps, exhausted_at, next_level, resolve, select_policy
from mailwarden.team.model import EscalationPolicy, Roster
from mailwarden.team.service import TeamService

log = logging.getLogger(__name__)
OPEN_STATES: Final = ("detected", "acknowledged", "contained", "eradicated", "recovered")
TASK_ROLES: Final = ("incident_commander",)


class ResponseMonitor:
    """Drives escalation policies and SLA clocks from the incident service's tick."""

    def __init__(
        self,
        incidents: IncidentService,
        team: TeamService,
        policy: SlaPolicy,
        clock: Clock,
        tasks: TaskRepository | None = None,
    ) -> None:
        self._incidents = incidents
        self._team = team
        self.policy = policy
        self._clock = clock
        self._tasks = tasks
        self._cache: dict[int, Facts] = {}
        self._lock = threading.Lock()

    def install(self) -> None:
        """Run on every tick of the incident service."""
        self._incidents.on_tick(self.tick)

    def tick(self, now: datetime) -> int:
        """Evaluate every open incident at now; return how many timeline entries were written."""
        with self._lock:
            found = self._incidents.list_incidents(states=OPEN_STATES)
            open_pks = {incident.pk for incident in found}
            self._cache = {pk: f for pk, f in self._cache.items() if pk in open_pks}
            if not found:
                return 0
            roster = self._team.roster()
            overdue: dict[int, list[Task]] = {}
            if self._tasks is not None:
                for task in self._tasks.overdue(now, [i.pk for i in found if i.pk is not None]):
                    overdue.setdefault(task.incident_pk, []).append(task)
            return sum(
                self._evaluate(incident, now, roster, overdue.get(incident.pk or 0, []))
                for incident in found
            )

    def clocks(self, ref: str, now: datetime | None = None) -> list[ClockState]:
        """Where each clock of an incident stands."""
        incident = self._incidents.get(ref)
        facts = facts_of(self._incidents.timeline(incident.id), incident.version)
        return clock_states(incident, facts, self.policy, now or self._clock.now())

    def post_update(self, ref: str, text: str, actor: Actor) -> TimelineEntry:
        """Record a stakeholder update (it resets the update cadence)."""
        if not text.strip():
            raise BadInputError("a stakeholder update needs text")
        return self._incidents.record(ref, STAKEHOLDER_UPDATE, text.strip(), actor, source=SOURCE)

    def confirm_personal_data(
        self, ref: str, actor: Actor, *, aware_at: datetime | None = None, note: str = ""
    ) -> TimelineEntry:
        """Mark a data breach as involving personal data; the 72-hour clock starts at awareness."""
        incident, facts = self._breach(ref)
        now = self._clock.now()
        if facts.personal_data_at is not None:
            raise BadInputError(f"personal data was confirmed already ({facts.personal_data_at})")
        if aware_at is not None and (aware_at.tzinfo is None or aware_at > now):
            raise BadInputError("aware_at must be a past time with a time zone")
        aware = aware_at or now
        text = note.strip() or f"personal data confirmed; aware since {aware.isoformat()}"
        data = {"aware_at": aware.isoformat()}
        return self._incidents.record(
            incident.id, PERSONAL_DATA_CONFIRMED, text, actor, data=data, source=SOURCE
        )

    def authority_notified(self, ref: str, actor: Actor, note: str = "") -> TimelineEntry:
        """Record that the supervisory authority was notified (stops the 72-hour clock)."""
        incident, facts = self._breach(ref)
        if facts.authority_notified_at is not None:
            raise BadInputError(
                f"the authority was notified already ({facts.authority_notified_at})"
            )
        text = note.strip() or "supervisory authority notified"
        return self._incidents.record(incident.id, AUTHORITY_NOTIFIED, text, actor, source=SOURCE)

    def _breach(self, ref: str) -> tuple[Incident, Facts]:
        incident = self._incidents.get(ref)
        if incident.type != "data_breach":
            raise BadInputError(f"{incident.id} is a {incident.type} incident, not a data_breach")
        return incident, facts_of(self._incidents.timeline(incident.id))

    def _facts(self, incident: Incident) -> Facts:
        cached = self._cache.get(incident.pk or 0)
        if cached is not None and cached.version == incident.version:
            return cached
        facts = facts_of(self._incidents.timeline(incident.id), incident.version)
        self._cache[incident.pk or 0] = facts
        return facts

    def _evaluate(
        self, incident: Incident, now: datetime, roster: Roster, overdue: list[Task]
    ) -> int:
        facts = self._facts(incident)
        epoch, start = epoch_of(incident)
        policy = self._escalation(incident, facts, roster, epoch)
        alarms = [*due_alarms(incident, facts, self.policy, now), *map(_task_alarm, overdue)]
        written = 0
        for alarm in alarms:
            if alarm.key not in facts.fired:
                written += self._fire(incident, alarm, facts, roster, policy, now)
        if incident.state == "detected" and policy is not None:
            written += self._page_due(incident, facts, roster, policy, now, start)
        if written:
            self._cache.pop(incident.pk or 0, None)
        return written

    def _escalation(
        self, incident: Incident, facts: Facts, roster: Roster, epoch: int
    ) -> EscalationPolicy | None:
        name = facts.policies.get(epoch)
        if name and name in roster.policies:
            return roster.policies[name]
        return select_policy(roster.policies.values(), incident.type, incident.severity)

    def _fire(
        self,
        incident: Incident,
        alarm: Alarm,
        facts: Facts,
        roster: Roster,
        policy: EscalationPolicy | None,
        now: datetime,
    ) -> int:
        data: dict[str, Any] = {"alarm": alarm.key, "clock": alarm.clock, **alarm.data}
        data["due_at"] = alarm.due_at.isoformat()
        if alarm.escalate and policy is not None:
            epoch, _start = epoch_of(incident)
            cycle, highest = facts.highest(epoch)
            level = next_level(policy, highest)
            recipients = resolve(policy.levels[level], roster, now)
            data.update(epoch=epoch, cycle=cycle, level=level, policy=policy.name)
            facts.page(epoch, cycle, level, policy.name, alarm.key)
            lead = f"escalated to level {level + 1} of {policy.name}"
        else:
            roles = alarm.roles or TASK_ROLES
            recipients = role_recipients(incident, roles, roster, policy, now)
            lead = "told"
        delivery = deliver(
            recipients,
            roster,
            incident,
            alarm.note,
            alarm.note,
            topic=_topic(incident, alarm.key),
            at=now,
        )
        data.update(notified=delivery.notified, unreachable=delivery.unreachable)
        note = f"{alarm.note}; {lead}: {delivery.describe()}"
        self._record(incident, alarm.kind, note, data, delivery.messages)
        facts.fired.add(alarm.key)
        return 1

    def _page_due(
        self,
        incident: Incident,
        facts: Facts,
        roster: Roster,
        policy: EscalationPolicy,
        now: datetime,
        start: datetime,
    ) -> int:
        epoch, _start = epoch_of(incident)
        written = 0
        for step in due_steps(policy, start, now):
            if step.level in facts.reached.get((epoch, step.cycle), set()):
                continue
            key = f"e{epoch}:{step.key}"
            recipients = resolve(policy.levels[step.level], roster, now)
            reason = "opened" if (step.cycle, step.level) == (0, 0) else "not acknowledged"
            headline = f"paged ({reason}), level {step.level + 1}"
            delivery = deliver(
                recipients,
                roster,
                incident,
                headline,
                _page_body(incident, step.level, policy),
                topic=_topic(incident, key),
                at=now,
            )
            data = {
                "alarm": key,
                "epoch": epoch,
                "cycle": step.cycle,
                "level": step.level,
                "policy": policy.name,
                "due_at": step.due_at.isoformat(),
                "reason": reason,
                "notified": delivery.notified,
                "unreachable": delivery.unreachable,
            }
            note = (
                f"paged level {step.level + 1} of {policy.name} ({reason}): {delivery.describe()}"
            )
            self._record(incident, "paged", note, data, delivery.messages)
            facts.page(epoch, step.cycle, step.level, policy.name, key)
            written += 1
        key = f"e{epoch}:exhausted"
        if key not in facts.fired and now >= exhausted_at(policy, start):
            note = f"escalation policy {policy.name} ran out without an acknowledgement"
            self._record(incident, "escalation_exhausted", note, {"alarm": key}, [])
            facts.fired.add(key)
            written += 1
        return written

    def _record(
        self,
        incident: Incident,
        kind: str,
        note: str,
        data: dict[str, Any],
        messages: Sequence[Any],
    ) -> None:
        self._incidents.record(
            incident.id, kind, note, SYSTEM_ACTOR, data=data, source=SOURCE, outbox=messages
        )


def _task_alarm(task: Task) -> Alarm:
    due = task.due_at or task.created_at
    note = f"task overdue: {task.title} ({task.role}, due {due.isoformat()})"
    data = {"step": task.step_id, "role": task.role}
    return Alarm(
        f"task:{task.pk}:{int(due.timestamp())}",
        "task_overdue",
        "task",
        due,
        note,
        roles=(task.role, "incident_commander"),
        data=data,
    )


def _topic(incident: Incident, key: str) -> str:
    return f"incident:{incident.id}:{key}"


def _page_body(incident: Incident, level: int, policy: EscalationPolicy) -> str:
    return (
        f"{incident.severity} {incident.type} incident detected at "
        f"{incident.detected_at.isoformat()} is not acknowledged. "
        f"You are level {level + 1} of escalation policy {policy.name}.\n"
        f"Acknowledge: mailwarden incidents ack {incident.id}"
    )
