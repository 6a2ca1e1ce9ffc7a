"""Playbook steps that name an action become approvals: automatic ones run, others wait.

When an incident opens (or its severity changes) its playbook tasks with an action are
requested through the approval desk: low risk runs at once (unless the step asks for
approval), medium/high waits for the commander. Steps that act on recipients (suppress the
complainers) are topped up on tick as more complaints arrive. An emergency rule (off by
default) runs its containment action on severe incidents without waiting. A task whose
action ran successfully is checked off by the system.

Work is queued by the incident observer and done after the findings batch that caused it
(a bus handler subscribed after the incident service's), or on tick: writing to an incident
from inside its own batch would race that batch.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

import orjson

from mailwarden.actions.approval_records import PENDING, Approval
from mailwarden.actions.approvals import ApprovalDesk, Mode, Outcome, needs_approval
from mailwarden.actions.errors import ActionError
from mailwarden.actions.port import parse_params
from mailwarden.actions.records import SUCCEEDED, Run
from mailwarden.bus.port import Bus
from mailwarden.clock import Clock
from mailwarden.containment.params import ADDRESS_ACTIONS, ParamResolver
from mailwarden.incidents.model import ACTIVE_STATES, SYSTEM, Actor, Incident
from mailwarden.incidents.ports import IncidentEvent
from mailwarden.incidents.service import IncidentService
from mailwarden.playbooks.records import DONE, SKIPPED, Task
from mailwarden.playbooks.runner import TaskRunner, template_values
from mailwarden.playbooks.schema import render

log = logging.getLogger(__name__)
SYSTEM_NAME: Final = "mailwarden"
_QUEUED_EVENTS: Final = frozenset(
    {
        "incident.opened",
        "incident.severity_changed",
        "incident.transitioned",
        "incident.grouped",
        "incident.absorbed",
    }
)
LATE: Final = timedelta(days=2)  # complaints keep arriving for days after a recovery
OVERLAP: Final = timedelta(hours=2)  # a top-up looks this far back past its last look
EMERGENCY_PARAMS: Final = {
    "scope": "{scope_dimension}",
    "key": "{scope_key}",
    "reason": "emergency rule {rule} on {incident_id}",
    "source_incident": "{incident_id}",
}


@dataclass(frozen=True, slots=True)
class EmergencyRule:
    """Run a containment action without waiting, on incidents this severe with these findings."""

    name: str
    action: str
    severities: frozenset[str] = frozenset({"SEV1"})
    finding_kinds: frozenset[str] = frozenset()
    params: Mapping[str, Any] = field(default_factory=lambda: dict(EMERGENCY_PARAMS))

    def applies(self, incident: Incident) -> bool:
        """True for an active incident of a listed severity with a listed finding kind."""
        kinds = set(incident.finding_kinds())
        return (
            incident.is_active
            and incident.severity in self.severities
            and (not self.finding_kinds or bool(kinds & self.finding_kinds))
        )


class PlaybookContainment:
    """Turns playbook action steps and emergency rules into approvals and runs."""

    def __init__(
        self,
        desk: ApprovalDesk,
        incidents: IncidentService,
        tasks: TaskRunner | None,
        resolver: ParamResolver,
        clock: Clock,
        *,
        emergency: Sequence[EmergencyRule] = (),
        top_up_every: timedelta = timedelta(minutes=5),
    ) -> None:
        self._desk = desk
        self._incidents = incidents
        self._tasks = tasks
        self._resolver = resolver
        self._clock = clock
        self.emergency = tuple(emergency)
        self._top_up_every = top_up_every
        self._queue: dict[str, None] = {}
        self._last: dict[str, datetime] = {}
        self._handled: dict[tuple[str, str], set[str]] = {}
        self._scanned: datetime | None = None
        self._looked: dict[tuple[str, str], datetime] = {}
        self._failed: set[str] = set()
        self._lock = threading.RLock()

    def install(self, bus: Bus) -> None:
        """Observe incidents, work after each findings batch and on tick, check off tasks."""
        self._incidents.observe(self.on_event)
        bus.subscribe_messages("findings", self.after_findings)
        self._incidents.on_tick(self.tick)
        self._desk.on_run(self.on_run)

    def on_event(self, event: IncidentEvent) -> None:
        """Queue incidents that opened, changed severity or moved."""
        if event.name in _QUEUED_EVENTS:
            with self._lock:
                self._queue[event.incident_id] = None

    def after_findings(self, _messages: Sequence[Any]) -> None:
        """The findings batch is saved: do the queued work."""
        self.drain()

    def tick(self, now: datetime) -> None:
        """Do queued work and top up recipient steps of open incidents."""
        self.drain()
        if self._scanned is not None and timedelta(0) <= now - self._scanned < self._top_up_every:
            return
        self._scanned = now
        for incident in self._incidents.list_incidents(states=(*ACTIVE_STATES, "recovered")):
            last = self._last.get(incident.id)
            since = incident.recovered_at if incident.state == "recovered" else None
            quiet = since is not None and now - since > LATE
            if not quiet and (last is None or now - last >= self._top_up_every):
                self.contain(incident.id)

    def drain(self) -> None:
        """Contain every queued incident."""
        with self._lock:
            queued, self._queue = list(self._queue), {}
        for ref in queued:
            try:
                self.contain(ref)
            except Exception:
                log.exception("containment of %s failed", ref)

    def contain(self, ref: str) -> list[Outcome]:
        """Request the incident's playbook actions and emergency rules; return what ran/waits."""
        with self._lock:
            incident = self._incidents.get(ref)
            self._last[incident.id] = self._clock.now()
            if incident.state not in (*ACTIVE_STATES, "recovered"):
                return []
            outcomes: list[Outcome] = []
            for rule in self.emergency:
                if rule.applies(incident):
                    outcomes += self._emergency(incident, rule)
            for task in self._action_tasks(incident):
                outcomes += self._task(incident, task)
            return outcomes

    def on_run(self, approval: Approval, run: Run) -> None:
        """Check off the playbook task whose action just succeeded."""
        if self._tasks is None or not approval.step_id or not approval.incident_id:
            return
        if run.state != SUCCEEDED:
            return
        for task in self._tasks.tasks(approval.incident_id):
            if task.step_id == approval.step_id and task.is_open:
                note = f"done by action run {run.key} ({run.action})"
                self._tasks.finish(
                    approval.incident_id, task.step_id, Actor(SYSTEM_NAME, SYSTEM), note=note
                )

    def step_mode(self, incident: Incident, step_id: str) -> Mode | None:
        """What the playbook step says about approval ("auto", "commander" or unsaid)."""
        if self._tasks is None:
            return None
        for step in self._tasks.library.get(incident.type).spec.steps:
            if step.id == step_id and step.action is not None:
                return step.action.approval
        return None

    def _action_tasks(self, incident: Incident) -> list[Task]:
        if self._tasks is None:
            return []
        tasks = self._tasks.tasks(incident.id) or self._tasks.start(incident.id)
        return [t for t in tasks if t.action and t.state != SKIPPED]

    def _task(self, incident: Incident, task: Task) -> list[Outcome]:
        assert task.action is not None
        if task.action not in self._desk.registry:
            self._once(
                incident, f"{incident.id}:{task.step_id}", f"{task.action} is not configured here"
            )
            return []
        mode = self.step_mode(incident, task.step_id)
        automatic = not needs_approval(self._desk.registry.get(task.action).risk, mode)
        recipients = task.action in ADDRESS_ACTIONS
        if task.state == DONE and not (recipients and automatic):
            return []
        if not incident.is_active and not (recipients and automatic):
            return []
        template = render(self._template(incident, task), template_values(incident))
        if recipients:
            return self._recipients(incident, task, template, mode)
        outcomes = []
        for params in self._resolver.resolve(task.action, template, incident):
            digest = _digest([orjson.dumps(params, option=orjson.OPT_SORT_KEYS).decode()])
            key = f"{incident.id}:{task.step_id}:{digest}"
            found = self._request(incident, task.action, params, key, task.step_id, mode)
            if found is not None:
                outcomes.append(found)
                self._supersede(incident, task.step_id, key)
        return outcomes

    def _recipients(
        self, incident: Incident, task: Task, template: dict[str, Any], mode: Mode | None
    ) -> list[Outcome]:
        """Act on the recipients not handled yet (this process remembers whom it handled)."""
        assert task.action is not None
        handled = self._handled.setdefault((incident.id, task.step_id), set())
        looked = self._looked.get((incident.id, task.step_id))
        since = looked - OVERLAP if looked is not None else None
        self._looked[(incident.id, task.step_id)] = self._clock.now()
        outcomes = []
        for params in self._resolver.resolve(task.action, template, incident, since):
            new = [address for address in params["addresses"] if address not in handled]
            if not new:
                continue
            fresh = self._only_new(task.action, {**params, "addresses": new})
            if fresh is None:
                continue
            handled.update(new)  # acted on now, or already in the wanted state
            if not fresh["addresses"]:
                continue
            key = f"{incident.id}:{task.step_id}:{_digest(fresh['addresses'])}"
            found = self._request(incident, task.action, fresh, key, task.step_id, mode)
            outcomes += [found] if found is not None else []
        return outcomes

    def _template(self, incident: Incident, task: Task) -> dict[str, Any]:
        """The step's parameter template as the playbook has it now (the task keeps a copy
        rendered when the incident opened, before grouping may have widened its scope)."""
        if self._tasks is not None:
            for step in self._tasks.library.get(incident.type).spec.steps:
                action = step.action
                if step.id == task.step_id and action is not None and action.name == task.action:
                    return dict(action.params)
        return dict(task.action_params)

    def _supersede(self, incident: Incident, step_id: str, key: str) -> None:
        """Withdraw the step's older pending requests: the incident has moved on."""
        for approval in self._desk.store.listed(state=PENDING, incident_id=incident.id):
            if approval.step_id == step_id and approval.key != key:
                reason = f"superseded: {incident.id} is now about {incident.scope}"
                self._desk.withdraw(approval.id, reason)

    def _emergency(self, incident: Incident, rule: EmergencyRule) -> list[Outcome]:
        values = {**template_values(incident), "rule": rule.name}
        outcomes = []
        for index, params in enumerate(
            self._resolver.resolve(rule.action, render(dict(rule.params), values), incident)
        ):
            key = f"{incident.id}:emergency:{rule.name}:{index}"
            found = self._request(
                incident, rule.action, params, key, f"emergency:{rule.name}", None, rule.name
            )
            outcomes += [found] if found is not None else []
        return outcomes

    def _only_new(self, action_name: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """The parameters narrowed to recipients the plan would change; None if it failed."""
        action = self._desk.registry.get(action_name)
        try:
            plan = action.plan(parse_params(action, params))
        except (ActionError, ValueError) as exc:
            log.warning("could not plan %s: %s", action_name, exc)
            return None
        targets = set(plan.targets())
        return {**params, "addresses": [a for a in params["addresses"] if a in targets]}

    def _request(
        self,
        incident: Incident,
        action: str,
        params: Mapping[str, Any],
        key: str,
        step_id: str,
        mode: Mode | None,
        rule: str | None = None,
    ) -> Outcome | None:
        if self._desk.store.by_key(key) is not None:
            return None
        by = f"rule:emergency:{rule}" if rule else f"playbook:{incident.type}"
        try:
            return self._desk.request(
                action,
                params,
                requested_by=by,
                incident_id=incident.id,
                step_id=step_id,
                key=key,
                mode=mode,
                rule=f"emergency:{rule}" if rule else None,
            )
        except (ActionError, ValueError, KeyError) as exc:
            self._once(incident, key, f"could not request {action}: {exc}")
            return None

    def _once(self, incident: Incident, key: str, text: str) -> None:
        if key in self._failed:
            return
        self._failed.add(key)
        log.warning("%s: %s", incident.id, text)
        self._incidents.record(
            incident.id,
            "action_not_requested",
            text,
            Actor(SYSTEM_NAME, SYSTEM),
            data={"key": key},
            source="actions",
        )


def _digest(addresses: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(sorted(addresses)).encode()).hexdigest()[:12]
