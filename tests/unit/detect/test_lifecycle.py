"""Don't cry wolf: a persisting finding is one finding, updated; it closes after a hold."""

from __future__ import annotations

from datetime import timedelta

from tests.unit.detect.factory import T0

from mailwarden.detect.lifecycle import FindingTracker
from mailwarden.detect.model import Finding, Scope

GMAIL = Scope("mailbox_provider", "gmail")


def _candidate(minute: int, observed: float = 0.3, severity: str = "warning") -> Finding:
    at = T0 + timedelta(minutes=minute)
    return Finding(
        kind="block_rate",
        scope=GMAIL,
        severity=severity,
        observed=observed,
        expected=0.002,
        evidence={"score": 9.0},
        window_start=at - timedelta(minutes=15),
        window_end=at,
        first_seen=at,
    )


def test_a_finding_that_persists_is_one_finding_updated() -> None:
    tracker = FindingTracker()
    first = tracker.apply([_candidate(0)], T0)
    assert len(first.opened) == 1
    for minute in range(1, 30):
        later = tracker.apply([_candidate(minute)], T0 + timedelta(minutes=minute))
        assert later.opened == []
    (only,) = tracker.open_findings()
    assert only.first_seen == T0
    assert only.last_seen == T0 + timedelta(minutes=29)
    assert only.window_end == T0 + timedelta(minutes=29)


def test_updates_are_published_when_they_matter_not_every_minute() -> None:
    tracker = FindingTracker(republish=timedelta(minutes=30))
    tracker.apply([_candidate(0)], T0)
    quiet = tracker.apply([_candidate(1, observed=0.31)], T0 + timedelta(minutes=1))
    assert quiet.published == []
    escalated = tracker.apply([_candidate(2, severity="critical")], T0 + timedelta(minutes=2))
    assert [f.severity for f in escalated.published] == ["critical"]
    moved = tracker.apply([_candidate(3, observed=0.6)], T0 + timedelta(minutes=3))
    assert len(moved.published) == 1


def test_severity_does_not_drop_while_open() -> None:
    tracker = FindingTracker()
    tracker.apply([_candidate(0, severity="critical")], T0)
    tracker.apply([_candidate(1, severity="warning")], T0 + timedelta(minutes=1))
    assert tracker.open_findings()[0].severity == "critical"


def test_a_finding_closes_after_the_metric_is_back_for_the_hold_time() -> None:
    tracker = FindingTracker(hold=timedelta(minutes=60))
    tracker.apply([_candidate(0)], T0)
    assert tracker.apply([], T0 + timedelta(minutes=59)).closed == []
    closed = tracker.apply([], T0 + timedelta(minutes=60)).closed
    assert [f.status for f in closed] == ["closed"]
    assert closed[0].closed_at == T0 + timedelta(minutes=60)
    again = tracker.apply([_candidate(90)], T0 + timedelta(minutes=90))
    assert len(again.opened) == 1  # a new episode is a new finding


def test_restored_findings_carry_on_after_a_restart() -> None:
    tracker = FindingTracker()
    old = _candidate(0)
    old.id = 7
    tracker.restore([old])
    changes = tracker.apply([_candidate(5)], T0 + timedelta(minutes=5))
    assert changes.opened == [] and changes.updated[0].id == 7
