"""The playbook runner: an opened incident gets its tasks; tasks are checked off on the
timeline; closing with open mandatory tasks needs the commander's override and a reason."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, Final

from mailwarden.clock import Clock
from mailwarden.incidents.desk import BadInputError
from mailwarden.incidents.model import (
    TRANSITIONS,
    Actor,
    IllegalTransitionError,
    Incident,
    allowed_targets,
)
from mailwarden.incidents.ports import IncidentEvent
from mailwarden.incidents.service import IncidentService
from mailwarden.playbooks.library import PlaybookLibrary
from mailwarden.playbooks.loader import Playbook
from mailwarden.playbooks.ports import TaskRepository
from mailwarden.playbooks.records import DONE, SKIPPED, Task
from mailwarden.playbooks.schema import Due, render

log = logging.getLogger(__name__)
SOURCE: Final = "playbooks"
OVERRIDE: Final = "override_reason"
OPEN_STATES: Final = ("detected", "acknowledged", "contained", "eradicated", "recovered")


class UnknownTaskError(LookupError):
    """The incident has no task with this step id."""


class TaskStateError(ValueError):
    """The task was already checked off."""


class OpenTasksError(IllegalTransitionError):
    """Closing is refused: mandatory tasks are still open."""

    def __init__(self, state: str, open_steps: list[str], hint: str) -> None:
        super().__init__(state, "closed", allowed_targets(state), hint)
        self.open_steps = open_steps


class TaskRunner:
    """Turns playbooks into tasks on incidents and keeps their due times and check-offs."""

    def __init__(
        self,
        incidents: IncidentService,
        repo: TaskRepository,
        library: PlaybookLibrary,
        clock: Clock,
    ) -> None:
        self._incidents = incidents
        self._repo = repo
        self.library = library
        self._clock = clock
        self._seen: dict[int, int] = {}
        self._lock = threading.Lock()

    def install(self) -> None:
        """Hook into the incident service: opened/moved incidents, the close guard, ticks."""
        self._incidents.observe(self.on_event)
        self._incidents.add_guard(self.guard)
        self._incidents.on_tick(self.tick)

    def on_event(self, event: IncidentEvent) -> None:
        """Start the playbook of an opened incident; move due times when its phase changes."""
        if event.name == "incident.opened":
            self.start(event.incident_id)
        elif event.name == "incident.transitioned":
            self.refresh(self._incidents.get(event.incident_id))

    def tick(self, now: datetime) -> None:
        """Catch up: give open incidents without tasks their playbook; refresh changed ones."""
        found = self._incidents.list_incidents(states=OPEN_STATES)
        started = self._repo.with_tasks([i.pk for i in found if i.pk is not None])
        self._seen = {pk: v for pk, v in self._seen.items() if pk in started}
        for incident in found:
            if incident.pk not in started:
                self.start(incident.id)
            elif self._seen.get(incident.pk or 0) != incident.version:
                self.refresh(incident)

    def start(self, ref: str) -> list[Task]:
        """Create the incident's tasks from its type's playbook, once.

        Only the tasks table is written: this runs inside the incident service's observers,
        where writing to the incident itself would race the batch that opened it.
        """
        with self._lock:
            incident = self._incidents.get(ref)
            tasks = build_tasks(incident, self.library.get(incident.type), self._clock.now())
            if not self._repo.add(tasks):
                return self._repo.for_incident(incident.pk or 0)
            self._seen[incident.pk or 0] = incident.version
        return tasks

    def refresh(self, incident: Incident) -> None:
        """Recompute due times of open tasks from the incident's phase stamps."""
        stamps = incident.stamps()
        changes = []
        for task in self._repo.for_incident(incident.pk or 0):
            due_at = _due_at(task, stamps)
            if task.is_open and due_at != task.due_at:
                changes.append((task.pk or 0, due_at))
        self._repo.set_due(changes)
        self._seen[incident.pk or 0] = incident.version

    def tasks(self, ref: str) -> list[Task]:
        """An incident's tasks in playbook order."""
        return self._repo.for_incident(self._incidents.get(ref).pk or 0)

    def finish(
        self, ref: str, step_id: str, actor: Actor, *, note: str = "", skip: bool = False
    ) -> Task:
        """Check a task off (done, or skipped with a reason); it goes on the timeline."""
        incident = self._incidents.get(ref)
        task = _find(self._repo.for_incident(incident.pk or 0), step_id, incident.id)
        if not task.is_open:
            when = task.done_at.isoformat() if task.done_at else "?"
            raise TaskStateError(f"task {step_id} is already {task.state} ({task.done_by}, {when})")
        if skip and task.mandatory and not note.strip():
            raise BadInputError(f"task {step_id} is mandatory; skipping it needs a note saying why")
        state, now = (SKIPPED if skip else DONE), self._clock.now()
        if not self._repo.finish(task.pk or 0, state, actor.name, now, note.strip()):
            raise TaskStateError(f"task {step_id} was checked off meanwhile")
        data = {"step": step_id, "phase": task.phase, "mandatory": task.mandatory}
        text = f"{task.title}" + (f": {note.strip()}" if note.strip() else "")
        try:
            self._incidents.record(
                incident.id, f"task_{state}", text, actor, data=data, source=SOURCE
            )
        except Exception:
            self._repo.reopen(task.pk or 0)
            raise
        return replace(task, state=state, done_by=actor.name, done_at=now, note=note.strip())

    def close(self, ref: str, actor: Actor, note: str = "", override_reason: str = "") -> Incident:
        """Close an incident; with open mandatory tasks only the commander may, with a reason."""
        data = {OVERRIDE: override_reason.strip()} if override_reason.strip() else {}
        return self._incidents.transition(ref, "closed", actor, note, data=data)

    def guard(
        self, incident: Incident, target: str, actor: Actor, now: datetime, data: Mapping[str, Any]
    ) -> None:
        """Refuse closing with open mandatory tasks unless the commander overrides with a reason."""
        move = TRANSITIONS.get((incident.state, target))
        if target != "closed" or move is None or actor.kind not in move.by:
            return
        open_steps = [
            task.step_id
            for task in self._repo.for_incident(incident.pk or 0)
            if task.mandatory and task.is_open
        ]
        if not open_steps:
            return
        reason = str(data.get(OVERRIDE, "")).strip()
        commander = incident.roles.get("incident_commander")
        listed = ", ".join(open_steps)
        if not reason:
            hint = (
                f"mandatory tasks open: {listed}; the incident commander may override with a reason"
            )
        elif commander is not None and commander.person != actor.name:
            hint = f"only the incident commander ({commander.person}) may override open tasks"
        else:
            entry_data = {"open_tasks": open_steps, "override_reason": reason}
            note = f"closed with {len(open_steps)} mandatory task(s) open: {reason}"
            incident.record("close_override", actor, now, note, entry_data, source=SOURCE)
            return
        self._incidents.record(
            incident.id,
            "close_refused",
            hint,
            actor,
            data={"open_tasks": open_steps},
            source=SOURCE,
        )
        raise OpenTasksError(incident.state, open_steps, hint)


