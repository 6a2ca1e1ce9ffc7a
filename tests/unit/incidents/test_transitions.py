"""The transitions table decides every move; stamps only move forward; the timeline only grows."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)
from tests.unit.incidents.builders import ALEX, T0, at, make_service

from mailwarden.clock import FakeClock
from mailwarden.incidents.desk import BadInputError
from mailwarden.incidents.model import (
    PERSON,
    SEVERITY_LEVELS,
    STATES,
    SYSTEM,
    TRANSITIONS,
    Actor,
    IllegalTransitionError,
    Incident,
    TimelineEntry,
    allowed_targets,
)
from mailwarden.incidents.service import IncidentService

ROBOT = Actor("mailwarden", SYSTEM)


def _open(service: IncidentService, title: str = "customer forwarded a phishing mail") -> str:
    return service.open_manual(incident_type="phishing", title=title, actor=ALEX).id


def test_the_forward_path_stamps_every_phase(service: IncidentService, clock: FakeClock) -> None:
    ref = _open(service)
    for minute, state in enumerate(
        ["acknowledged", "contained", "eradicated", "recovered", "closed"], 1
    ):
        clock.set(at(minute))
        service.transition(ref, state, ALEX, f"now {state}")
    incident = service.get(ref)
    assert incident.state == "closed"
    assert [incident.acknowledged_at, incident.contained_at, incident.closed_at] == [
        at(1),
        at(2),
        at(5),
    ]
    assert [e.data.get("to") for e in service.timeline(ref)][1:] == [
        "acknowledged",
        "contained",
        "eradicated",
        "recovered",
        "closed",
    ]


def test_a_responder_may_contain_before_acknowledging_which_implies_acknowledging(
    service: IncidentService, clock: FakeClock
) -> None:
    ref = _open(service)
    clock.set(at(3))
    incident = service.transition(ref, "contained", ALEX)
    assert incident.acknowledged_at == at(3) and incident.contained_at == at(3)


def test_the_system_may_recover_any_active_incident_but_never_close_one() -> None:
    for state in ("detected", "acknowledged", "contained", "eradicated"):
        assert "recovered" in allowed_targets(state, SYSTEM)
    assert "closed" not in {target for (_s, target), m in TRANSITIONS.items() if SYSTEM in m.by}


def test_an_illegal_move_is_refused_with_the_allowed_ones_listed(
    service: IncidentService,
) -> None:
    ref = _open(service)
    with pytest.raises(IllegalTransitionError) as refused:
        service.transition(ref, "closed", ALEX)
    assert refused.value.allowed == allowed_targets("detected", PERSON)
    assert "acknowledged" in str(refused.value)
    assert len(service.timeline(ref)) == 1


def test_reopening_counts_and_keeps_the_first_detection_time(
    service: IncidentService, clock: FakeClock
) -> None:
    ref = _open(service)
    service.transition(ref, "recovered", ALEX)
    service.transition(ref, "closed", ALEX)
    clock.set(at(60))
    incident = service.transition(ref, "detected", ALEX, "it is back")
    assert (incident.state, incident.reopen_count) == ("detected", 1)
    assert incident.detected_at == T0 and incident.reopened_at == at(60)


def test_a_merged_incident_cannot_be_reopened_or_moved(service: IncidentService) -> None:
    first, second = _open(service, "one"), _open(service, "two")
    service.merge(first, second, ALEX)
    assert allowed_targets("merged") == []
    with pytest.raises(IllegalTransitionError):
        service.transition(first, "detected", ALEX)


class IncidentLifecycle(RuleBasedStateMachine):
    """Random moves, merges, re-grades, notes and clock jumps (forwards and back)."""

    refs = Bundle("refs")

    @initialize()
    def start(self) -> None:
        self.clock = FakeClock(T0)
        self.service, self.repo = make_service(self.clock)
        self.expected_entries: dict[str, int] = {}
        self.seen: dict[str, list[TimelineEntry]] = {}
        self.stamps: dict[str, dict[str, datetime | None]] = {}

    @rule(target=refs)
    def open_one(self) -> str:
        ref = _open(self.service, f"report {len(self.expected_entries) + 1}")
        self.expected_entries[ref] = 1
        return ref

    @rule(minutes=st.integers(min_value=-30, max_value=240))
    def move_clock(self, minutes: int) -> None:
        self.clock.set(self.clock.now() + timedelta(minutes=minutes))

    @rule(ref=refs, to=st.sampled_from(STATES), kind=st.sampled_from([PERSON, SYSTEM]))
    def move(self, ref: str, to: str, kind: str) -> None:
        target = to
        before = self.service.get(ref)
        actor = Actor("alex") if kind == PERSON else ROBOT
        legal = (before.state, target) in TRANSITIONS and kind in TRANSITIONS[
            (before.state, target)
        ].by
        if target == "merged":
            legal = False  # merging needs a target incident: see merge()
        if not legal:
            with pytest.raises(IllegalTransitionError) as refused:
                self.service.transition(ref, target, actor)
            assert refused.value.allowed == allowed_targets(before.state, kind)
            assert self.service.get(ref).state == before.state
            return
        after = self.service.transition(ref, target, actor)
        assert after.state == target
        self.expected_entries[ref] += 1

    @rule(source=refs, into=refs)
    def merge(self, source: str, into: str) -> None:
        target = into
        a, b = self.service.get(source), self.service.get(target)
        try:
            self.service.merge(source, target, Actor("alex"))
        except BadInputError:
            assert source == target
            return
        except IllegalTransitionError:
            assert not (a.is_open and b.is_open)
            return
        assert a.is_open and b.is_open and source != target
        merged = self.service.get(source)
        assert merged.state == "merged" and merged.merged_into == b.pk
        self.expected_entries[source] += 1
        self.expected_entries[target] += 1

    @rule(ref=refs, level=st.sampled_from(SEVERITY_LEVELS))
    def regrade(self, ref: str, level: str) -> None:
        before = self.service.get(ref).severity
        if level == before:
            with pytest.raises(BadInputError):
                self.service.set_severity(ref, level, Actor("kim"), "re-graded")
            return
        assert self.service.set_severity(ref, level, Actor("kim"), "re-graded").severity == level
        self.expected_entries[ref] += 1

    @rule(ref=refs)
    def note(self, ref: str) -> None:
        self.service.add_note(ref, "checked the DMARC reports", Actor("sam"))
        self.expected_entries[ref] += 1

    @invariant()
    def one_entry_per_change_and_history_kept(self) -> None:
        for ref, count in getattr(self, "expected_entries", {}).items():
            timeline = self.service.timeline(ref)
            assert len(timeline) == count
            previous = self.seen.get(ref, [])
            assert timeline[: len(previous)] == previous, "a timeline entry changed"
            assert all(a.at <= b.at for a, b in itertools.pairwise(timeline))
            self.seen[ref] = timeline

    @invariant()
    def stamps_never_go_backwards(self) -> None:
        for ref in getattr(self, "expected_entries", {}):
            incident: Incident = self.service.get(ref)
            now = incident.stamps()
            for name, old in self.stamps.get(ref, {}).items():
                if old is not None:
                    new = now[name]
                    assert new is not None and new >= old, f"{name} went back"
            self.stamps[ref] = now


IncidentLifecycle.TestCase.settings = settings(
    max_examples=60, stateful_step_count=30, deadline=None
)
test_incident_lifecycle = IncidentLifecycle.TestCase
