"""Acknowledge-by: each severity's deadline breaches once, unless someone acknowledges."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tests.unit.sla.helpers import ALEX, alarms, kinds, open_incident, tick_at
from tests.unit.team.fakes import T0, make_stack

from mailwarden.clock import FakeClock
from mailwarden.sla.policy import SlaPolicy

MONDAY_10_BERLIN = (datetime(2026, 11, 30, 9, 0, tzinfo=UTC) - T0).total_seconds() / 60


@pytest.mark.parametrize(
    ("severity", "minutes"),
    [("SEV1", 5), ("SEV2", 15), ("SEV3", 60), ("SEV4", MONDAY_10_BERLIN)],
)
def test_an_unacknowledged_incident_breaches_at_its_severity_deadline_once(
    severity: str, minutes: float
) -> None:
    stack = make_stack(FakeClock(T0), sla=SlaPolicy(timezone="Europe/Berlin"), with_tasks=False)
    ref = open_incident(stack, severity)
    tick_at(stack, minutes - 1)
    assert kinds(stack, ref, "acknowledge_by") == []
    tick_at(stack, minutes)
    tick_at(stack, minutes + 1)
    tick_at(stack, minutes + 600)
    (breach,) = alarms(stack, ref, "acknowledge_by")
    assert breach.kind == "sla_breached"
    assert f"{severity}: not acknowledged within" in breach.note


@pytest.mark.parametrize(("severity", "minutes"), [("SEV1", 5), ("SEV3", 60)])
def test_acknowledging_in_time_means_no_breach(severity: str, minutes: int) -> None:
    stack = make_stack(FakeClock(T0), with_tasks=False)
    ref = open_incident(stack, severity)
    tick_at(stack, minutes - 1)
    stack.incidents.acknowledge(ref, ALEX)
    tick_at(stack, minutes + 60)
    assert kinds(stack, ref, "acknowledge_by") == []
    (state,) = [c for c in stack.monitor.clocks(ref) if c.clock == "acknowledge_by"]
    assert state.state == "met"


def test_a_late_acknowledgement_between_ticks_still_counts_as_a_breach() -> None:
    stack = make_stack(FakeClock(T0), with_tasks=False)
    ref = open_incident(stack, "SEV1")
    tick_at(stack, 1)
    tick_at(stack, 9)  # the scheduler stalled past the deadline; someone acknowledged meanwhile
    stack.clock.set(T0)
    tick_at(stack, 9)
    assert kinds(stack, ref, "acknowledge_by") == ["sla_breached"]


def test_a_reopened_incident_gets_a_new_acknowledge_by_clock() -> None:
    stack = make_stack(FakeClock(T0), with_tasks=False)
    ref = open_incident(stack, "SEV2")
    tick_at(stack, 20)
    for state in ("acknowledged", "recovered", "detected"):
        stack.incidents.transition(ref, state, ALEX)
    tick_at(stack, 34)
    assert len(alarms(stack, ref, "acknowledge_by")) == 1
    tick_at(stack, 35)
    assert len(alarms(stack, ref, "acknowledge_by")) == 2
