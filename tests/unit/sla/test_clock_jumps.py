"""A clock that jumps forward fires each breach, reminder and page once; later ticks add nothing."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from tests.unit.sla.helpers import alarms, open_incident, tick_at
from tests.unit.team.fakes import T0, add_team, make_stack

from mailwarden.clock import FakeClock


def test_a_ten_hour_jump_fires_every_due_alarm_exactly_once() -> None:
    stack = make_stack(FakeClock(T0))
    add_team(stack.team)
    stack.team.set_policy("default", [(["rota:primary"], 10), (["person:dana"], 20)])
    ref = open_incident(stack, "SEV1", "spam_complaints")
    tick_at(stack, 600)
    first = Counter(entry.data["alarm"] for entry in alarms(stack, ref))
    for minute in (600, 601, 640, 660):
        tick_at(stack, minute)
    again = Counter(entry.data["alarm"] for entry in alarms(stack, ref))
    assert all(count == 1 for count in first.values()), first
    clocks = {entry.data.get("clock") for entry in alarms(stack, ref)}
    assert {"acknowledge_by", "contain_by", "stakeholder_update", "task"} <= clocks
    assert again - first == Counter(
        {f"update:{int(T0.timestamp())}:21": 1, f"update:{int(T0.timestamp())}:22": 1}
    )


def test_ticking_every_simulated_minute_matches_the_jump() -> None:
    stepped = make_stack(FakeClock(T0), with_tasks=False)
    jumped = make_stack(FakeClock(T0), with_tasks=False)
    for stack in (stepped, jumped):
        add_team(stack.team)
        stack.team.set_policy("default", [(["rota:primary"], 10), (["person:dana"], 20)])
    a, b = open_incident(stepped, "SEV2"), open_incident(jumped, "SEV2")
    for minute in range(0, 5 * 60 + 1):
        tick_at(stepped, minute)
    tick_at(jumped, 5 * 60)
    breaches = [e.data["alarm"] for e in alarms(stepped, a) if e.kind == "sla_breached"]
    assert breaches == [e.data["alarm"] for e in alarms(jumped, b) if e.kind == "sla_breached"]
    assert stepped.clock.now() - T0 == timedelta(hours=5)
