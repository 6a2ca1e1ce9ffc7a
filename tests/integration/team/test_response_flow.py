"""The whole response loop on real databases: page, tasks, clocks, breach, guarded close."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from tests.integration.auth.conftest import make_services

from mailwarden.app import Services
from mailwarden.clock import FakeClock
from mailwarden.incidents.model import Actor
from mailwarden.playbooks.runner import OpenTasksError

ALEX, DANA = Actor("alex"), Actor("dana")


@pytest.fixture
def services(database_url: str, clock: FakeClock) -> Iterator[Services]:
    built = make_services(database_url, clock)
    yield built
    built.close()


def setup_team(services: Services) -> None:
    team = services.team
    assert team is not None
    team.add_person("alex", "Alex", [("email", "alex@example.org"), ("slack", "@alex")])
    team.add_person("dana", "Dana", [("phone", "+4930123456")])
    team.add_rota(
        "primary",
        rotation="weekly",
        handoff="09:00",
        timezone="Europe/Berlin",
        starts_on=date(2026, 11, 2),
        members=["alex"],
    )
    team.set_policy("default", [(["rota:primary"], 10), (["person:dana"], 30)])


def test_a_data_breach_is_paged_worked_and_closed_only_by_the_commanders_override(
    services: Services, clock: FakeClock
) -> None:
    incidents, tasks, monitor = services.incidents, services.tasks, services.monitor
    assert incidents is not None and tasks is not None and monitor is not None
    setup_team(services)
    start = clock.now()
    ref = incidents.open_manual(
        incident_type="data_breach", title="Contact export by a revoked key", actor=ALEX
    ).id
    steps = {task.step_id: task for task in tasks.tasks(ref)}
    assert steps["revoke_access"].due_at == start + timedelta(minutes=15)

    incidents.tick(clock.now())
    paged = [m.recipient for m in incidents.outbox()]
    assert paged == ["alex@example.org", "@alex"]
    clock.advance(timedelta(minutes=10))
    incidents.tick(clock.now())
    assert incidents.outbox()[-1].recipient == "+4930123456"

    incidents.acknowledge(ref, DANA)
    incidents.assign(ref, "incident_commander", "dana", DANA)
    tasks.finish(ref, "revoke_access", ALEX, note="key rk_123 revoked")
    monitor.confirm_personal_data(ref, DANA)
    clock.advance(timedelta(hours=80))
    incidents.tick(clock.now())
    incidents.tick(clock.now() + timedelta(minutes=1))
    breaches = [e for e in incidents.timeline(ref) if e.kind == "sla_breached"]
    clocks = sorted(e.data["clock"] for e in breaches)
    assert clocks == ["acknowledge_by", "authority_notice", "contain_by"]  # acked at 10m of 5m

    incidents.transition(ref, "recovered", DANA)
    with pytest.raises(OpenTasksError):
        tasks.close(ref, ALEX)
    closed = tasks.close(ref, DANA, override_reason="legal owns the notices now (LEG-4)")
    assert closed.state == "closed"
    kinds = [e.kind for e in incidents.timeline(ref)]
    assert kinds.index("close_refused") < kinds.index("close_override") < len(kinds) - 1
    assert kinds[-1] == "transitioned"
    assert "task_done" in kinds and "personal_data_confirmed" in kinds


def test_a_restarted_process_does_not_repeat_what_fired_before(
    database_url: str, clock: FakeClock
) -> None:
    first = make_services(database_url, clock)
    setup_team(first)
    assert first.incidents is not None
    ref = first.incidents.open_manual(
        incident_type="blocklisting", title="Spamhaus SBL", actor=ALEX, severity="SEV2"
    ).id
    clock.advance(timedelta(minutes=20))
    first.incidents.tick(clock.now())
    before = len(first.incidents.timeline(ref))
    first.close()
    second = make_services(database_url, clock)
    assert second.incidents is not None
    second.incidents.tick(clock.now())
    assert len(second.incidents.timeline(ref)) == before
    second.close()
