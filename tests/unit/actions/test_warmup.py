"""Warm-up after a pause: 10%, 25%, 50%, 100% of normal volume per provider, day by day."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.unit.actions.gate_fakes import T0, FixedVolume, GateWorld

from mailwarden.actions.gate import GateQuery
from mailwarden.actions.gate_records import ALL
from mailwarden.actions.memory_stores import MemoryWarmupStore
from mailwarden.actions.warmup import (
    DEFAULT_SCHEDULE,
    WarmupPlanner,
    WarmupPolicy,
    parse_schedule,
)
from mailwarden.clock import FakeClock

GMAIL = {"campaign": "black-friday", "mailbox_provider": "gmail"}


def resumed(world: GateWorld) -> None:
    world.run("mailwarden.pause_sending", "p1", scope="campaign", key="black-friday", reason="x")
    world.runner.undo("p1", executed_by="carol", approved_by="carol")


def test_undoing_a_pause_resumes_on_a_ramp_of_ten_25_50_then_full_volume() -> None:
    world = GateWorld()
    resumed(world)
    seen = []
    for day in range(5):
        world.clock.set(T0 + timedelta(days=day, hours=1))
        seen.append(world.ask(**GMAIL)[:2])

    assert seen == [
        ("throttle", 60),
        ("throttle", 150),
        ("throttle", 300),
        ("allow", None),
        ("allow", None),
    ]


def test_the_ramp_steps_up_exactly_at_each_day_boundary() -> None:
    world = GateWorld()
    resumed(world)

    world.clock.set(T0 + timedelta(days=1) - timedelta(seconds=1))
    assert world.ask(**GMAIL)[1] == 60
    world.clock.set(T0 + timedelta(days=1))
    assert world.ask(**GMAIL)[1] == 150


def test_the_ttl_never_outlasts_the_next_ramp_step() -> None:
    world = GateWorld()
    resumed(world)
    world.clock.set(T0 + timedelta(days=1) - timedelta(seconds=3))

    assert world.gate.check(GateQuery(**GMAIL)).ttl_seconds == 3


def test_normal_volume_comes_from_history_per_provider() -> None:
    world = GateWorld(FixedVolume({ALL: 2000.0, "gmail": 1200.0, "microsoft": 400.0}))
    resumed(world)
    plan = world.warmups.listed()[0]

    assert plan.basis == "rollups"
    assert plan.normal == {ALL: 2000.0, "gmail": 1200.0, "microsoft": 400.0}
    assert world.volume.asked == [("campaign", "black-friday")]
    assert world.ask(campaign="black-friday", mailbox_provider="microsoft")[1] == 40


def test_without_history_the_configured_volume_stands_in_and_the_plan_says_so() -> None:
    world = GateWorld(FixedVolume(None))
    resumed(world)
    plan = world.warmups.listed()[0]

    assert plan.normal == {ALL: 100.0}
    assert plan.basis == "configured 100/min (no history)"
    assert world.ask(**GMAIL)[1] == 10  # an unknown provider takes the scope's figure


def test_a_provider_may_ramp_more_slowly_than_the_rest() -> None:
    clock = FakeClock(T0)
    policy = WarmupPolicy(per_provider={"microsoft": (0.05, 0.1, 0.25, 0.5, 1.0)})
    planner = WarmupPlanner(MemoryWarmupStore(), clock, FixedVolume({ALL: 1000.0}), policy)
    plan = planner.start("all", "*", created_by="test")

    clock.set(T0 + timedelta(days=3, hours=1))

    assert plan.rate_per_minute("gmail", clock.now()) is None  # day 4: 100%
    assert plan.rate_per_minute("microsoft", clock.now()) == 500  # day 4: 50%
    assert plan.active(clock.now())
    assert not plan.active(T0 + timedelta(days=5))


def test_undo_without_warm_up_resumes_at_full_volume() -> None:
    world = GateWorld()
    world.run(
        "mailwarden.pause_sending",
        "p1",
        scope="campaign",
        key="black-friday",
        reason="x",
        warmup=False,
    )
    world.runner.undo("p1", executed_by="carol", approved_by="carol")

    assert world.ask(**GMAIL) == ("allow", None, [])
    assert world.warmups.listed() == []


def test_a_retried_undo_starts_one_plan() -> None:
    world = GateWorld()
    resumed(world)
    plan = world.warmups.listed()[0]

    again = world.planner.start("campaign", "black-friday", created_by="x", plan_id=plan.id)

    assert again == plan and len(world.warmups.listed()) == 1


def test_cancelling_a_plan_ends_the_throttle() -> None:
    world = GateWorld()
    resumed(world)
    plan = world.warmups.listed()[0]

    assert world.planner.cancel(plan.id, "carol")
    world.gate.invalidate()

    assert world.ask(**GMAIL)[0] == "allow"


@pytest.mark.parametrize(
    ("text", "steps"),
    [
        ("10%,25%,50%,100%", DEFAULT_SCHEDULE),
        ("0.2, 0.6, 1", (0.2, 0.6, 1.0)),
        ("100%", (1.0,)),
    ],
)
def test_schedules_are_read_as_percentages_or_fractions(
    text: str, steps: tuple[float, ...]
) -> None:
    assert parse_schedule(text) == steps


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "at least one day"),
        ("50%,25%,100%", "ramp down"),
        ("10%,50%", "ends at 100%"),
        ("0%,100%", "above 0"),
        ("150%", "at most 100%"),
    ],
)
def test_bad_schedules_are_refused_with_the_reason(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_schedule(text)
