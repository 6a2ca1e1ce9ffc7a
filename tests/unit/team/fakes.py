"""In-memory team and task repositories, and a response stack over the incident fakes."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from tests.unit.incidents.fakes import MemoryIncidentRepository

from mailwarden.clock import FakeClock
from mailwarden.incidents.model import INCIDENT_TYPES, SEVERITY_LEVELS
from mailwarden.incidents.service import IncidentService
from mailwarden.incidents.severity import load_severity_rules
from mailwarden.playbooks.library import PlaybookLibrary
from mailwarden.playbooks.records import OPEN, Task
from mailwarden.playbooks.runner import TaskRunner
from mailwarden.sla.monitor import ResponseMonitor
from mailwarden.sla.policy import SlaPolicy
from mailwarden.team.model import EscalationPolicy, Override, Person, RoleDef, Roster, Rota
from mailwarden.team.service import TeamService

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)  # a Friday


@dataclass
class MemoryTeamRepository:
    """Keeps the team in dicts."""

    people_by_handle: dict[str, Person] = field(default_factory=dict)
    roles: dict[str, RoleDef] = field(default_factory=dict)
    rotas: dict[str, Rota] = field(default_factory=dict)
    overrides: list[Override] = field(default_factory=list)
    policies: dict[str, EscalationPolicy] = field(default_factory=dict)

    def save_person(self, person: Person) -> None:
        self.people_by_handle[person.handle] = person

    def people(self) -> list[Person]:
        return sorted(self.people_by_handle.values(), key=lambda p: p.handle)

    def save_role(self, role: RoleDef) -> None:
        self.roles[role.name] = role

    def custom_roles(self) -> list[RoleDef]:
        return sorted(self.roles.values(), key=lambda r: r.name)

    def save_rota(self, rota: Rota) -> None:
        self.rotas[rota.name] = replace(rota, overrides=())

    def add_override(self, override: Override) -> Override:
        stored = replace(override, pk=len(self.overrides) + 1)
        self.overrides.append(stored)
        return stored

    def save_policy(self, policy: EscalationPolicy) -> None:
        self.policies[policy.name] = policy

    def roster(self) -> Roster:
        rotas = {
            name: replace(rota, overrides=tuple(o for o in self.overrides if o.rota == name))
            for name, rota in self.rotas.items()
        }
        return Roster(dict(self.people_by_handle), rotas, dict(self.policies))


@dataclass
class MemoryTaskRepository:
    """Keeps tasks in a list, copying on the way in and out."""

    rows: list[Task] = field(default_factory=list)

    def add(self, tasks: Sequence[Task]) -> bool:
        if not tasks or any(t.incident_pk == tasks[0].incident_pk for t in self.rows):
            return False
        for task in tasks:
            task.pk = len(self.rows) + 1
            self.rows.append(replace(task))
        return True

    def for_incident(self, incident_pk: int) -> list[Task]:
        found = [replace(t) for t in self.rows if t.incident_pk == incident_pk]
        return sorted(found, key=lambda t: t.position)

    def with_tasks(self, incident_pks: Collection[int]) -> set[int]:
        return {t.incident_pk for t in self.rows if t.incident_pk in incident_pks}

    def set_due(self, changes: Sequence[tuple[int, datetime | None]]) -> None:
        for pk, due_at in changes:
            self.rows[pk - 1].due_at = due_at

    def finish(self, pk: int, state: str, by: str, at: datetime, note: str) -> bool:
        task = self.rows[pk - 1]
        if task.state != OPEN:
            return False
        task.state, task.done_by, task.done_at, task.note = state, by, at, note
        return True

    def reopen(self, pk: int) -> None:
        task = self.rows[pk - 1]
        task.state, task.done_by, task.done_at, task.note = OPEN, None, None, ""

    def overdue(self, now: datetime, incident_pks: Collection[int]) -> list[Task]:
        return [
            replace(t)
            for t in self.rows
            if t.incident_pk in incident_pks and t.mandatory and t.overdue(now)
        ]


@dataclass
class Stack:
    """The incident service with the team, the playbook runner and the monitor installed."""

    clock: FakeClock
    incidents: IncidentService
    repo: MemoryIncidentRepository
    team: TeamService
    tasks: TaskRunner
    task_repo: MemoryTaskRepository
    monitor: ResponseMonitor

    def tick(self) -> None:
        """Tick the incident service at the clock's time."""
        self.incidents.tick(self.clock.now())

    def kinds(self, ref: str, source: str | None = None) -> list[str]:
        """The kinds of an incident's timeline entries (from one source)."""
        return [
            e.kind for e in self.incidents.timeline(ref) if source is None or e.source == source
        ]

    def entries(self, ref: str, kind: str) -> list[Any]:
        """An incident's timeline entries of one kind."""
        return [e for e in self.incidents.timeline(ref) if e.kind == kind]


def make_stack(clock: FakeClock, *, sla: SlaPolicy | None = None, with_tasks: bool = True) -> Stack:
    """Everything over memory, with the packaged severity rules and shipped playbooks."""
    repo = MemoryIncidentRepository()
    incidents = IncidentService(repo, clock, load_severity_rules())
    team = TeamService(
        MemoryTeamRepository(), incident_types=INCIDENT_TYPES, severities=SEVERITY_LEVELS
    )
    task_repo = MemoryTaskRepository()
    runner = TaskRunner(incidents, task_repo, PlaybookLibrary(), clock)
    if with_tasks:
        runner.install()
    monitor = ResponseMonitor(
        incidents, team, sla or SlaPolicy(), clock, tasks=task_repo if with_tasks else None
    )
    monitor.install()
    return Stack(clock, incidents, repo, team, runner, task_repo, monitor)


def add_team(team: TeamService) -> None:
    """Alex and Sam take daily turns on 'primary' from 09:00 UTC; Dana manages."""
    team.add_person("alex", "Alex", [("email", "alex@example.org"), ("slack", "@alex")])
    team.add_person("sam", "Sam", [("email", "sam@example.org")])
    team.add_person("dana", "Dana", [("phone", "+4930123456")])
    team.add_rota(
        "primary",
        rotation="daily",
        handoff="09:00",
        timezone="UTC",
        starts_on=date(2026, 11, 2),
        members=["alex", "sam"],
    )
