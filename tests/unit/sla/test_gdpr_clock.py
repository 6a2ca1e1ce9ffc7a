"""GDPR Art. 33: a confirmed personal-data breach must reach the authority within 72 hours."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.unit.sla.helpers import ALEX, alarms, open_incident, tick_at
from tests.unit.team.fakes import T0, Stack, add_team, make_stack

from mailwarden.clock import FakeClock
from mailwarden.incidents.desk import BadInputError

HOUR = 60


@pytest.fixture
def stack() -> Stack:
    built = make_stack(FakeClock(T0), with_tasks=False)
    add_team(built.team)
    built.team.set_policy("default", [(["rota:primary"], 15), (["person:dana"], 30)])
    return built


def confirmed_breach(stack: Stack) -> str:
    ref = open_incident(stack, "SEV1", "data_breach")
    stack.clock.set(T0 + timedelta(hours=1))
    stack.monitor.confirm_personal_data(ref, ALEX, aware_at=T0 + timedelta(minutes=30))
    return ref


def notices(stack: Stack, ref: str) -> list[tuple[str, str]]:
    return [
        (e.kind, e.data["alarm"].rsplit(":", 1)[1]) for e in alarms(stack, ref, "authority_notice")
    ]


def test_warnings_at_24_and_6_hours_left_then_the_breach_each_once(stack: Stack) -> None:
    ref = confirmed_breach(stack)
    deadline = 30 + 72 * HOUR
    tick_at(stack, deadline - 24 * HOUR - 1)
    assert notices(stack, ref) == []
    for minute in range(deadline - 24 * HOUR, deadline + 3 * HOUR, 30):
        tick_at(stack, minute)
    assert notices(stack, ref) == [
        ("sla_warning", "warn24h"),
        ("sla_warning", "warn6h"),
        ("sla_breached", "breach"),
    ]
    breach = alarms(stack, ref, "authority_notice")[-1]
    assert breach.data["due_at"] == (T0 + timedelta(minutes=deadline)).isoformat()
    assert "escalated to level" in breach.note


def test_notifying_the_authority_in_time_stops_the_clock(stack: Stack) -> None:
    ref = confirmed_breach(stack)
    tick_at(stack, 50 * HOUR)
    stack.monitor.authority_notified(ref, ALEX, "notice sent to the BfDI portal, ref 123")
    for minute in range(50 * HOUR, 80 * HOUR, HOUR):
        tick_at(stack, minute)
    assert notices(stack, ref) == [("sla_warning", "warn24h")]
    (clock,) = [c for c in stack.monitor.clocks(ref) if c.clock == "authority_notice"]
    assert clock.state == "met"


def test_checking_off_the_playbook_notice_task_counts_as_notifying() -> None:
    stack = make_stack(FakeClock(T0))
    ref = confirmed_breach(stack)
    stack.tasks.finish(ref, "notify_authority", ALEX, note="sent")
    tick_at(stack, 80 * HOUR)
    assert notices(stack, ref) == []


def test_a_jump_past_the_deadline_records_the_breach_once_without_stale_warnings(
    stack: Stack,
) -> None:
    ref = confirmed_breach(stack)
    tick_at(stack, 100 * HOUR)
    tick_at(stack, 101 * HOUR)
    assert notices(stack, ref) == [("sla_breached", "breach")]


def test_without_confirmed_personal_data_there_is_no_legal_clock(stack: Stack) -> None:
    ref = open_incident(stack, "SEV1", "data_breach")
    tick_at(stack, 100 * HOUR)
    assert notices(stack, ref) == []


def test_a_transition_note_can_confirm_personal_data(stack: Stack) -> None:
    ref = open_incident(stack, "SEV1", "data_breach")
    stack.incidents.transition(ref, "acknowledged", ALEX, "Personal data confirmed: 3k emails")
    tick_at(stack, 72 * HOUR)
    assert notices(stack, ref) == [("sla_breached", "breach")]


def test_the_legal_clock_belongs_to_data_breaches_and_is_confirmed_once(stack: Stack) -> None:
    other = open_incident(stack, "SEV2", "phishing")
    with pytest.raises(BadInputError, match="not a data_breach"):
        stack.monitor.confirm_personal_data(other, ALEX)
    ref = confirmed_breach(stack)
    with pytest.raises(BadInputError, match="confirmed already"):
        stack.monitor.confirm_personal_data(ref, ALEX)
    with pytest.raises(BadInputError, match="past time"):
        stack.monitor.confirm_personal_data(
            open_incident(stack, "SEV1", "data_breach"), ALEX, aware_at=T0 + timedelta(days=9)
        )
