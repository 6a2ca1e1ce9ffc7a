"""Hysteresis and auto-recovery on a fake clock: recover after a clear hold, never close."""

from __future__ import annotations

from datetime import timedelta

from tests.unit.incidents.builders import ALEX, at, finding, kinds, make_service

from mailwarden.clock import FakeClock
from mailwarden.detect.model import Finding
from mailwarden.incidents.service import IncidentService

KIND, DIM, KEY = "hard_bounce_rate", "campaign", "bf"


def _opened(service: IncidentService, clock: FakeClock) -> str:
    service.on_findings([finding(KIND, DIM, KEY, finding_id=1)])
    return service.list_incidents()[0].id


def _closed(minute_seen: float, minute_closed: float, finding_id: int = 1) -> Finding:
    return finding(
        KIND,
        DIM,
        KEY,
        minute=minute_seen,
        finding_id=finding_id,
        status="closed",
        closed_minute=minute_closed,
    )


def test_a_closed_finding_starts_the_hold_and_the_incident_recovers_after_it(
    service: IncidentService, clock: FakeClock
) -> None:
    ref = _opened(service, clock)
    clock.set(at(10))
    service.on_findings([_closed(minute_seen=5, minute_closed=10)])
    service.tick(at(11))
    held = service.get(ref)
    assert held.state == "detected" and held.hold_since == at(5)
    assert service.timeline(ref)[-1].data["phase"] == "hold_started"
    service.tick(at(19))
    assert service.get(ref).state == "detected"  # 14 minutes clear: not yet
    service.tick(at(20))
    recovered = service.get(ref)
    assert recovered.state == "recovered" and recovered.recovered_at == at(20)
    entry = service.timeline(ref)[-1]
    assert entry.kind == "transitioned" and entry.data["rule"] == "auto_recover"
    assert "back at baseline for 15 min" in entry.note


def test_a_finding_that_fires_again_during_the_hold_postpones_recovery(
    service: IncidentService, clock: FakeClock
) -> None:
    ref = _opened(service, clock)
    service.on_findings([_closed(minute_seen=5, minute_closed=10)])
    service.tick(at(11))
    clock.set(at(14))
    service.on_findings([finding(KIND, DIM, KEY, minute=14, finding_id=2)])
    entry = service.timeline(ref)[-1]
    assert entry.kind == "hysteresis" and entry.data["phase"] == "refired"
    assert "fired again 9 min into the 15 min hold" in entry.note
    service.tick(at(40))
    assert service.get(ref).state == "detected"


def test_recovery_never_closes_even_after_days_of_ticks(
    service: IncidentService, clock: FakeClock
) -> None:
    ref = _opened(service, clock)
    service.on_findings([_closed(minute_seen=5, minute_closed=10)])
    for minute in range(10, 3 * 24 * 60, 60):
        service.tick(at(minute))
    incident = service.get(ref)
    assert incident.state == "recovered" and incident.closed_at is None
    assert kinds(service.timeline(ref)).count("transitioned") == 1


def test_without_a_clear_signal_silence_for_the_quiet_time_counts_as_clear(
    clock: FakeClock,
) -> None:
    service, _repo = make_service(clock, quiet_after=timedelta(minutes=30))
    ref = _opened(service, clock)
    service.tick(at(29))
    assert service.get(ref).hold_since is None
    service.tick(at(30))
    assert service.get(ref).hold_since == at(0)
    service.tick(at(31))
    assert service.get(ref).state == "recovered"


def test_a_finding_that_fires_after_recovery_reopens_the_incident(
    service: IncidentService, clock: FakeClock
) -> None:
    ref = _opened(service, clock)
    service.on_findings([_closed(minute_seen=5, minute_closed=10)])
    service.tick(at(30))
    clock.set(at(45))
    service.on_findings([finding(KIND, DIM, KEY, minute=45, finding_id=2)])
    incident = service.get(ref)
    assert incident.state == "detected" and incident.reopen_count == 1
    assert incident.reopened_at == at(45) and incident.recovered_at == at(30)
    assert "fired again soon after recovery" in service.timeline(ref)[-1].note


def test_a_finding_that_fires_long_after_recovery_opens_a_new_incident(
    service: IncidentService, clock: FakeClock
) -> None:
    ref = _opened(service, clock)
    service.on_findings([_closed(minute_seen=5, minute_closed=10)])
    service.tick(at(30))
    clock.set(at(30 + 5 * 60))
    assert service.on_findings([finding(KIND, DIM, KEY, minute=330, finding_id=2)]) == ["opened"]
    assert service.get(ref).state == "recovered"


def test_incidents_people_opened_do_not_recover_by_themselves(
    service: IncidentService,
) -> None:
    ref = service.open_manual(incident_type="phishing", title="spoofed invoice", actor=ALEX).id
    service.tick(at(600))
    assert service.get(ref).state == "detected"


def test_a_batch_that_reopens_an_incident_lets_its_related_findings_join_it(
    service: IncidentService, clock: FakeClock
) -> None:
    ref = _opened(service, clock)
    service.on_findings([_closed(minute_seen=5, minute_closed=10)])
    service.tick(at(30))
    clock.set(at(40))
    related = finding("delivery_drop", DIM, KEY, minute=40)
    again = finding(KIND, DIM, KEY, minute=40, finding_id=2)
    assert service.on_findings([related, again]) == ["dedup", "updated"]
    (incident,) = service.list_incidents()
    assert incident.id == ref and incident.state == "detected"
    assert kinds(service.timeline(ref))[-2:] == ["transitioned", "dedup"]
