"""The team directory and incident tasks in SQL, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, inspect

from mailwarden.clock import FakeClock
from mailwarden.incidents.model import INCIDENT_TYPES, SEVERITY_LEVELS, Actor
from mailwarden.incidents.service import IncidentService
from mailwarden.incidents.severity import load_severity_rules
from mailwarden.playbooks.records import Task
from mailwarden.store import migrate
from mailwarden.store.incidents_repo import SqlIncidentRepository
from mailwarden.store.tasks_repo import SqlTaskRepository
from mailwarden.store.team_repo import SqlTeamRepository
from mailwarden.team.service import TeamService

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def test_people_rotas_overrides_and_policies_survive_a_round_trip(engine: Engine) -> None:
    team = TeamService(
        SqlTeamRepository(engine, FakeClock(T0)),
        incident_types=INCIDENT_TYPES,
        severities=SEVERITY_LEVELS,
    )
    team.add_person("alex", "Alex", [("email", "alex@example.org"), ("phone", "+4930123456")])
    team.add_person("sam", "Sam", [("slack", "@sam")], timezone="Europe/Berlin")
    team.add_person("alex", "Alex K", [("email", "alex@example.org")])
    team.add_role("legal_counsel", "Advises on GDPR duties")
    team.add_rota(
        "primary",
        rotation="weekly",
        handoff="09:30",
        timezone="Europe/Berlin",
        starts_on=date(2026, 11, 2),
        members=["sam", "alex"],
    )
    cover = team.add_override("primary", "alex", T0, T0 + timedelta(hours=4), reason="swap")
    team.set_policy(
        "security",
        [(["rota:primary", "person:sam"], 15), (["person:alex"], 0)],
        repeat=2,
        incident_types=["data_breach"],
        severities=["SEV1", "SEV2"],
    )
    again = SqlTeamRepository(engine, FakeClock(T0)).roster()
    assert again.people["alex"].name == "Alex K" and len(again.people["alex"].contacts) == 1
    assert again.people["sam"].timezone == "Europe/Berlin"
    rota = again.rotas["primary"]
    assert (rota.members, rota.handoff.strftime("%H:%M")) == (("sam", "alex"), "09:30")
    assert rota.overrides == (cover,) and cover.pk is not None
    policy = again.policies["security"]
    assert [str(t) for t in policy.levels[0].targets] == ["rota:primary", "person:sam"]
    assert (policy.repeat, policy.severities) == (2, ("SEV1", "SEV2"))
    assert [r.name for r in team.roles()][-1] == "legal_counsel"
    assert team.on_call(T0 + timedelta(hours=1))[0].person == "alex"


def test_tasks_are_added_once_checked_off_once_and_found_when_overdue(engine: Engine) -> None:
    incidents = IncidentService(SqlIncidentRepository(engine), FakeClock(T0), load_severity_rules())
    ref = incidents.open_manual(incident_type="other", title="x", actor=Actor("alex"))
    pk = ref.pk or 0
    repo = SqlTaskRepository(engine)
    tasks = [
        Task(pk, f"s{i}", f"Step {i}", "containment", "scribe", "1h after detected",
             mandatory=i == 0, position=i, playbook="other", playbook_version=1, created_at=T0,
             due_at=T0 + timedelta(hours=1), action="mailwarden.suppress" if i else None,
             action_params={"reason": "r"} if i else {})
        for i in range(2)
    ]  # fmt: skip
    assert repo.add(tasks) is True
    assert repo.add(tasks) is False
    assert repo.with_tasks([pk, pk + 1]) == {pk}
    assert [t.step_id for t in repo.overdue(T0 + timedelta(hours=2), [pk])] == ["s0"]
    assert repo.finish(tasks[0].pk or 0, "done", "sam", T0, "ok") is True
    assert repo.finish(tasks[0].pk or 0, "done", "alex", T0, "again") is False
    repo.set_due([(tasks[1].pk or 0, None)])
    first, second = repo.for_incident(pk)
    assert (first.state, first.done_by, first.note) == ("done", "sam", "ok")
    assert second.due_at is None and second.action_params == {"reason": "r"}
    repo.reopen(first.pk or 0)
    assert repo.for_incident(pk)[0].state == "open"


def test_the_team_migration_goes_down_and_up_again(engine: Engine) -> None:
    migrate.downgrade(engine, "0005")
    assert "incident_tasks" not in inspect(engine).get_table_names()
    migrate.upgrade(engine)
    assert {"team_people", "team_rotas", "incident_tasks"} <= set(inspect(engine).get_table_names())
