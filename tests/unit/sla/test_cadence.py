"""Stakeholder updates: SEV1 every 30 minutes, SEV2 every 2 hours; an update resets the clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.unit.sla.helpers import ALEX, alarms, open_incident, tick_at
from tests.unit.team.fakes import T0, add_team, make_stack

from mailwarden.clock import FakeClock
from mailwarden.incidents.desk import BadInputError
from mailwarden.incidents.model import Actor


def reminders(stack: object, ref: str) -> list[str]:
    return [e.at.strftime("%H:%M") for e in alarms(stack, ref, "stakeholder_update")]  # type: ignore[arg-type]


def test_a_sev1_without_updates_is_reminded_every_thirty_minutes() -> None:
    stack = make_stack(FakeClock(T0), with_tasks=False)
    ref = open_incident(stack, "SEV1")
    for minute in range(0, 91):
        tick_at(stack, minute)
    assert reminders(stack, ref) == ["08:30", "09:00", "09:30"]
    assert "none for 1h" in alarms(stack, ref, "stakeholder_update")[1].note


def test_posting_an_update_resets_the_cadence() -> None:
    stack = make_stack(FakeClock(T0), with_tasks=False)
    ref = open_incident(stack, "SEV1")
    tick_at(stack, 25)
    stack.monitor.post_update(ref, "Paused the campaign; Gmail complaints falling", ALEX)
    tick_at(stack, 54)
    assert reminders(stack, ref) == []
    tick_at(stack, 55)
    assert reminders(stack, ref) == ["08:55"]
    (update,) = [e for e in stack.incidents.timeline(ref) if e.kind == "stakeholder_update"]
    assert update.actor == "alex"


def test_a_sev2_is_reminded_every_two_hours_and_a_sev3_never() -> None:
    stack = make_stack(FakeClock(T0), with_tasks=False)
    sev2, sev3 = open_incident(stack, "SEV2"), open_incident(stack, "SEV3")
    for minute in range(0, 5 * 60, 10):
        tick_at(stack, minute)
    assert reminders(stack, sev2) == ["10:00", "12:00"]
    assert reminders(stack, sev3) == []


def test_reminders_go_to_the_communications_lead() -> None:
    stack = make_stack(FakeClock(T0), with_tasks=False)
    add_team(stack.team)
    ref = open_incident(stack, "SEV1")
    stack.incidents.assign(ref, "communications_lead", "sam", ALEX)
    tick_at(stack, 30)
    (reminder,) = alarms(stack, ref, "stakeholder_update")
    assert reminder.data["notified"] == ["sam (communications lead)"]
    assert stack.incidents.outbox()[-1].recipient == "sam@example.org"


def test_cadence_stops_once_the_incident_has_recovered() -> None:
    stack = make_stack(FakeClock(T0), with_tasks=False)
    ref = open_incident(stack, "SEV1")
    stack.clock.advance(timedelta(minutes=20))
    stack.incidents.transition(ref, "recovered", Actor("alex"))
    tick_at(stack, 120)
    assert reminders(stack, ref) == []


def test_an_empty_update_is_refused() -> None:
    stack = make_stack(FakeClock(T0), with_tasks=False)
    ref = open_incident(stack, "SEV1")
    with pytest.raises(BadInputError, match="needs text"):
        stack.monitor.post_update(ref, "  ", ALEX)