def build_tasks(incident: Incident, playbook: Playbook, now: datetime) -> list[Task]:
    """The tasks a playbook gives an incident, with due times from its phase stamps."""
    fields = template_values(incident)
    stamps = incident.stamps()
    tasks = []
    for position, step in enumerate(playbook.spec.steps):
        task = Task(
            incident_pk=incident.pk or 0,
            step_id=step.id,
            title=step.title,
            phase=step.phase,
            role=step.role,
            due=step.due,
            mandatory=step.mandatory,
            position=position,
            playbook=playbook.spec.type,
            playbook_version=playbook.spec.version,
            created_at=now,
            description=step.description.strip(),
            action=step.action.name if step.action else None,
            action_params=render(step.action.params, fields) if step.action else {},
        )
        task.due_at = _due_at(task, stamps)
        tasks.append(task)
    return tasks


def template_values(incident: Incident) -> dict[str, str]:
    """What {placeholders} in action parameters are filled with."""
    return {
        "incident_id": incident.id,
        "incident_type": incident.type,
        "severity": incident.severity,
        "title": incident.title,
        "scope_dimension": incident.scope.dimension,
        "scope_key": incident.scope.key,
    }


def _due_at(task: Task, stamps: Mapping[str, datetime | None]) -> datetime | None:
    return Due.parse(task.due).resolve(task.phase, stamps)


def _find(tasks: list[Task], step_id: str, incident_id: str) -> Task:
    for task in tasks:
        if task.step_id == step_id:
            return task
    known = ", ".join(task.step_id for task in tasks) or "none"
    raise UnknownTaskError(f"{incident_id} has no task {step_id!r} (tasks: {known})")
