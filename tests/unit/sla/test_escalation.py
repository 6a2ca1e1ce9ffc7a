"""Escalation: page level 1 on opening, level 2 after N minutes unacknowledged, stop on ack."""

from __future__ import annotations

import pytest
from tests.unit.sla.helpers import ALEX, alarms, kinds, open_incident, pages, tick_at
from tests.unit.team.fakes import T0, Stack, add_team, make_stack

from mailwarden.clock import FakeClock


@pytest.fixture
def stack() -> Stack:
    built = make_stack(FakeClock(T0), with_tasks=False)
    add_team(built.team)
    built.team.set_policy("default", [(["rota:primary"], 10), (["person:dana"], 20)])
    return built


def test_the_on_call_is_paged_when_an_incident_opens(stack: Stack) -> None:
    ref = open_incident(stack, "SEV3")
    tick_at(stack, 0)
    (page,) = alarms(stack, ref)
    assert page.kind == "paged" and "alex (on call for primary)" in page.note
    sent = stack.incidents.outbox()
    assert {(m.channel, m.recipient) for m in sent} == {
        ("email", "alex@example.org"),
        ("slack", "@alex"),
    }
    assert sent[0].subject.startswith(f"[SEV3] {ref} ")


def test_unacknowledged_after_ten_minutes_goes_to_level_two_once(stack: Stack) -> None:
    ref = open_incident(stack, "SEV3")
    for minute in (0, 5, 9.9):
        tick_at(stack, minute)
    assert pages(stack, ref) == [(0, 0)]
    tick_at(stack, 10)
    tick_at(stack, 11)
    assert pages(stack, ref) == [(0, 0), (0, 1)]
    assert stack.incidents.outbox()[-1].recipient == "+4930123456"


def test_acknowledging_stops_the_escalation(stack: Stack) -> None:
    ref = open_incident(stack, "SEV3")
    tick_at(stack, 0)
    tick_at(stack, 5)
    stack.incidents.acknowledge(ref, ALEX)
    for minute in (10, 30, 120):
        tick_at(stack, minute)
    assert pages(stack, ref) == [(0, 0)]
    assert "escalation_exhausted" not in kinds(stack, ref)


def test_a_policy_that_stops_says_so_when_it_runs_out(stack: Stack) -> None:
    ref = open_incident(stack, "SEV4")
    for minute in range(0, 61, 5):
        tick_at(stack, minute)
    assert pages(stack, ref) == [(0, 0), (0, 1)]
    assert kinds(stack, ref).count("escalation_exhausted") == 1


def test_a_repeating_policy_starts_again_from_level_one(stack: Stack) -> None:
    stack.team.set_policy("default", [(["rota:primary"], 10), (["person:dana"], 20)], repeat=1)
    ref = open_incident(stack, "SEV4")
    for minute in range(0, 121, 5):
        tick_at(stack, minute)
    assert pages(stack, ref) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    (done,) = [e for e in alarms(stack, ref) if e.kind == "escalation_exhausted"]
    assert done.at == T0.replace(hour=9)


def test_a_breach_escalates_one_level_and_the_timer_does_not_page_it_again(stack: Stack) -> None:
    ref = open_incident(stack, "SEV1")  # acknowledge by 5m; the policy waits 10m per level
    for minute in (0, 5, 10, 15):
        tick_at(stack, minute)
    (breach,) = alarms(stack, ref, "acknowledge_by")
    assert breach.data["level"] == 1 and "escalated to level 2 of default" in breach.note
    assert "dana" in breach.note
    assert pages(stack, ref) == [(0, 0)]


def test_a_contain_by_breach_after_acknowledgement_reaches_the_next_level(stack: Stack) -> None:
    ref = open_incident(stack, "SEV1")
    tick_at(stack, 0)
    stack.incidents.acknowledge(ref, ALEX)
    tick_at(stack, 59)
    assert alarms(stack, ref, "contain_by") == []
    tick_at(stack, 60)
    (breach,) = alarms(stack, ref, "contain_by")
    assert breach.kind == "sla_breached" and breach.data["level"] == 1


def test_people_without_contacts_are_named_as_unreachable(stack: Stack) -> None:
    stack.team.add_person("kim", "Kim")
    stack.team.set_policy("default", [(["person:kim"], 10)])
    ref = open_incident(stack, "SEV3")
    tick_at(stack, 0)
    (page,) = alarms(stack, ref)
    assert page.data["unreachable"] == ["kim"] and "no contact on file for kim" in page.note
    assert stack.incidents.outbox() == []


def test_without_any_policy_nobody_is_paged_but_breaches_are_recorded() -> None:
    stack = make_stack(FakeClock(T0), with_tasks=False)
    ref = open_incident(stack, "SEV1")
    tick_at(stack, 5)
    assert kinds(stack, ref) == ["sla_breached"]
