"""Reminders on tick: forgotten pauses, expiring suppressions, slow delistings, ramp days."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from tests.unit.actions.gate_fakes import T0, GateWorld

from mailwarden.actions.delisting import DelistingDesk, MemoryDelistingStore
from mailwarden.actions.records import Suppression
from mailwarden.actions.reminders import Reminder, Reminders


@dataclass
class Log:
    seen: set[tuple[str, str]] = field(default_factory=set)

    def first(self, reminder: Reminder) -> bool:
        key = (reminder.subject, reminder.kind)
        if key in self.seen:
            return False
        self.seen.add(key)
        return True

    def forget(self, reminder: Reminder) -> None:
        self.seen.discard((reminder.subject, reminder.kind))


@dataclass
class Expiring:
    world: GateWorld

    def expiring(self, after: object, until: object) -> list[Suppression]:
        return [
            s
            for s in self.world.suppressions.all()
            if s.expires_at is not None and after < s.expires_at <= until  # type: ignore[operator]
        ]


class Env:
    def __init__(self) -> None:
        self.world = GateWorld()
        self.sent: list[Reminder] = []
        self.delistings = DelistingDesk(MemoryDelistingStore(), self.world.clock)
        self.reminders = Reminders(
            Log(),
            self.sent.append,
            pauses=self.world.pauses,
            quarantines=self.world.quarantines,
            suppressions=Expiring(self.world),
            delistings=self.delistings.store,
            warmups=self.world.warmups,
        )

    def at(self, delta: timedelta) -> list[str]:
        self.world.clock.set(T0 + delta)
        return [f"{r.subject}|{r.kind}" for r in self.reminders.tick(self.world.clock.now())]


@pytest.fixture
def env() -> Env:
    return Env()


def test_a_pause_left_on_for_a_day_is_remembered_once_a_day(env: Env) -> None:
    env.world.run(
        "mailwarden.pause_sending",
        "p1",
        scope="campaign",
        key="black-friday",
        reason="spike",
        source_incident="INC-3",
    )

    assert env.at(timedelta(hours=23)) == []
    assert env.at(timedelta(hours=24)) == ["pause:p1|forgotten:1"]
    assert env.at(timedelta(hours=30)) == []  # already sent for day 1
    assert env.at(timedelta(hours=48)) == ["pause:p1|forgotten:2"]
    assert env.sent[0].incident_id == "INC-3"
    assert "has been on for 24 h with no expiry (spike)" in env.sent[0].text


def test_a_resumed_pause_is_not_remembered(env: Env) -> None:
    env.world.run("mailwarden.pause_sending", "p1", scope="all", reason="x", warmup=False)
    env.world.runner.undo("p1", executed_by="carol", approved_by="carol")

    assert env.at(timedelta(days=3)) == []


def test_a_pause_nearing_its_expiry_is_announced_a_day_ahead(env: Env) -> None:
    ends = T0 + timedelta(days=3)
    env.world.run("mailwarden.pause_sending", "p1", scope="all", reason="x", expires_at=str(ends))

    assert env.at(timedelta(days=1)) == []
    assert env.at(timedelta(days=2)) == ["pause:p1|expiring"]
    assert env.at(timedelta(days=2, hours=12)) == []


def test_a_forgotten_quarantine_is_remembered(env: Env) -> None:
    env.world.run("mailwarden.quarantine_segment", "q1", batch="import-7", reason="traps")

    assert env.at(timedelta(hours=25)) == ["quarantine:q1|forgotten:1"]


def test_suppressions_expiring_together_make_one_reminder(env: Env) -> None:
    ends = T0 + timedelta(days=30)
    env.world.run(
        "mailwarden.suppress",
        "s1",
        addresses=["a@example.com", "b@example.com", "c@example.com"],
        reason="complained",
        source_incident="INC-3",
        expires_at=str(ends),
    )

    assert env.at(timedelta(days=28)) == []
    assert env.at(timedelta(days=29, hours=1)) == ["suppressions:INC-3:2026-12-27|expiring"]
    assert env.sent[0].data["count"] == 3
    assert env.at(timedelta(days=29, hours=2)) == []


def test_a_delisting_pending_too_long_is_chased_every_two_days(env: Env) -> None:
    request = env.delistings.request("Spamhaus SBL", "203.0.113.5", by="dave", incident_id="INC-4")

    assert env.at(timedelta(hours=47)) == []
    assert env.at(timedelta(hours=48)) == [f"delisting:{request.id}|pending:1"]
    assert env.at(timedelta(hours=96)) == [f"delisting:{request.id}|pending:2"]
    assert "pending for 96 h" in env.sent[-1].text

    env.delistings.update(request.id or 0, "delisted", by="dave")
    assert env.at(timedelta(hours=200)) == []


def test_each_warm_up_day_and_its_end_go_on_the_timeline(env: Env) -> None:
    env.world.run("mailwarden.pause_sending", "p1", scope="campaign", key="c", reason="x")
    env.world.runner.undo("p1", executed_by="carol", approved_by="carol")
    plan = env.world.warmups.listed()[0]

    assert env.at(timedelta(hours=1)) == [f"warmup:{plan.id}|day:1"]
    assert env.at(timedelta(days=1, hours=1)) == [f"warmup:{plan.id}|day:2"]
    assert "day 2 at 25% of normal volume" in env.sent[-1].text
    assert env.at(timedelta(days=4, hours=1)) == [f"warmup:{plan.id}|finished"]
    assert env.at(timedelta(days=9)) == []


def test_a_reminder_whose_delivery_fails_is_retried_and_does_not_stop_others(env: Env) -> None:
    env.world.run("mailwarden.pause_sending", "p1", scope="all", reason="x")
    env.delistings.request("Barracuda", "203.0.113.6", by="dave")
    calls: list[str] = []

    def flaky(reminder: Reminder) -> None:
        calls.append(reminder.subject)
        if reminder.subject.startswith("pause"):
            raise RuntimeError("outbox down")

    env.reminders._sink = flaky
    env.world.clock.set(T0 + timedelta(days=3))
    sent = env.reminders.tick(env.world.clock.now())

    assert [r.subject for r in sent] == ["delisting:1"]
    assert len(calls) == 2

    env.reminders._sink = env.sent.append
    retried = env.reminders.tick(env.world.clock.advance(timedelta(minutes=5)))
    assert [r.subject for r in retried] == ["pause:p1"]


def test_reminders_look_at_most_every_five_minutes_however_often_tick_runs(env: Env) -> None:
    env.world.run("mailwarden.pause_sending", "p1", scope="all", reason="x")
    env.world.clock.set(T0 + timedelta(hours=23, minutes=58))
    assert env.reminders.tick(env.world.clock.now()) == []

    env.world.clock.set(T0 + timedelta(hours=24, minutes=1))  # due, but looked 3 min ago
    assert env.reminders.tick(env.world.clock.now()) == []
    env.world.clock.set(T0 + timedelta(hours=24, minutes=3))
    assert [r.kind for r in env.reminders.tick(env.world.clock.now())] == ["forgotten:1"]
